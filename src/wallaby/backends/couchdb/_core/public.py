"""The names both flavours export: the flavour's own classes and functions, and these shared ones."""

from __future__ import annotations

from .errors import (
    BadRequest,
    ClientError,
    Conflict,
    CouchDBError,
    DocumentUpdateConflict,
    Forbidden,
    InvalidArgument,
    InvalidType,
    NetworkError,
    NotFound,
    PreconditionFailed,
    ProtocolError,
    ResponseError,
    ServerError,
    Timeout,
    TLSError,
    TruncatedBody,
    Unauthorized,
    UnknownError,
    ViewBadRequest,
    ViewClientError,
    ViewConflict,
    ViewError,
    ViewForbidden,
    ViewNotFound,
    ViewPreconditionFailed,
    ViewServerError,
    ViewUnauthorized,
)
from .retry import Backoff
from .tls import TLSConfig

FLAVOURED = ("Server", "Database", "Follower", "Stream", "Replication", "Sync", "replicate", "sync")
"""What each flavour defines for itself (under Twisted, what returns Deferreds)."""

RESULTS = ("ReplicationEvent", "ReplicationResult", "SyncResult")
"""What each flavour re-exports from the replicator (``_replicator.progress``): plain data."""

SHARED = (
    "Backoff",
    "TLSConfig",
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
)
"""What each flavour re-exports from here: ``Backoff``, ``TLSConfig`` and the error tree."""

__all__ = [
    "Backoff",
    "TLSConfig",
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
]
