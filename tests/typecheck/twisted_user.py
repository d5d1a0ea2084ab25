"""What a Twisted user's type checker sees (checked by ``./dev check``, never run)."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from typing_extensions import assert_type

from wallaby.backends.couchdb import (
    Database,
    Follower,
    NotFound,
    Replication,
    ReplicationEvent,
    ReplicationResult,
    Server,
    Stream,
    SyncResult,
    replicate,
    sync,
)


@defer.inlineCallbacks
def seed_style(db: Database) -> Any:
    assert_type(db.get("a"), defer.Deferred[Any])
    assert_type(db.info(), defer.Deferred[dict[str, Any]])
    assert_type(db.server, Server)
    info = yield db.info()
    return info


async def coroutine_style(server: Server) -> None:
    db = server.database("mydb")
    assert_type(db, Database)
    assert_type(await db.info(), dict[str, Any])
    assert_type(await server.all_dbs(), list[str])
    rows = db.stream_view("_all_docs")
    assert_type(rows, Stream[dict[str, Any]])
    assert_type(rows.to_list(), defer.Deferred[list[dict[str, Any]]])
    async for row in rows:
        assert_type(row, dict[str, Any])
    feed = db.follow(since="now")
    assert_type(feed, Follower)
    async for change in feed:
        assert_type(change, dict[str, Any])
    async with Database("other") as other:
        assert_type(other, Database)
    try:
        await db.get("missing")
    except NotFound as exc:
        assert_type(exc.status, int)


async def replicating(source: Database, target: Database) -> None:
    assert_type(replicate(source, target, batch_size=100), defer.Deferred[ReplicationResult])
    assert_type(sync(source, target), defer.Deferred[SyncResult])
    live = Replication(source, target, continuous=True)
    live.start()
    assert_type(live.state, str)
    assert_type(live.close(), defer.Deferred[ReplicationResult])
    async for event in live.events():
        assert_type(event, ReplicationEvent)
