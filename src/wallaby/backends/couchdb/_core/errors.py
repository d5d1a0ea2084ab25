"""The one exception tree of both flavours.

::

    CouchDBError                      (alias UnknownError, the seed's name)
    ├── InvalidArgument (ValueError)  bad input, raised before any request is sent
    │   └── InvalidType (TypeError)   an argument of the wrong type
    ├── ResponseError                 CouchDB answered with a 4xx or 5xx status
    │   ├── ClientError               any 4xx
    │   │   ├── BadRequest            400
    │   │   ├── Unauthorized          401
    │   │   ├── Forbidden             403
    │   │   ├── NotFound              404
    │   │   ├── Conflict              409 (alias DocumentUpdateConflict)
    │   │   └── PreconditionFailed    412
    │   └── ServerError               any 5xx
    ├── NetworkError                  no HTTP answer: refused, reset, cut mid-body
    │   ├── Timeout                   no answer within the connect or read timeout
    │   ├── TLSError                  the TLS handshake failed (certificate not trusted...)
    │   └── TruncatedBody             a streamed answer ended before its JSON did
    ├── ProtocolError                 an answer that is not what CouchDB sends
    └── ViewError                     a view query failed (the seed's name); each
        ├── ViewBadRequest            ViewX is also X: ViewNotFound is a NotFound,
        ├── ViewUnauthorized          so ``except NotFound`` catches a missing view
        ├── ViewForbidden             and ``except ViewError`` any failed query
        ├── ViewNotFound
        ├── ViewConflict
        ├── ViewPreconditionFailed
        ├── ViewClientError           another 4xx
        └── ViewServerError           a 5xx

Every error carries ``status`` (None when no response came), CouchDB's ``error``
and ``reason``, the ``method`` and the ``url`` with credentials removed (the
library never puts credentials in a URL it builds, so nothing needs scrubbing).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "ClientError",
    "Conflict",
    "CouchDBError",
    "DocumentUpdateConflict",
    "Forbidden",
    "InvalidArgument",
    "InvalidType",
    "NetworkError",
    "NotFound",
    "PreconditionFailed",
    "ProtocolError",
    "ResponseError",
    "ServerError",
    "TLSError",
    "Timeout",
    "TruncatedBody",
    "Unauthorized",
    "UnknownError",
    "ViewBadRequest",
    "ViewClientError",
    "ViewConflict",
    "ViewError",
    "ViewForbidden",
    "ViewNotFound",
    "ViewPreconditionFailed",
    "ViewServerError",
    "ViewUnauthorized",
    "error_from_response",
]


class CouchDBError(Exception):
    """Root of every error the library raises."""

    status: int | None = None

    def __init__(
        self,
        reason: str = "",
        *,
        status: int | None = None,
        error: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.reason = reason
        if status is not None:
            self.status = status
        self.error = error
        self.method = method
        self.url = url
        super().__init__(self._message())

    def _message(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(str(self.status))
        if self.error:
            parts.append(self.error)
        head = " ".join(parts)
        text = f"{head}: {self.reason}" if head and self.reason else head or self.reason
        if self.method and self.url:
            text = f"{text} ({self.method} {self.url})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "status": self.status,
            "error": self.error,
            "method": self.method,
            "url": self.url,
        }
        return (_rebuild, (type(self), self.reason, kwargs))


def _rebuild(cls: type[CouchDBError], reason: str, kwargs: dict[str, Any]) -> CouchDBError:
    return cls(reason, **kwargs)


UnknownError = CouchDBError


class InvalidArgument(CouchDBError, ValueError):
    """An argument CouchDB would refuse or that cannot be sent; no request was made."""


class InvalidType(InvalidArgument, TypeError):
    """An argument of the wrong type; no request was made."""


class ResponseError(CouchDBError):
    """CouchDB answered with an error status."""


class ClientError(ResponseError):
    """A 4xx answer."""


class BadRequest(ClientError):
    status = 400


class Unauthorized(ClientError):
    status = 401


class Forbidden(ClientError):
    status = 403


class NotFound(ClientError):
    status = 404


class Conflict(ClientError):
    status = 409


DocumentUpdateConflict = Conflict


class PreconditionFailed(ClientError):
    status = 412


class ServerError(ResponseError):
    """A 5xx answer."""


class NetworkError(CouchDBError):
    """No complete HTTP answer: the connection was refused, reset or cut."""


class Timeout(NetworkError):
    """The server did not connect or answer within the configured timeout."""


class TLSError(NetworkError):
    """The TLS handshake failed: an untrusted or wrong certificate, or none where one is required."""


class TruncatedBody(NetworkError):
    """A streamed answer ended before its JSON did (the connection was closed early)."""


class ProtocolError(CouchDBError):
    """An answer CouchDB would not send: a feed line or a body that is not the JSON expected."""


class ViewError(CouchDBError):
    """A view query failed (the seed's name); also its status's ResponseError."""


class ViewBadRequest(ViewError, BadRequest):
    """A view query CouchDB refused as malformed (400): a bad key, an unknown option."""


class ViewUnauthorized(ViewError, Unauthorized):
    """A view query without valid credentials (401)."""


class ViewForbidden(ViewError, Forbidden):
    """A view query by a user who may not read the database (403)."""


class ViewNotFound(ViewError, NotFound):
    """A view, design document or database that does not exist (404)."""


class ViewConflict(ViewError, Conflict):
    """A view query answered 409."""


class ViewPreconditionFailed(ViewError, PreconditionFailed):
    """A view query answered 412."""


class ViewClientError(ViewError, ClientError):
    """A view query answered with another 4xx."""


class ViewServerError(ViewError, ServerError):
    """A view query that failed on the server (5xx): a map or reduce function that crashed."""


_BY_STATUS: dict[int, type[ResponseError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
}

_VIEW_BY_CLASS: dict[type[ResponseError], type[ResponseError]] = {
    BadRequest: ViewBadRequest,
    Unauthorized: ViewUnauthorized,
    Forbidden: ViewForbidden,
    NotFound: ViewNotFound,
    Conflict: ViewConflict,
    PreconditionFailed: ViewPreconditionFailed,
    ClientError: ViewClientError,
    ServerError: ViewServerError,
}


def error_from_response(status: int, body: Any, method: str, url: str, *, view: bool = False) -> ResponseError:
    """The typed error for an error status; ``body`` is CouchDB's decoded JSON, if any."""
    error = reason = None
    if isinstance(body, dict):
        error = body.get("error")
        reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        reason = str(reason)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ClientError)
    if view:
        cls = _VIEW_BY_CLASS[cls]
    return cls(reason or "", status=status, error=error, method=method, url=url)
