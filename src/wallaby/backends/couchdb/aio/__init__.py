"""wallaby.backends.couchdb for asyncio: the same classes, names and results, as coroutines.

::

    from wallaby.backends.couchdb.aio import Database

    async with Database("mydb", url="http://admin:secret@localhost:5984") as db:
        doc = await db.get("docid")
"""

from __future__ import annotations

from .. import _database, _feeds, _server, _streams
from .._errors import *  # noqa: F403
from .._errors import __all__ as _error_names
from .._retry import Backoff
from .._tls import TLSConfig
from ._runtime import AioRuntime

__all__ = ["Server", "Database", "Follower", "Stream", "Backoff", "TLSConfig", *_error_names]


class Follower(_feeds.Follower):
    __doc__ = _feeds.Follower.__doc__


class Stream(_streams.Stream):  # type: ignore[type-arg]
    __doc__ = _streams.Stream.__doc__


class Server(_server.Server):
    __doc__ = _server.Server.__doc__
    _make_runtime = AioRuntime
    _follower_class = Follower
    _stream_class = Stream


class Database(_database.Database):
    __doc__ = _database.Database.__doc__
    _server_class = Server
    _follower_class = Follower


Server._database_class = Database
