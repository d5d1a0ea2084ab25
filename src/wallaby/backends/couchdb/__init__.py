"""wallaby.backends.couchdb: an asynchronous interface to Apache CouchDB 3.x.

This module is the Twisted flavour, with the seed's API: every method returns
a Deferred, so ``doc = yield db.get("docid")`` works inside
``inlineCallbacks`` and ``await db.get("docid")`` inside a coroutine run by
``Deferred.fromCoroutine``. The asyncio flavour, with the same names and
results, is ``wallaby.backends.couchdb.aio``; the Twisted one is also
``wallaby.backends.couchdb.tx``.

Twisted is imported only when one of the flavour's names (``Server``,
``Database``, ``Follower``, ``Stream``, ``Replication``, ``Sync``,
``replicate``, ``sync``) is first used from here, so importing the asyncio
flavour never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._core.public import *  # noqa: F403
from ._core.public import FLAVOURED, RESULTS, SHARED
from ._replicator.progress import (
    ReplicationEvent as ReplicationEvent,
    ReplicationResult as ReplicationResult,
    SyncResult as SyncResult,
)

if TYPE_CHECKING:
    from .tx import (
        Database as Database,
        Follower as Follower,
        Replication as Replication,
        Server as Server,
        Stream as Stream,
        Sync as Sync,
        replicate as replicate,
        sync as sync,
    )

__all__ = [*FLAVOURED, *SHARED, *RESULTS]


def __getattr__(name: str) -> Any:
    if name in FLAVOURED:
        from . import tx

        return getattr(tx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
