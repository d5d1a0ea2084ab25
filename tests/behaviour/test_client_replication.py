"""Replication run by the library (``replicate``, ``Replication``, ``sync``, ``Sync``) between two Databases.

The databases here are on the test server; nothing in the replicator knows
where they are, so the same calls replicate between two servers that cannot
reach each other, or from and to the embedded store.
"""

import pytest

from replicas import REV_B, REV_C, VALIDATE_NO_REJECTS, counting, fill, rich_source, seq_number, snapshot
from wallaby.backends.couchdb import Backoff, InvalidArgument, InvalidType, NotFound, Unauthorized

FAST = Backoff(first=0.02, cap=0.2, retries=5)


async def new_db(couch, server=None, prefix="repl"):
    """A fresh database on ``server`` (a Server of the test server by default), deleted after the test."""
    server = server or couch.server()
    db = server.database(couch.db_name(prefix))
    await db.create()
    couch._dbs.append(db)
    return db


async def ids(db):
    return sorted(row["id"] for row in await db.view("_all_docs"))


async def test_replicate_copies_every_document_and_reports_what_it_did(couch):
    source, target = await new_db(couch), await new_db(couch)
    written = await fill(source, 1200)
    result = await couch.module.replicate(source, target, batch_size=500)
    assert (result.ok, result.state) == (True, "completed")
    assert (result.docs_read, result.docs_written, result.doc_write_failures) == (1200, 1200, 0)
    assert result.missing_checked == result.missing_found == 1200
    assert result.errors == []
    assert seq_number(result.last_seq) == seq_number((await source.info())["update_seq"])
    assert await ids(target) == written
    assert (await target.get("doc000042"))["n"] == 42


async def test_conflicts_deletions_attachments_and_design_documents_come_over_but_local_ones_do_not(couch):
    source, target = await new_db(couch), await new_db(couch)
    await rich_source(source)
    result = await couch.module.replicate(source, target, batch_size=7)
    assert result.doc_write_failures == 0
    copied = await snapshot(target)
    assert copied == await snapshot(source)
    assert copied["conflicted0"]["winner"]["conflicts"] == [REV_C]
    assert [leaf["deleted"] for leaf in copied["conflicted0"]["leaves"].values()].count(True) == 1
    with pytest.raises(NotFound):
        await target.get("_local/private")


async def test_attachments_arrive_whole(couch):
    source, target = await new_db(couch), await new_db(couch)
    await rich_source(source)
    await couch.module.replicate(source, target)
    assert await target.get_attachment("files", "note.txt") == b"hello replicator " * 500
    assert await target.get_attachment("files", "blob.bin") == bytes(range(256)) * 64


async def test_a_second_run_starts_at_the_checkpoint_and_reads_only_what_changed(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 300)
    first = await couch.module.replicate(source, target, batch_size=100)
    await fill(source, 50, first=300)
    second = await couch.module.replicate(source, target, batch_size=100)
    assert second.replication_id == first.replication_id
    assert second.start_last_seq == first.last_seq
    assert (second.missing_checked, second.docs_written) == (50, 50)
    assert len(await ids(target)) == 350


async def test_rerunning_a_finished_replication_costs_three_requests(couch):
    server = couch.server()
    source, target = await new_db(couch, server), await new_db(couch, server)
    await fill(source, 200)
    await couch.module.replicate(source, target)
    requests = counting(server).requests
    result = await couch.module.replicate(source, target)
    assert result.docs_read == 0
    assert len(requests) <= 4, requests
    assert [method for method, _ in requests] == ["GET", "GET", "GET"]  # two checkpoints, one empty page


async def test_checkpoints_are_written_on_both_sides_in_couchdb_format(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 10)
    result = await couch.module.replicate(source, target)
    checkpoint_id = "_local/" + result.replication_id
    on_source, on_target = await source.get(checkpoint_id), await target.get(checkpoint_id)
    for checkpoint in (on_source, on_target):
        assert checkpoint["session_id"] == result.session_id
        assert checkpoint["source_last_seq"] == result.last_seq
        entry = checkpoint["history"][0]
        assert entry["recorded_seq"] == entry["end_last_seq"] == result.last_seq
        assert (entry["docs_read"], entry["docs_written"], entry["doc_write_failures"]) == (10, 10, 0)
        assert {"start_time", "end_time", "start_last_seq", "missing_checked", "missing_found"} <= set(entry)


