"""Following /_db_updates: the same Follower, server-wide (Apache CouchDB only).

CouchDB records these events in its ``_global_changes`` database a moment
after they happen, and merges the events of one database it has not written
yet: a database created and deleted at once may show as one ``deleted``.
So a test waits for one event before causing the next, and polls (bounded)
for an event to be recorded.
"""

import pytest

pytestmark = [
    pytest.mark.couchdb_only,  # PouchDB Server has no /_db_updates
    pytest.mark.server_only("the embedded store keeps no _db_updates feed"),
    pytest.mark.usefixtures("global_changes"),
]


async def test_db_updates_hands_over_created_and_deleted_databases(couch):
    server = couch.server()
    name = couch.db_name("dbu")
    seen = []
    async with server.db_updates(since="now", heartbeat=500) as feed:
        await server.create(name)
        async for event in feed:
            if event["db_name"] == name:
                seen.append(event["type"])
                if seen == ["created"]:
                    await server.delete(name)
                if event["type"] == "deleted":
                    break
        assert feed.last_seq == event["seq"]
    assert seen[0] == "created" and seen[-1] == "deleted"


async def test_db_updates_normal_feed_ends_and_resumes_from_last_seq(couch):
    server = couch.server()
    name = couch.db_name("dbu")
    async with server.db_updates(since="now") as feed:
        checkpoint = feed.last_seq
    await server.create(name)
    try:

        async def names_since_checkpoint():
            async with server.db_updates(since=checkpoint, feed="normal") as feed:
                return [event["db_name"] async for event in feed]

        names = await couch.eventually(names_since_checkpoint, until=lambda names: name in names)
        assert name in names
    finally:
        await server.delete(name)
