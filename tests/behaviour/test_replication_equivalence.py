"""The library's replication gives the target what the server's own ``_replicate`` gives it.

The same source (conflicts, a conflict that forks deep in a document's
history, deleted winners and deleted leaves, attachments on conflicting
leaves, a design document, a ``_local`` document) is replicated by
``replicate()`` into one database and by the server's ``/_replicate`` into
another: both must hold the same documents, the same leaves with the same
bodies and histories (deleted leaves included), the same winners and
``_conflicts``, and the same attachments by digest. Against Apache
CouchDB that is CouchDB's replicator; against PouchDB Server, PouchDB's.
"""

import pytest

from replicas import fill, rich_source, snapshot

pytestmark = pytest.mark.server_only("the server's own replicator (_replicate)")


async def test_the_target_holds_what_the_servers_own_replication_gives(couch):
    source, ours, theirs = await couch.fresh_db("eqv-src"), await couch.fresh_db("eqv"), await couch.fresh_db("eqv")
    await rich_source(source)
    await fill(source, 500, first=1000)
    result = await couch.module.replicate(source, ours, batch_size=64)
    answer = await couch.server().replicate(f"{couch.url}/{source.name}", f"{couch.url}/{theirs.name}")
    assert answer["ok"] is True and result.ok
    expected = await snapshot(theirs)
    assert await snapshot(ours) == expected
    assert expected == await snapshot(source)
    assert "_local/private" not in expected


async def test_a_replication_resumed_by_the_library_agrees_with_the_servers_too(couch):
    source, ours, theirs = await couch.fresh_db("eqv-src"), await couch.fresh_db("eqv"), await couch.fresh_db("eqv")
    await fill(source, 50)
    await couch.module.replicate(source, ours)
    await rich_source(
        source
    )  # changes the source after a first replication: conflicts arrive on a target that has them
    await couch.module.replicate(source, ours, batch_size=5)
    await couch.server().replicate(f"{couch.url}/{source.name}", f"{couch.url}/{theirs.name}")
    assert await snapshot(ours) == await snapshot(theirs)


@pytest.mark.couchdb_only  # CouchDB 3.3's option; PouchDB's replicator has none
async def test_winning_revs_only_gives_what_the_servers_own_gives(couch):
    source, ours, theirs = await couch.fresh_db("eqv-src"), await couch.fresh_db("eqv"), await couch.fresh_db("eqv")
    await rich_source(source)
    await couch.module.replicate(source, ours, winning_revs_only=True)
    await couch.server().replicate(f"{couch.url}/{source.name}", f"{couch.url}/{theirs.name}", winning_revs_only=True)
    assert await snapshot(ours) == await snapshot(theirs)