async def test_the_replication_id_is_stable_and_names_what_is_replicated(couch):
    source, target, other = await new_db(couch), await new_db(couch), await new_db(couch)
    await fill(source, 3)
    plain = couch.module.Replication(source, target)
    again = await couch.module.replicate(source, target)
    assert again.replication_id == (await couch.module.replicate(source, target)).replication_id
    picked = await couch.module.replicate(source, target, doc_ids=["doc000002", "doc000001"])
    assert (
        picked.replication_id
        == (await couch.module.replicate(source, target, doc_ids=["doc000001", "doc000002"])).replication_id
    )
    elsewhere = await couch.module.replicate(source, other)
    assert len({again.replication_id, picked.replication_id, elsewhere.replication_id}) == 3
    assert plain.replication_id is None  # known once started


async def test_doc_ids_pick_the_documents(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 20)
    result = await couch.module.replicate(source, target, doc_ids=["doc000003", "doc000011", "absent"])
    assert result.docs_written == 2
    assert await ids(target) == ["doc000003", "doc000011"]


async def test_a_filter_function_with_query_params_picks_the_documents(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 10)
    await source.save(
        {"_id": "_design/app", "filters": {"mod": "function(doc, req) { return doc.n % req.query.by == 0; }"}}
    )
    result = await couch.module.replicate(source, target, filter="app/mod", query_params={"by": "3"})
    assert await ids(target) == ["doc000000", "doc000003", "doc000006", "doc000009"]
    again = await couch.module.replicate(source, target, filter="app/mod", query_params={"by": "3"})
    assert again.docs_read == 0 and again.replication_id == result.replication_id


@pytest.mark.couchdb_only  # a _selector changes POST kills PouchDB Server
async def test_a_selector_picks_the_documents(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 10)
    await couch.module.replicate(source, target, selector={"n": {"$gte": 8}})
    assert await ids(target) == ["doc000008", "doc000009"]


async def test_since_seq_starts_there_when_there_is_no_checkpoint(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 5)
    since = (await source.info())["update_seq"]
    await fill(source, 3, first=5)
    result = await couch.module.replicate(source, target, since_seq=since)
    assert result.start_last_seq == since
    # every change after since; a cluster may send earlier ones again (a shard copy other than the one since names)
    assert {"doc000005", "doc000006", "doc000007"} <= set(await ids(target)) <= set(await ids(source))


async def test_winning_revs_only_copies_each_winner_without_its_conflicts(couch):
    source, target = await new_db(couch), await new_db(couch)
    await couch.conflicted(source, "twins", REV_B, REV_C)
    await couch.module.replicate(source, target, winning_revs_only=True)
    copied = await target.get("twins", conflicts=True)
    assert copied["_rev"] == REV_C and "_conflicts" not in copied


async def test_create_target_creates_a_missing_target(couch):
    source = await new_db(couch)
    await fill(source, 3)
    target = couch.server().database(couch.db_name("repl-new"))
    couch._dbs.append(target)
    result = await couch.module.replicate(source, target, create_target=True)
    assert result.docs_written == 3
    assert (await target.info())["doc_count"] == 3


async def test_a_missing_source_ends_the_replication_with_not_found(couch):
    source = couch.server().database(couch.db_name("repl-missing"))
    target = await new_db(couch)
    with pytest.raises(NotFound):
        await couch.module.replicate(source, target, backoff=FAST)


@pytest.mark.couchdb_only  # PouchDB Server creates a database on first write
async def test_a_missing_target_ends_the_replication_with_not_found(couch):
    source = await new_db(couch)
    await fill(source, 3)
    target = couch.server().database(couch.db_name("repl-missing"))
    replication = couch.module.Replication(source, target)
    with pytest.raises(NotFound):
        await replication.wait()
    assert replication.state == "failed" and replication.result.ok is False


@pytest.mark.couchdb_only  # PouchDB Server lets everyone in (admin party)
@pytest.mark.server_only("users and credentials")
async def test_wrong_credentials_end_the_replication_with_unauthorized(couch):
    source = await new_db(couch)
    await fill(source, 3)
    base = couch.url.split("://", 1)[1].rpartition("@")[2]
    stranger = couch.server(f"http://nobody:wrong@{base}")
    with pytest.raises(Unauthorized) as raised:
        await couch.module.replicate(stranger.database(source.name), await new_db(couch))
    assert "wrong" not in str(raised.value)


