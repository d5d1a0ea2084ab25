"""The one request path of the core: URL, headers, body, status -> error.

Every call of every flavour goes through ``Http.send``; this is where an
error status becomes a typed error and where JSON goes in and out.

Rules kept here:

- A runtime that answers in this process (``in_process``: the embedded
  store) gets each JSON body as a ``JsonBody``, and may answer one: the
  value crosses as it is, with its bytes beside it, instead of being
  encoded on one side and decoded again on the other.
- With the ``wallaby.backends.couchdb.http`` logger at DEBUG, each request
  is logged when sent and when answered, under a request id of this process
  (``#17``) and with CouchDB's own ``X-Couch-Request-ID``, which its log
  shows too. A logged URL holds no credentials: they never enter a URL here.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any

from .auth import Auth
from .errors import ProtocolError, error_from_response
from .json import JSON_TYPE, JsonBody, JSONDecodeError, dumps, loads
from .runtime import Response, Runtime, Timeouts

__all__ = ["Http"]

log = logging.getLogger("wallaby.backends.couchdb.http")
_request_ids = itertools.count(1)

_UNSET: Any = object()
# Sent again after a session is renewed: idempotent methods with the body in memory, never a POST.
_REPLAYABLE = frozenset(("GET", "HEAD", "PUT", "DELETE"))


def _decode_error_body(raw: bytes) -> Any:
    try:
        return loads(raw)
    except JSONDecodeError:
        text = raw.decode("utf-8", "replace").strip()
        return {"reason": text[:300]} if text else None


class Http:
    """A server's base URL, its Auth (see ``_auth``) and its Runtime."""

    __slots__ = ("runtime", "base", "timeouts", "auth", "_headers", "_json_headers", "_encode")

    def __init__(self, runtime: Runtime, base: str, auth: Auth | None, timeouts: Timeouts) -> None:
        self.runtime = runtime
        self._encode: Callable[[Any], bytes] = JsonBody.of if getattr(runtime, "in_process", False) else dumps
        self.base = base
        self.timeouts = timeouts
        self.set_auth(auth)

    def set_auth(self, auth: Auth | None) -> None:
        """Authenticate the requests sent from now on with ``auth`` (None: anonymously)."""
        self.auth = auth
        self._headers = {"Accept": JSON_TYPE}
        if auth is not None:
            self._headers.update(auth.fixed_headers())
        self._json_headers = {**self._headers, "Content-Type": JSON_TYPE}

    def __repr__(self) -> str:
        return f"<Http {self.base}>"

    def url(self, path: str, query: str = "") -> str:
        return f"{self.base}{path}{query}"

    async def send(
        self,
        method: str,
        path: str,
        query: str = "",
        *,
        body: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = _UNSET,
        view: bool = False,
    ) -> Response:
        """Send a request; an error status raises its typed error."""
        url = f"{self.base}{path}{query}"
        if content_type is None:
            hdrs: Mapping[str, str] = self._headers
        elif content_type == JSON_TYPE:
            hdrs = self._json_headers
        else:
            hdrs = {**self._headers, "Content-Type": content_type}
        if headers:
            hdrs = {**hdrs, **headers}
        if read_timeout is _UNSET:
            read_timeout = self.timeouts.read
        request_id = 0
        if log.isEnabledFor(logging.DEBUG):
            request_id = next(_request_ids)
            log.debug("#%d %s %s", request_id, method, url)
        auth = self.auth
        if auth is not None and auth.dynamic:
            response = await self._authenticated(auth, method, url, hdrs, body, read_timeout, view)
        else:
            response = await self.runtime.request(method, url, hdrs, body, read_timeout)
        if request_id:
            couch_id = response.header("X-Couch-Request-ID") or "-"
            log.debug("#%d %s %s -> %d (CouchDB request %s)", request_id, method, url, response.status, couch_id)
        if response.status >= 400:
            raw = await response.read()
            raise error_from_response(response.status, _decode_error_body(raw), method, url, view=view)
        return response

    async def _authenticated(
        self,
        auth: Auth,
        method: str,
        url: str,
        hdrs: Mapping[str, str],
        body: Any,
        read_timeout: float | None,
        view: bool,
    ) -> Response:
        """A request with per-request credentials; after a 401, renewed ones, once."""
        credentials, stamp = await auth.headers(self)
        response = await self.runtime.request(method, url, {**hdrs, **credentials}, body, read_timeout)
        auth.answered(response)
        if response.status != 401:
            return response
        raw = await response.read()
        if not await auth.renew(self, stamp):
            raise error_from_response(401, _decode_error_body(raw), method, url, view=view)
        if method not in _REPLAYABLE or not (body is None or isinstance(body, bytes)):
            answer = _decode_error_body(raw)
            answer = answer if isinstance(answer, dict) else {}
            note = f"the session had ended and is renewed, but a {method} is never sent twice: send it again"
            reason = f"{answer.get('reason')}; {note}" if answer.get("reason") else note
            raise error_from_response(401, {**answer, "reason": reason}, method, url, view=view)
        credentials, _ = await auth.headers(self)
        response = await self.runtime.request(method, url, {**hdrs, **credentials}, body, read_timeout)
        auth.answered(response)
        return response

    async def json(
        self,
        method: str,
        path: str,
        query: str = "",
        body: Any = _UNSET,
        *,
        data: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = _UNSET,
        view: bool = False,
    ) -> Any:
        """Send a request and decode CouchDB's JSON answer (None for an empty one).

        ``body`` is sent as JSON; ``data`` (bytes, or an async iterable of them)
        is sent as it is, with ``content_type``.
        """
        if body is not _UNSET:
            data, content_type = self._encode(body), JSON_TYPE
        response = await self.send(
            method,
            path,
            query,
            body=data,
            content_type=content_type,
            headers=headers,
            read_timeout=read_timeout,
            view=view,
        )
        return self._decoded(response.status, await response.read(), method, path, query)

    async def write(
        self,
        method: str,
        path: str,
        query: str = "",
        body: Any = _UNSET,
        *,
        data: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        reshape: Callable[[Any], Any] | None = None,
    ) -> dict[str, Any]:
        """A document write's answer (a JSON object), ``"accepted": True`` added to a 202.

        CouchDB answers 201 Created when the write reached ``w`` copies of the
        document (a majority unless ``w=`` says otherwise) and 202 Accepted
        when fewer took it: a node is down, or a copy that had not yet seen
        the newer rev took a stale one (the document now has a conflict).
        ``batch="ok"`` is answered 202 too. The body is the same either way.
        ``reshape`` turns another server's answer into CouchDB's first.
        """
        if body is not _UNSET:
            data, content_type = self._encode(body), JSON_TYPE
        response = await self.send(method, path, query, body=data, content_type=content_type, headers=headers)
        status = response.status
        answer = self._decoded(status, await response.read(), method, path, query)
        if reshape is not None:
            answer = reshape(answer)
        if not isinstance(answer, dict):
            raise _unexpected("an object", answer, method, self.url(path, query))
        if status == 202:
            answer["accepted"] = True
        return answer

    def _decoded(self, status: int, raw: bytes, method: str, path: str, query: str) -> Any:
        """CouchDB's JSON answer (None for an empty one); anything else is a ProtocolError."""
        if type(raw) is JsonBody:
            return raw.value
        try:
            return loads(raw) if raw else None
        except JSONDecodeError:
            raise ProtocolError(
                f"the answer is not JSON: {raw[:200]!r}", status=status, method=method, url=self.url(path, query)
            ) from None

    async def json_dict(
        self, method: str, path: str, query: str = "", body: Any = _UNSET, **options: Any
    ) -> dict[str, Any]:
        """``json()`` for an endpoint that answers a JSON object; anything else is a ProtocolError."""
        answer = await self.json(method, path, query, body, **options)
        if not isinstance(answer, dict):
            raise _unexpected("an object", answer, method, self.url(path, query))
        return answer

    async def json_list(self, method: str, path: str, query: str = "", body: Any = _UNSET, **options: Any) -> list[Any]:
        """``json()`` for an endpoint that answers a JSON array; anything else is a ProtocolError."""
        answer = await self.json(method, path, query, body, **options)
        if not isinstance(answer, list):
            raise _unexpected("an array", answer, method, self.url(path, query))
        return answer


def _unexpected(wanted: str, answer: Any, method: str, url: str) -> ProtocolError:
    return ProtocolError(f"expected {wanted} as the answer, not {type(answer).__name__}", method=method, url=url)
