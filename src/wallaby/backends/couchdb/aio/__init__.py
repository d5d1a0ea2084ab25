"""wallaby.backends.couchdb for asyncio: the same classes, names and results, as coroutines.

::

    from wallaby.backends.couchdb.aio import Database

    async with Database("mydb", url="http://admin:secret@localhost:5984") as db:
        doc = await db.get("docid")
"""

from __future__ import annotations

from typing import Any

from .._api import database as _database, server as _server
from .._core import feeds as _feeds, streams as _streams
from .._core.client import Flavour
from .._core.public import *  # noqa: F403
from .._core.public import FLAVOURED, RESULTS, SHARED
from .._replicator.progress import (
    ReplicationEvent as ReplicationEvent,
    ReplicationResult as ReplicationResult,
    SyncResult as SyncResult,
)
from .._replicator.replication import Replication as _Replication, replicate as _replicate
from .._replicator.sync import Sync as _Sync, sync as _sync
from .._store.flavour import store_or
from ._runtime import AioRuntime

__all__ = [*FLAVOURED, *SHARED, *RESULTS]


class Follower(_feeds.Follower):
    __doc__ = _feeds.Follower.__doc__


class Stream(_streams.Stream[Any]):
    __doc__ = _streams.Stream.__doc__


class Server(_server.Server):
    __doc__ = _server.Server.__doc__
    _flavour = Flavour(store_or(AioRuntime), Stream, Follower)


class Database(_database.Database):
    __doc__ = _database.Database.__doc__
    _server_class = Server


Server._database_class = Database


class Replication(_Replication):
    __doc__ = _Replication.__doc__


class Sync(_Sync):
    __doc__ = _Sync.__doc__
    _replication_class = Replication


replicate = _replicate
sync = _sync