async def test_documents_refused_by_validate_doc_update_are_reported_and_the_rest_arrive(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 30)
    await source.save({"docs": [{"_id": "bad1", "reject": True}, {"_id": "bad2", "reject": True}]})
    refused = {"_id": "bad3", "reject": True}
    await source.save(refused)
    await source.put_attachment(refused, "a.txt", b"refused with its attachment", content_type="text/plain")
    await target.save({"_id": "_design/guard", "validate_doc_update": VALIDATE_NO_REJECTS})
    events = []
    result = await couch.module.replicate(source, target, progress=events.append)
    assert result.ok and result.state == "completed"
    assert (result.docs_written, result.doc_write_failures) == (30, 3)
    assert sorted(error["id"] for error in result.errors) == ["bad1", "bad2", "bad3"]
    assert {error["error"] for error in result.errors} == {"forbidden"}
    assert sorted(e.failure["id"] for e in events if e.type == "error") == ["bad1", "bad2", "bad3"]
    assert len(await ids(target)) == 31  # the 30 and the design document


async def test_progress_events_tell_the_counters_as_they_grow(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 250)
    replication = couch.module.Replication(source, target, batch_size=100, batches_in_flight=1)
    events = replication.events()
    replication.start()
    seen = [event async for event in events]
    assert [e.type for e in seen][0] == "active" and seen[-1].type == "completed"
    batches = [e for e in seen if e.type == "batch"]
    assert [e.docs_written for e in batches] == [100, 200, 250]
    assert all(e.state == "running" for e in batches)
    assert any(e.type == "checkpoint" for e in seen)
    assert seen[-1].state == "completed" and seen[-1].docs_written == 250
    assert replication.state == "completed"


async def test_a_continuous_replication_follows_new_changes_until_closed(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 20)
    states = []
    replication = couch.module.Replication(source, target, continuous=True, progress=lambda e: states.append(e.type))
    async with replication:
        await couch.wait_until(lambda: replication.state == "idle" and replication.result.docs_written == 20)
        await fill(source, 5, first=20)
        await couch.wait_until(lambda: replication.result.docs_written == 25)
        await couch.wait_until(lambda: replication.state == "idle")
    assert replication.state == "stopped"
    assert replication.result.ok
    assert seq_number(replication.result.last_seq) == seq_number((await source.info())["update_seq"])
    assert "paused" in states and states[-1] == "stopped"
    assert len(await ids(target)) == 25
    await fill(source, 3, first=25)
    await couch.sleep(0.3)
    assert len(await ids(target)) == 25  # closed means closed


async def test_closing_a_replication_keeps_what_it_finished(couch):
    source, target = await new_db(couch), await new_db(couch)
    await fill(source, 100)
    replication = couch.module.Replication(source, target, continuous=True)
    replication.start()
    await couch.wait_until(lambda: replication.result.docs_written == 100)
    result = await replication.close()
    assert result.state == "stopped" and result.last_seq is not None
    rerun = await couch.module.replicate(source, target)
    assert rerun.start_last_seq == result.last_seq and rerun.docs_read == 0


async def test_sync_makes_both_databases_alike(couch):
    a, b = await new_db(couch), await new_db(couch)
    await fill(a, 10)
    await fill(b, 5, first=100)
    await a.save({"_id": "both", "side": "a"})
    await b.save({"_id": "both", "side": "b"})
    result = await couch.module.sync(a, b)
    assert result.ok and result.push.docs_written == 11
    # a change the push wrote on b while the pull read b's changes may come with the next run
    again = await couch.module.sync(a, b)
    assert result.pull.docs_written + again.pull.docs_written == 6
    assert await snapshot(a) == await snapshot(b)
    both = await a.get("both", conflicts=True)
    assert len(both["_conflicts"]) == 1


