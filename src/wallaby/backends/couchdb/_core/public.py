"""The names both flavours export: the flavour's four classes, and these shared ones."""

from __future__ import annotations

from .errors import *  # noqa: F403
from .errors import __all__ as _errors
from .retry import Backoff
from .tls import TLSConfig

SHARED = ("Backoff", "TLSConfig", *(name for name in _errors if name != "error_from_response"))
"""What each flavour re-exports from here: the error tree, ``Backoff`` and ``TLSConfig``."""

FLAVOURED = ("Server", "Database", "Follower", "Stream")
"""What each flavour defines for itself."""

__all__ = ["Backoff", "FLAVOURED", "SHARED", "TLSConfig", *_errors]
