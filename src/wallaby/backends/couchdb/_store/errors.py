"""The errors the engine answers with: an HTTP status, CouchDB's ``error`` and ``reason``.

Raised anywhere below a request handler and turned into the answer CouchDB
would send (``{"error": ..., "reason": ...}`` with the status); the core's
``Http`` then raises its typed error from it, exactly as for a server.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Conflict",
    "DocValidation",
    "Forbidden",
    "HttpError",
    "IllegalDocid",
    "NotFound",
    "PreconditionFailed",
    "method_not_allowed",
]


class HttpError(Exception):
    """An error answer: ``status``, ``error`` and ``reason`` as CouchDB sends them."""

    status = 500
    error = "unknown_error"

    def __init__(self, reason: str, *, status: int | None = None, error: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status
        if error is not None:
            self.error = error

    def body(self) -> dict[str, str]:
        return {"error": self.error, "reason": self.reason}


class BadRequest(HttpError):
    status = 400
    error = "bad_request"


class DocValidation(HttpError):
    status = 400
    error = "doc_validation"


class IllegalDocid(HttpError):
    status = 400
    error = "illegal_docid"


class Forbidden(HttpError):
    status = 403
    error = "forbidden"


class NotFound(HttpError):
    status = 404
    error = "not_found"

    def __init__(self, reason: str = "missing", **kwargs: object) -> None:
        super().__init__(reason, **kwargs)  # type: ignore[arg-type]


class Conflict(HttpError):
    status = 409
    error = "conflict"

    def __init__(self, reason: str = "Document update conflict.") -> None:
        super().__init__(reason)


class PreconditionFailed(HttpError):
    status = 412
    error = "precondition_failed"


def method_not_allowed(allowed: str) -> HttpError:
    """``405``, naming the methods the resource takes."""
    return HttpError(f"Only {allowed} allowed", status=405, error="method_not_allowed")