async def test_a_continuous_sync_carries_changes_made_on_either_side(couch):
    a, b = await new_db(couch), await new_db(couch)
    directions = set()
    both = couch.module.Sync(a, b, continuous=True, progress=lambda e: directions.add(e.direction))
    async with both:
        await a.save({"_id": "from-a"})
        await b.save({"_id": "from-b"})
        await couch.wait_until(lambda: both.result.push.docs_written == 1 and both.result.pull.docs_written == 1)
    assert both.state == "stopped"
    assert await ids(a) == await ids(b) == ["from-a", "from-b"]
    assert directions == {"push", "pull"}


async def test_bad_options_are_refused_before_anything_is_sent(couch):
    source, target = couch.offline_db(), couch.offline_db()
    for kwargs, error in (
        ({"doc_ids": ["a"], "selector": {"x": 1}}, InvalidArgument),
        ({"filter": "nofilter"}, InvalidArgument),
        ({"query_params": {"a": 1}}, InvalidArgument),
        ({"batch_size": 0}, InvalidArgument),
        ({"batches_in_flight": "2"}, InvalidType),
        ({"checkpoint_interval": -1}, InvalidArgument),
        ({"progress": "print"}, InvalidType),
        ({"backoff": 3}, InvalidType),
    ):
        with pytest.raises(error):
            couch.module.Replication(source, target, **kwargs)
    with pytest.raises(InvalidType):
        couch.module.Replication("http://localhost:5984/db", target)


async def test_a_replication_closed_before_it_started_has_nothing_to_do(couch):
    replication = couch.module.Replication(couch.offline_db(), couch.offline_db())
    result = await replication.close()
    assert result.state == "stopped" and result.docs_read == 0
    assert [event async for event in replication.events()] == []


# --- between the embedded store and a server -------------------------------------------


async def store_db(couch):
    """A fresh database in an embedded store in memory, dropped after the test."""
    db = couch.Database(couch.db_name("local"), url=f"memory://{couch.db_name('replication')}")
    await db.create()
    couch._dbs.append(db)
    return db


@pytest.mark.server_only("between the embedded store and a server")
async def test_a_server_database_pulled_into_the_embedded_store_and_pushed_to_another(couch):
    remote = await new_db(couch)
    await rich_source(remote)
    local = await store_db(couch)
    pulled = await couch.module.replicate(remote, local, batch_size=9)
    assert pulled.ok and pulled.doc_write_failures == 0
    assert await snapshot(local, by_content=True) == await snapshot(remote, by_content=True)
    edited = await local.get("doc000007")
    edited["offline"] = True
    await local.save(edited)
    await local.save({"_id": "made-offline"})
    other = await new_db(couch)
    pushed = await couch.module.replicate(local, other)
    assert await snapshot(other, by_content=True) == await snapshot(local, by_content=True)
    assert (await other.get("doc000007"))["offline"] is True
    assert pushed.docs_written == pushed.missing_found > len(await ids(local))  # every leaf, deleted ones too


@pytest.mark.server_only("between the embedded store and a server")
async def test_the_embedded_store_kept_in_sync_with_a_server(couch):
    remote, local = await new_db(couch), await store_db(couch)
    await fill(remote, 30)
    both = couch.module.Sync(local, remote, continuous=True)
    async with both:
        await couch.wait_until(lambda: both.result.pull.docs_written == 30)
        await local.save({"_id": "written-locally"})
        await remote.save({"_id": "written-remotely"})
        await couch.wait_until(lambda: both.result.push.docs_written == 1 and both.result.pull.docs_written == 31)
    assert await ids(local) == await ids(remote)
    assert len(await ids(local)) == 32


@pytest.mark.server_only("a document only PouchDB Server takes, pulled into the embedded store")
async def test_a_document_too_large_for_the_target_is_reported_and_the_rest_arrive(couch):
    if couch.is_couchdb:
        pytest.skip("Apache CouchDB refuses a document over max_document_size on the source too")
    remote, local = await new_db(couch), await store_db(couch)
    await fill(remote, 40)
    await remote.save({"_id": "huge", "pad": "x" * 8_100_000})  # over the store's (CouchDB's) 8,000,000 bytes
    result = await couch.module.replicate(remote, local, batch_size=50)
    assert result.ok and result.state == "completed"
    assert (result.docs_written, result.doc_write_failures) == (40, 1)
    assert [(error["id"], error["error"]) for error in result.errors] == [("huge", "document_too_large")]
    assert len(await ids(local)) == 40
