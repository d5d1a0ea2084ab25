"""What an asyncio user's type checker sees (checked by ``./dev check``, never run)."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from wallaby.backends.couchdb.aio import (
    Database,
    NotFound,
    Replication,
    ReplicationEvent,
    ReplicationResult,
    Server,
    SyncResult,
    replicate,
    sync,
)


async def main(server: Server) -> None:
    db = server.database("mydb")
    assert_type(await db.info(), dict[str, Any])
    assert_type(await server.all_dbs(), list[str])
    async for row in db.stream_view("_all_docs"):
        assert_type(row, dict[str, Any])
    async for change in db.follow(since="now"):
        assert_type(change, dict[str, Any])
    async with Database("other") as other:
        assert_type(await other.exists("x"), bool)
    try:
        await db.get("missing")
    except NotFound as exc:
        assert_type(exc.reason, str)


async def replicating(source: Database, target: Database) -> None:
    assert_type(await replicate(source, target, batch_size=100), ReplicationResult)
    assert_type(await sync(source, target), SyncResult)
    async with Replication(source, target, continuous=True) as live:
        async for event in live.events():
            assert_type(event, ReplicationEvent)
        assert_type(await live.close(), ReplicationResult)
