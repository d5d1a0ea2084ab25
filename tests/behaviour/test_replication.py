"""Replication: one-shot ``/_replicate`` between databases of the test server, ``_replicator`` documents.

Both servers replicate one-shot between URL strings, database names and
Database objects, and run ``_replicator`` documents. What PouchDB Server
gets wrong is tested against Apache CouchDB only: it accepts no ``{"url":
...}`` endpoint objects (500), creates missing sources and targets, ignores
``doc_ids``, has no ``/_scheduler``, never lists replications in
``/_active_tasks``, cannot cancel by replication id, and does not stop a
continuous replication when asked to cancel it (it keeps running, and
re-creates its databases once they are deleted), so no continuous
replication is started there. Deleting a running continuous ``_replicator``
document kills the PouchDB Server process, so none is started there either.
"""

import uuid
from urllib.parse import unquote, urlsplit

import pytest

from wallaby.backends.couchdb.testing import free_port

pytestmark = pytest.mark.server_only("the server's replicator (_replicate, _replicator)")


def db_url(couch, db):
    """The URL of ``db`` as the test server's URL gives it (with COUCHDB_URL's credentials, if any)."""
    return f"{couch.url}/{db.name}"


async def filled(couch, count=3):
    db = await couch.fresh_db("rep-src")
    await db.save({"docs": [{"_id": f"d{i}", "n": i} for i in range(count)]}, **couch.all_copies)
    return db


async def ids(db):
    return sorted(row["id"] for row in await db.view("_all_docs"))


async def holds(couch, db, wanted) -> bool:
    """Does ``db`` hold exactly the documents ``wanted``? The replicator's writes reach a majority of
    a cluster's copies, and _all_docs reads one copy of each shard: the last ones may show a moment later."""
    return await couch.eventually(lambda: ids(db), until=lambda found: found == wanted) == wanted


def dead(couch):
    return couch.server(f"http://127.0.0.1:{free_port()}")


# --- one-shot /_replicate, on both servers -----------------------------------------


async def test_replicate_between_urls_copies_every_document(couch):
    source = await filled(couch)
    target = await couch.fresh_db("rep-tgt")
    result = await couch.server().replicate(db_url(couch, source), db_url(couch, target))
    assert result["ok"] is True
    assert await holds(couch, target, ["d0", "d1", "d2"])
    assert (await target.get("d1"))["n"] == 1


async def test_replicate_between_database_objects(couch):
    # With credentials (CouchDB) they travel in {"url", "auth"}; without (PouchDB Server) the URL alone.
    source = await filled(couch, 2)
    target = await couch.fresh_db("rep-tgt")
    result = await couch.server().replicate(source, target)
    assert result["ok"] is True
    assert await holds(couch, target, ["d0", "d1"])


async def test_replicate_between_database_names(couch):
    # CouchDB 3.x prefixes its own address (deprecated there, but accepted); PouchDB Server too.
    source = await filled(couch, 2)
    target = await couch.fresh_db("rep-tgt")
    assert (await couch.server().replicate(source.name, target.name))["ok"] is True
    assert await holds(couch, target, ["d0", "d1"])


async def test_replicate_again_copies_only_what_changed(couch):
    source = await filled(couch, 2)
    target = await couch.fresh_db("rep-tgt")
    server = couch.server()
    await server.replicate(source, target)
    doc = await source.get("d0")
    doc["n"] = 100
    await source.save(doc)
    await source.save({"_id": "late"})
    await server.replicate(source, target)
    assert await holds(couch, target, ["d0", "d1", "late"])
    assert (await target.get("d0"))["_rev"] == doc["_rev"]


async def test_replicate_waits_without_a_read_timeout_when_asked(couch):
    source = await filled(couch, 1)
    target = await couch.fresh_db("rep-tgt")
    server = couch.server(read_timeout=30)
    assert (await server.replicate(source, target, read_timeout=None))["ok"] is True
    assert await holds(couch, target, ["d0"])


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((None, "b"), {}, "InvalidType"),
        (("a", ""), {}, "InvalidArgument"),
        (("ftp://host/a", "b"), {}, "InvalidArgument"),
        (("a", "b"), {"doc_ids": ["x"], "selector": {"a": 1}}, "InvalidArgument"),
        (("a", "b"), {"doc_ids": "x"}, "InvalidType"),
        (("a", "b"), {"continuos": True}, "InvalidArgument"),
        (("a", "b"), {"replication_id": "x"}, "InvalidArgument"),
        (("a", {"auth": {}}), {}, "InvalidArgument"),
    ],
)
async def test_bad_replication_arguments_are_refused_before_any_request(couch, args, kwargs, error):
    with pytest.raises(getattr(couch.module, error)):
        await dead(couch).replicate(*args, **kwargs)
    with pytest.raises(getattr(couch.module, error)):
        await dead(couch).start_replication("r", *args, **kwargs)


