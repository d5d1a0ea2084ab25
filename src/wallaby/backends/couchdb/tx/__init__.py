"""wallaby.backends.couchdb for Twisted: the same classes, names and results, as Deferreds.

Works on any reactor (the default one, or the asyncio reactor Scrapy uses).
``wallaby.backends.couchdb`` re-exports these names, as the seed did::

    from twisted.internet import defer
    from wallaby.backends.couchdb import Database

    @defer.inlineCallbacks
    def run():
        db = Database("mydb", url="http://admin:secret@localhost:5984")
        doc = yield db.get("docid")
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from twisted.internet import defer

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
from ._coroutines import as_deferred
from ._runtime import TwistedRuntime

__all__ = [*FLAVOURED, *SHARED, *RESULTS]

C = TypeVar("C", bound=type)


def _returns_deferred(fn: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., defer.Deferred[Any]]:
    @functools.wraps(fn)
    def method(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        return as_deferred(fn(*args, **kwargs))

    return method


def _deferred_api(cls: C) -> C:
    """Give ``cls`` a Deferred-returning twin of each public coroutine method it inherits."""
    for klass in reversed(cls.__mro__[1:]):
        for name, member in vars(klass).items():
            public = not name.startswith("_") or name in ("__aenter__", "__aexit__")
            if public and inspect.iscoroutinefunction(member):
                setattr(cls, name, _returns_deferred(member))
    return cls


@_deferred_api
class Follower(_feeds.Follower):
    __doc__ = _feeds.Follower.__doc__


@_deferred_api
class Stream(_streams.Stream[Any]):
    __doc__ = _streams.Stream.__doc__


@_deferred_api
class Server(_server.Server):
    __doc__ = _server.Server.__doc__
    _flavour = Flavour(store_or(TwistedRuntime), Stream, Follower)


@_deferred_api
class Database(_database.Database):
    __doc__ = _database.Database.__doc__
    _server_class = Server


Server._database_class = Database


@_deferred_api
class Replication(_Replication):
    __doc__ = _Replication.__doc__


@_deferred_api
class Sync(_Sync):
    __doc__ = _Sync.__doc__
    _replication_class = Replication


replicate = _returns_deferred(_replicate)
sync = _returns_deferred(_sync)
