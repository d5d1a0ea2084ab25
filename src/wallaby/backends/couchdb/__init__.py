"""wallaby.backends.couchdb: an asynchronous interface to Apache CouchDB 3.x.

This module is the Twisted flavour, with the seed's API: every method returns
a Deferred, so ``doc = yield db.get("docid")`` works inside
``inlineCallbacks`` and ``await db.get("docid")`` inside a coroutine run by
``Deferred.fromCoroutine``. The asyncio flavour, with the same names and
results, is ``wallaby.backends.couchdb.aio``.

Twisted is imported only when ``Server`` or ``Database`` is first used from
here, so importing the asyncio flavour never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import *  # noqa: F403
from ._errors import __all__ as _error_names
from ._retry import Backoff
from ._tls import TLSConfig

if TYPE_CHECKING:
    from ._tx import Database, Follower, Server, Stream

__all__ = ["Server", "Database", "Follower", "Stream", "Backoff", "TLSConfig", *_error_names]


def __getattr__(name: str) -> Any:
    if name in ("Server", "Database", "Follower", "Stream"):
        from . import _tx

        return getattr(_tx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
