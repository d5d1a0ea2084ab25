"""The one request path of the core: URL, headers, body, status -> error.

Every call of every flavour goes through ``Http.send``; this is where an
error status becomes a typed error and where JSON goes in and out.
"""

from __future__ import annotations

import base64
from typing import Any, Mapping

from ._errors import InvalidType, error_from_response
from ._json import JSONDecodeError, dumps, loads
from ._runtime import Response, Runtime, Timeouts

__all__ = ["Http", "basic_auth"]

_JSON = "application/json"
_UNSET: Any = object()


def basic_auth(user: str, password: str | None) -> str:
    if not isinstance(user, str) or not isinstance(password or "", str):
        raise InvalidType("user and password must be str")
    token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
    return f"Basic {token}"


def _decode_error_body(raw: bytes) -> Any:
    try:
        return loads(raw)
    except JSONDecodeError:
        text = raw.decode("utf-8", "replace").strip()
        return {"reason": text[:300]} if text else None


class Http:
    """A server's base URL, its auth headers and its Runtime."""

    __slots__ = ("runtime", "base", "timeouts", "_headers", "_json_headers")

    def __init__(self, runtime: Runtime, base: str, auth: str | None, timeouts: Timeouts) -> None:
        self.runtime = runtime
        self.base = base
        self.timeouts = timeouts
        self._headers = {"Accept": _JSON}
        if auth:
            self._headers["Authorization"] = auth
        self._json_headers = {**self._headers, "Content-Type": _JSON}

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
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = _UNSET,
        view: bool = False,
    ) -> Response:
        """Send a request; an error status raises its typed error."""
        url = f"{self.base}{path}{query}"
        if content_type is None:
            hdrs: Mapping[str, str] = self._headers
        elif content_type == _JSON:
            hdrs = self._json_headers
        else:
            hdrs = {**self._headers, "Content-Type": content_type}
        if headers:
            hdrs = {**hdrs, **headers}
        if read_timeout is _UNSET:
            read_timeout = self.timeouts.read
        response = await self.runtime.request(method, url, hdrs, body, read_timeout)
        if response.status >= 400:
            raw = await response.read()
            raise error_from_response(response.status, _decode_error_body(raw), method, url, view=view)
        return response

    async def json(
        self,
        method: str,
        path: str,
        query: str = "",
        body: Any = _UNSET,
        *,
        view: bool = False,
    ) -> Any:
        """Send ``body`` as JSON (if given) and decode CouchDB's JSON answer."""
        if body is _UNSET:
            response = await self.send(method, path, query, view=view)
        else:
            response = await self.send(method, path, query, body=dumps(body), content_type=_JSON, view=view)
        raw = await response.read()
        return loads(raw) if raw else None