async def test_bad_replicator_documents_are_refused_before_any_request(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await dead(couch).start_replication("_design/r", "a", "b")
    with pytest.raises(couch.module.InvalidArgument):
        await dead(couch).stop_replication("r", replicator_db="mine")
    with pytest.raises(couch.module.InvalidArgument):
        await dead(couch).cancel_replication("")


# --- _replicator documents, on both servers (one-shot only) ---------------------------


async def test_a_replicator_document_runs_the_replication_and_stop_deletes_it(couch):
    server = couch.server()
    source = await filled(couch, 2)
    target = await couch.fresh_db("rep-tgt")
    docid = f"wallaby-{uuid.uuid4().hex[:12]}"
    saved = await server.start_replication(docid, source, target)
    assert saved["ok"] is True and saved["id"] == docid
    replicator = server.database("_replicator")
    try:
        assert await couch.eventually(lambda: _has_all(target, ["d0", "d1"]), timeout=30)
        doc = await couch.eventually(lambda: _completed(replicator, docid), timeout=30)
        assert doc["_replication_state"] == "completed"
    finally:
        stopped = await server.stop_replication(docid)
    assert stopped["ok"] is True
    assert await couch.eventually(lambda: couch.missing(replicator, docid))


async def _has_all(db, wanted):
    return set(wanted) <= set(await ids(db))


async def _completed(replicator, docid):
    doc = await replicator.get(docid)
    return doc if doc.get("_replication_state") == "completed" else None


async def test_stop_replication_of_a_missing_document_is_not_found(couch):
    with pytest.raises(couch.module.NotFound):
        await couch.server().stop_replication(f"missing-{uuid.uuid4().hex}")


# --- Apache CouchDB only ------------------------------------------------------------


@pytest.mark.couchdb_only  # PouchDB Server answers 500 to {"url": ...} endpoints
async def test_replicate_with_endpoint_dicts(couch):
    source = await filled(couch, 2)
    target = await couch.fresh_db("rep-tgt")
    parts = urlsplit(couch.url)
    base = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    auth = {"basic": {"username": user, "password": password}} if user else None

    def endpoint(db):
        return {"url": f"{base}/{db.name}", **({"auth": auth} if auth else {})}

    assert (await couch.server().replicate(endpoint(source), endpoint(target)))["ok"] is True
    assert await holds(couch, target, ["d0", "d1"])


@pytest.mark.couchdb_only  # PouchDB Server ignores doc_ids
async def test_replicate_only_the_doc_ids_asked(couch):
    source = await filled(couch)
    target = await couch.fresh_db("rep-tgt")
    await couch.server().replicate(source, target, doc_ids=["d0", "d2"])
    assert await holds(couch, target, ["d0", "d2"])


@pytest.mark.couchdb_only
async def test_replicate_only_what_the_selector_picks(couch):
    source = await filled(couch, 4)
    target = await couch.fresh_db("rep-tgt")
    await couch.server().replicate(source, target, selector={"n": {"$gte": 2}})
    assert await holds(couch, target, ["d2", "d3"])


@pytest.mark.couchdb_only  # PouchDB Server creates a missing target without being asked
async def test_replicate_to_a_missing_target_fails_unless_create_target(couch):
    source = await filled(couch, 1)
    server = couch.server()
    name = couch.db_name("rep-new")
    with pytest.raises(couch.module.ServerError) as caught:
        await server.replicate(source, server.database(name))
    assert caught.value.error == "db_not_found"
    try:
        await server.replicate(source, server.database(name), create_target=True)
        assert await holds(couch, server.database(name), ["d0"])
    finally:
        await server.delete(name)


@pytest.mark.couchdb_only  # PouchDB Server creates a missing source and reports success
async def test_replicate_from_a_missing_source_fails_without_showing_credentials(couch):
    target = await couch.fresh_db("rep-tgt")
    server = couch.server()
    with pytest.raises(couch.module.ServerError) as caught:
        await server.replicate(server.database(couch.db_name("missing")), target)
    assert caught.value.error == "db_not_found"
    password = unquote(urlsplit(couch.url).password or "")
    if password:
        assert password not in str(caught.value) and password not in repr(caught.value)


@pytest.mark.couchdb_only  # PouchDB Server keeps a "cancelled" continuous replication running
async def test_continuous_replication_runs_until_cancelled(couch):
    server = couch.server()
    source = await filled(couch, 1)
    target = await couch.fresh_db("rep-tgt")
    started = await server.replicate(source, target, continuous=True)
    assert started["ok"] is True
    try:
        await source.save({"_id": "live"})
        await couch.eventually(lambda: _has_all(target, ["d0", "live"]), timeout=30)
        jobs = (await server.scheduler_jobs())["jobs"]
        assert started["_local_id"] in [job["id"] for job in jobs]
        assert await couch.eventually(lambda: _replicating(server), timeout=30)
    finally:
        cancelled = await server.replicate(source, target, continuous=True, cancel=True)
    assert cancelled["ok"] is True
    with pytest.raises(couch.module.NotFound):
        await server.replicate(source, target, continuous=True, cancel=True)


@pytest.mark.couchdb_only  # PouchDB Server cannot cancel by replication id (500)
async def test_cancel_replication_by_the_id_replicate_answered(couch):
    server = couch.server()
    source = await filled(couch, 1)
    target = await couch.fresh_db("rep-tgt")
    started = await server.replicate(source, target, continuous=True)
    try:
        job = await couch.eventually(lambda: _job(server, started["_local_id"]), timeout=30)
        assert job["id"] == started["_local_id"]
    finally:
        assert (await server.cancel_replication(started))["ok"] is True
    with pytest.raises(couch.module.NotFound):
        await server.cancel_replication(started["_local_id"])


async def _replicating(server):
    return any(task.get("type") == "replication" for task in await server.active_tasks())


async def _job(server, job_id):
    try:
        return await server.scheduler_job(job_id)
    except Exception:
        return None


@pytest.mark.couchdb_only  # PouchDB Server has no /_scheduler
async def test_replication_state_follows_a_replicator_document(couch):
    server = couch.server()
    source = await filled(couch, 2)
    target = await couch.fresh_db("rep-tgt")
    docid = f"wallaby-{uuid.uuid4().hex[:12]}"
    await server.start_replication(docid, source, target)
    try:
        assert await couch.eventually(lambda: _state_is(server, docid, "completed"), timeout=30)
        doc = await server.scheduler_doc(docid)
        assert doc["doc_id"] == docid and doc["database"] == "_replicator"
        listed = await couch.eventually(  # on a cluster, listed a moment later by the node that answers
            lambda: server.scheduler_docs("_replicator", states=["completed"]),
            until=lambda listed: docid in [entry["doc_id"] for entry in listed["docs"]],
        )
        assert docid in [entry["doc_id"] for entry in listed["docs"]]
    finally:
        await server.stop_replication(docid)


async def _state_is(server, docid, state):
    try:
        return await server.replication_state(docid) == state
    except Exception:
        return False


@pytest.mark.couchdb_only  # deleting a running continuous _replicator doc kills PouchDB Server
async def test_stop_replication_stops_a_continuous_replicator_document(couch):
    server = couch.server()
    source = await filled(couch, 1)
    target = await couch.fresh_db("rep-tgt")
    docid = f"wallaby-{uuid.uuid4().hex[:12]}"
    await server.start_replication(docid, source, target, continuous=True)
    try:
        assert await couch.eventually(lambda: _state_is(server, docid, "running"), timeout=30)
        await source.save({"_id": "live"})
        await couch.eventually(lambda: _has_all(target, ["d0", "live"]), timeout=30)
    finally:
        assert (await server.stop_replication(docid))["ok"] is True
    await couch.sleep(1)
    await source.save({"_id": "after-stop"})
    await couch.sleep(2)
    assert "after-stop" not in await ids(target)


@pytest.mark.couchdb_only  # PouchDB Server reports such a document 'completed' (it creates the source)
async def test_a_replicator_document_with_a_missing_source_crashes(couch):
    server = couch.server()
    target = await couch.fresh_db("rep-tgt")
    docid = f"wallaby-{uuid.uuid4().hex[:12]}"
    await server.start_replication(docid, server.database(couch.db_name("missing")), target)
    try:
        state = await couch.eventually(lambda: _state_in(server, docid, ("crashing", "error", "failed")), timeout=30)
        assert state in ("crashing", "error", "failed")
    finally:
        await server.stop_replication(docid)


async def _state_in(server, docid, states):
    try:
        state = await server.replication_state(docid)
    except Exception:
        return None
    return state if state in states else None
