"""wallaby.backends.couchdb: an asynchronous interface to Apache CouchDB 3.x.

This module is the Twisted flavour, with the seed's API: every method returns
a Deferred, so ``doc = yield db.get("docid")`` works inside
``inlineCallbacks`` and ``await db.get("docid")`` inside a coroutine run by
``Deferred.fromCoroutine``. The asyncio flavour, with the same names and
results, is ``wallaby.backends.couchdb.aio``; the Twisted one is also
``wallaby.backends.couchdb.tx``.

Twisted is imported only when ``Server``, ``Database``, ``Follower`` or
``Stream`` is first used from here, so importing the asyncio flavour never
imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._core.public import *  # noqa: F403
from ._core.public import FLAVOURED, SHARED

if TYPE_CHECKING:
    from .tx import Database as Database, Follower as Follower, Server as Server, Stream as Stream

__all__ = [*FLAVOURED, *SHARED]


def __getattr__(name: str) -> Any:
    if name in FLAVOURED:
        from . import tx

        return getattr(tx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
