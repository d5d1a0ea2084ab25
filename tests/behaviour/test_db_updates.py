"""Following /_db_updates: the same Follower, server-wide (Apache CouchDB only)."""

import pytest

pytestmark = [
    pytest.mark.couchdb_only,  # PouchDB Server has no /_db_updates
    pytest.mark.server_only("the embedded store keeps no _db_updates feed"),
]


async def ensure_global_changes(server, couch):
    try:
        await server.create("_global_changes")
    except couch.module.PreconditionFailed:
        pass


async def test_db_updates_hands_over_created_and_deleted_databases(couch):
    server = couch.server()
    await ensure_global_changes(server, couch)
    name = couch.db_name("dbu")
    seen = []
    async with server.db_updates(since="now", heartbeat=500) as feed:
        await server.create(name)
        await server.delete(name)
        async for event in feed:
            if event["db_name"] == name:
                seen.append(event["type"])
            if "deleted" in seen:
                break
        assert feed.last_seq == event["seq"]
    assert seen[0] == "created" and seen[-1] == "deleted"


async def test_db_updates_normal_feed_ends_and_resumes_from_last_seq(couch):
    server = couch.server()
    await ensure_global_changes(server, couch)
    first = couch.db_name("dbu")
    async with server.db_updates(since="now") as feed:
        checkpoint = feed.last_seq
    await server.create(first)
    async with server.db_updates(since=checkpoint, feed="normal") as feed:
        names = [event["db_name"] async for event in feed]
    await server.delete(first)
    assert first in names
