"""A request as the engine sees it, and the reply it gives.

Rules kept here:

- The path is split on ``/`` and then each segment decoded, so an id sent
  as ``a%2Fb`` is the one segment ``a/b`` and ``_design/x`` is two.
- Query options are text, read as CouchDB reads them: booleans are ``true``
  or ``false``, numbers are whole numbers, JSON options are JSON; anything
  else is a ``400 bad_request`` (``query_parse_error`` for view options).
- A reply's body is bytes or an async iterator of bytes (a feed, an
  attachment); headers are a plain dict.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any
from urllib.parse import unquote

import orjson

from .._core.json import JsonBody, JSONDecodeError, loads
from .._core.runtime import Runtime
from .errors import BadRequest, HttpError

__all__ = ["JSON_HEADERS", "Reply", "Request", "collect", "json_reply", "error_reply", "own_json_reply"]

JSON_HEADERS = {"Content-Type": "application/json"}

_TRUE = ("true",)
_FALSE = ("false",)


def _parse_query(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        found[unquote(name.replace("+", " "))] = unquote(value.replace("+", " "))
    return found


class Request:
    """One request to the engine: method, decoded path segments, query options, headers, body."""

    __slots__ = ("method", "parts", "query", "headers", "body", "runtime", "url", "partition")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        runtime: Runtime,
        url: str,
    ) -> None:
        self.method = method
        self.parts = [unquote(part) for part in path.split("/")[1:]] if path not in ("", "/") else []
        if self.parts and self.parts[-1] == "" and len(self.parts) == 1:
            self.parts = []
        self.query = _parse_query(query) if query else {}
        self.headers = headers
        self.body = body
        self.runtime = runtime
        self.url = url
        self.partition: str | None = None
        """The partition of a ``/{db}/_partition/{p}/...`` query."""

    def header(self, name: str) -> str | None:
        """A request header by lowercase name."""
        for key, value in self.headers.items():
            if key.lower() == name:
                return value
        return None

    # --- the body ------------------------------------------------------------------

    async def read_body(self) -> bytes:
        body = self.body
        if body is None:
            return b""
        if isinstance(body, bytes):
            return body
        data = self.body = b"".join([chunk async for chunk in body])
        return data

    async def json(self) -> Any:
        raw = await self.read_body()
        try:
            return loads(raw)
        except JSONDecodeError:
            raise BadRequest("invalid UTF-8 JSON", error="bad_request") from None

    async def json_object(self) -> dict[str, Any]:
        value = await self.json()
        if not isinstance(value, dict):
            raise BadRequest("Request body must be a JSON object")
        return value

    # --- query options ---------------------------------------------------------------

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        if value is None:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise BadRequest(f"Invalid boolean parameter: {name!r}", error="query_parse_error")

    def number(self, name: str, default: int | None = None, *, least: int = 0) -> int | None:
        value = self.query.get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise BadRequest(f"Invalid value for integer: {value!r}", error="query_parse_error") from None
        if number < least:
            raise BadRequest(f"Invalid value for {name}: {value!r}", error="query_parse_error")
        return number

    def json_option(self, name: str, default: Any = None) -> Any:
        value = self.query.get(name)
        if value is None:
            return default
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise BadRequest(f"Invalid JSON in {name}: {value!r}", error="bad_request") from None


class Reply:
    """What the engine answers: a status, headers, and a body (bytes, or chunks as they come)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes | AsyncIterator[bytes] = b"") -> None:
        self.status = status
        self.headers = headers
        self.body = body


def json_reply(status: int, value: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {**JSON_HEADERS, **headers} if headers else JSON_HEADERS, orjson.dumps(value))


def own_json_reply(status: int, value: Any) -> Reply:
    """A JSON reply that a caller in this process takes as it is (``JsonBody``): ``value`` is made for it alone."""
    return Reply(status, JSON_HEADERS, JsonBody.of(value))


def error_reply(error: HttpError) -> Reply:
    return json_reply(error.status, error.body())


async def collect(reply: Reply) -> bytes:
    """A reply's whole body (for an answer made of others, as ``.../queries`` is)."""
    body = reply.body
    if isinstance(body, bytes):
        return body
    return b"".join([chunk async for chunk in body])
