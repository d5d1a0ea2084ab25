"""Documents: get, save (one and bulk), delete; revs written back; awkward ids; errors."""

from urllib.parse import urlsplit, urlunsplit

import pytest

from wallaby.backends.couchdb.testing import free_port

REV_B = "1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REV_C = "1-cccccccccccccccccccccccccccccccc"


def bare(url):
    """``url`` without its userinfo (COUCHDB_URL carries admin credentials)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def offline_db(couch):
    """A Database on a port nothing listens on: any request would be a NetworkError."""
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


async def conflicted(couch, db, docid):
    """A document with two leaves, REV_B and REV_C, made by replication-style writes."""
    await db.save({"docs": [{"_id": docid, "_rev": REV_B, "leaf": "b"}], "new_edits": False}, **couch.all_copies)
    await db.save({"docs": [{"_id": docid, "_rev": REV_C, "leaf": "c"}]}, new_edits=False, **couch.all_copies)


# --- get, save, delete ------------------------------------------------------------


async def test_save_writes_the_new_rev_into_the_callers_dict(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    result = await db.save(doc)
    assert result["ok"] is True
    assert result["id"] == "a"
    assert doc["_rev"] == result["rev"]
    assert doc["_rev"].startswith("1-")


async def test_get_returns_the_saved_document(couch):
    db = await couch.fresh_db()
    doc = {
        "_id": "a",
        "n": 1,
        "x": 0.25,
        "tags": ["x", "y"],
        "nested": {"ok": True, "none": None},
        "text": "grüße 文字 😀 a\u0000b",
    }
    await db.save(doc)
    assert await db.get("a") == doc


async def test_save_again_updates_with_the_written_back_rev(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    await db.save(doc)
    doc["n"] = 2
    await db.save(doc)
    assert doc["_rev"].startswith("2-")
    assert (await db.get("a"))["n"] == 2


async def test_save_without_id_posts_and_writes_back_id_and_rev(couch):
    db = await couch.fresh_db()
    doc = {"n": 1}
    result = await db.save(doc)
    assert doc["_id"] == result["id"] and doc["_id"]
    assert doc["_rev"] == result["rev"]
    assert (await db.get(doc["_id"]))["n"] == 1


async def test_delete_removes_the_document_and_writes_back_the_tombstone_rev(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    first = doc["_rev"]
    result = await db.delete(doc)
    assert result["ok"] is True
    assert doc["_rev"] == result["rev"] != first
    with pytest.raises(couch.module.NotFound) as caught:
        await db.get("a")
    assert caught.value.error == "not_found"


async def test_a_deleted_document_can_be_saved_again(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    await db.delete(doc)
    again = {"_id": "a", "back": True}
    await db.save(again)
    assert (await db.get("a"))["back"] is True


async def test_get_with_rev_returns_that_revision(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    await db.save(doc)
    first = doc["_rev"]
    doc["n"] = 2
    await db.save(doc)
    old = await db.get("a", rev=first)
    assert old["n"] == 1 and old["_rev"] == first
    assert (await db.get("a", first))["n"] == 1


async def test_get_with_revs_lists_the_revision_history(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    await db.save(doc)
    got = await db.get("a", revs=True)
    history = got["_revisions"]
    assert history["start"] == 2
    assert len(history["ids"]) == 2
    assert doc["_rev"] == f"2-{history['ids'][0]}"


async def test_get_with_revs_info_lists_the_available_revisions(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    await db.save(doc)
    got = await db.get("a", revs_info=True)
    assert [info["rev"] for info in got["_revs_info"]][0] == doc["_rev"]


async def test_get_with_conflicts_lists_the_losing_revisions(couch):
    db = await couch.fresh_db()
    await conflicted(couch, db, "c")
    got = await db.get("c", conflicts=True)
    assert got["_rev"] == REV_C  # the higher rev wins
    assert got["_conflicts"] == [REV_B]


async def test_get_without_conflicts_shows_the_winner_only(couch):
    db = await couch.fresh_db()
    await conflicted(couch, db, "c")
    got = await db.get("c")
    assert got["leaf"] == "c"
    assert "_conflicts" not in got


async def test_get_with_open_revs_all_returns_every_leaf(couch):
    db = await couch.fresh_db()
    await conflicted(couch, db, "c")
    leaves = await db.get("c", open_revs="all")
    assert sorted(leaf["ok"]["_rev"] for leaf in leaves) == [REV_B, REV_C]  # the order differs by server


async def test_get_with_open_revs_list_returns_those_revisions(couch):
    db = await couch.fresh_db()
    await conflicted(couch, db, "c")
    missing = "1-00000000000000000000000000000000"
    leaves = await db.get("c", open_revs=[REV_B, missing])
    assert {"missing": missing} in leaves
    assert [leaf["ok"]["leaf"] for leaf in leaves if "ok" in leaf] == ["b"]


async def test_save_with_batch_ok_is_accepted(couch):
    # CouchDB answers 202 without a rev; PouchDB Server ignores batch=ok.
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    result = await db.save(doc, batch="ok")
    assert result["ok"] is True and result["id"] == "a"
    for _ in range(100):
        try:
            got = await db.get("a")
            break
        except couch.module.NotFound:
            await couch.sleep(0.05)
    assert got["n"] == 1


async def test_save_without_id_with_batch_ok_writes_back_the_id(couch):
    db = await couch.fresh_db()
    doc = {"n": 1}
    result = await db.save(doc, batch="ok")
    assert doc["_id"] == result["id"]


async def test_a_doc_with_an_id_and_a_docs_field_is_one_document(couch):
    db = await couch.fresh_db()
    doc = {"_id": "shelf", "docs": [{"title": "a"}]}
    result = await db.save(doc)
    assert result["id"] == "shelf" and doc["_rev"] == result["rev"]
    assert (await db.get("shelf"))["docs"] == [{"title": "a"}]


async def test_save_refuses_an_unknown_option(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).save({"_id": "a"}, bogus=True)


# --- bulk -------------------------------------------------------------------------


async def test_bulk_save_writes_each_rev_into_its_doc(couch):
    db = await couch.fresh_db()
    docs = [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"n": 3}]
    results = await db.save({"docs": docs})
    assert len(results) == 3
    assert all(result["ok"] for result in results)
    revs = {result["id"]: result["rev"] for result in results}
    for doc in docs:
        assert doc["_rev"] == revs[doc["_id"]]
    assert (await db.get(docs[2]["_id"]))["n"] == 3


async def test_bulk_save_reports_a_conflict_in_its_row_without_raising(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "taken"}, **couch.all_copies)
    fresh = {"_id": "fresh"}
    clash = {"_id": "taken", "n": 2}
    results = await db.save({"docs": [clash, fresh]})
    by_id = {result["id"]: result for result in results}  # rows may come back in another order
    assert by_id["taken"]["error"] == "conflict"
    assert by_id["fresh"]["ok"] is True
    assert "_rev" not in clash
    assert fresh["_rev"] == by_id["fresh"]["rev"]


async def test_bulk_save_updates_and_deletes(couch):
    db = await couch.fresh_db()
    a, b = {"_id": "a", "n": 1}, {"_id": "b"}
    await db.save({"docs": [a, b]})
    a["n"] = 2
    b["_deleted"] = True
    await db.save({"docs": [a, b]})
    assert a["_rev"].startswith("2-") and b["_rev"].startswith("2-")
    assert (await db.get("a"))["n"] == 2
    with pytest.raises(couch.module.NotFound):
        await db.get("b")


async def test_bulk_save_with_new_edits_false_stores_the_given_revs(couch):
    db = await couch.fresh_db()
    doc = {"_id": "r", "_rev": REV_B, "v": 1}
    await db.save({"docs": [doc], "new_edits": False})
    assert doc["_rev"] == REV_B
    assert (await db.get("r"))["_rev"] == REV_B


async def test_bulk_save_with_new_edits_false_as_an_option(couch):
    db = await couch.fresh_db()
    await db.save({"docs": [{"_id": "r", "_rev": REV_C, "v": 1}]}, new_edits=False)
    assert (await db.get("r"))["_rev"] == REV_C


async def test_bulk_save_refuses_docs_that_are_not_a_list_of_dicts(couch):
    db = offline_db(couch)
    with pytest.raises(couch.module.InvalidType):
        await db.save({"docs": {"_id": "a"}})
    with pytest.raises(couch.module.InvalidType):
        await db.save({"docs": ["a"]})


async def test_bulk_save_refuses_an_unknown_option(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).save({"docs": []}, bogus=1)


# --- awkward ids --------------------------------------------------------------------

AWKWARD_IDS = [
    "a/b",
    "a+b",
    "100%",
    "what?",
    "hash#tag",
    "with space",
    "ünï-文字-😀",
    "a:b",
    "a&b=c",
    "a%2Fb",
    "_design/d1",
    "_local/x",
    "_design/a/b",
    "_design/with space/and?more",
]


@pytest.mark.parametrize("docid", AWKWARD_IDS)
async def test_awkward_id_round_trips(couch, docid):
    db = await couch.fresh_db()
    doc = {"_id": docid, "v": 1}
    result = await db.save(doc)
    assert result["id"] == docid
    got = await db.get(docid)
    assert got["_id"] == docid and got["v"] == 1
    doc["v"] = 2
    await db.save(doc)
    assert (await db.get(docid))["v"] == 2
    await db.delete(doc)
    # a _local/ document is not copied between a cluster's copies: the one read may learn of the delete later
    assert await couch.eventually(lambda: couch.missing(db, docid))


@pytest.mark.parametrize("docid", [d for d in AWKWARD_IDS if not d.startswith("_")])
async def test_awkward_id_is_one_document_in_all_docs(couch, docid):
    db = await couch.fresh_db()
    await db.save({"_id": docid}, **couch.all_copies)
    rows = await db.view("_all_docs")
    assert [row["id"] for row in rows] == [docid]


async def test_a_slash_in_an_id_never_reaches_another_document(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a", "which": "a"})
    await db.save({"_id": "a/b", "which": "a/b"})
    assert (await db.get("a/b"))["which"] == "a/b"
    assert (await db.get("a"))["which"] == "a"


# --- errors -------------------------------------------------------------------------


async def test_missing_document_is_not_found_with_error_and_reason(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound) as caught:
        await db.get("nope")
    error = caught.value
    assert error.status == 404
    assert error.error == "not_found"
    assert error.reason == "missing"
    assert error.method == "GET"
    assert error.url == f"{bare(couch.url)}/{db.name}/nope"
    assert isinstance(error, couch.module.ClientError)
    assert isinstance(error, couch.module.CouchDBError)


async def test_error_url_encodes_the_id(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound) as caught:
        await db.get("a/b?c")
    assert caught.value.url == f"{bare(couch.url)}/{db.name}/a%2Fb%3Fc"


# On a cluster, a write is refused with 409 by every copy that has the newer revision. A copy that
# has not seen it yet takes the write (the document then has a conflict) and CouchDB answers 202
# (``accepted`` in the result: tests/faults/test_cluster_node_lost.py). So the writes these tests
# start from go to every copy (``couch.all_copies``: w=n on a cluster).


async def test_save_without_rev_over_an_existing_doc_is_a_conflict(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"}, **couch.all_copies)
    with pytest.raises(couch.module.Conflict) as caught:
        await db.save({"_id": "a", "n": 2})
    error = caught.value
    assert error.status == 409
    assert error.error == "conflict"
    assert error.reason
    assert error.method == "PUT"
    assert error.url == f"{bare(couch.url)}/{db.name}/a"


async def test_a_conflict_is_catchable_by_every_seed_name(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"}, **couch.all_copies)
    for name in ("Conflict", "DocumentUpdateConflict", "ClientError", "CouchDBError", "UnknownError"):
        with pytest.raises(getattr(couch.module, name)):
            await db.save({"_id": "a"})


async def test_save_with_a_stale_rev_is_a_conflict(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc, **couch.all_copies)
    stale = dict(doc)
    await db.save(doc, **couch.all_copies)
    with pytest.raises(couch.module.DocumentUpdateConflict):
        await db.save(stale)


async def test_post_of_an_existing_id_is_a_conflict(couch):
    db = await couch.fresh_db()
    doc = {"n": 1}
    await db.save(doc, **couch.all_copies)
    with pytest.raises(couch.module.Conflict):
        await db.save({"_id": doc["_id"]})


async def test_delete_with_a_stale_rev_is_a_conflict(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc, **couch.all_copies)
    stale = dict(doc)
    await db.save(doc, **couch.all_copies)
    with pytest.raises(couch.module.Conflict) as caught:
        await db.delete(stale)
    assert caught.value.method == "DELETE"
    assert stale["_rev"] != doc["_rev"]  # nothing written back on failure


async def test_an_id_with_a_reserved_underscore_is_a_bad_request(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.save({"_id": "_bogus"})
    assert caught.value.status == 400


async def test_get_in_a_missing_database_is_not_found(couch):
    async with couch.Database(couch.db_name("missing"), url=couch.url) as db:
        with pytest.raises(couch.module.NotFound):
            await db.get("a")


async def test_get_of_a_missing_rev_is_not_found(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"})
    with pytest.raises(couch.module.NotFound):
        await db.get("a", rev="1-00000000000000000000000000000000")


# --- bad input raises before any request ----------------------------------------------


@pytest.mark.parametrize("doc", [None, "a string", ["a", "list"], 42, b"bytes"])
async def test_save_refuses_what_is_not_a_dict(couch, doc):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).save(doc)


@pytest.mark.parametrize("value", [{1, 2}, object(), b"\xff bytes", {1: "int key"}, "lone \ud800 surrogate"])
async def test_save_refuses_a_value_json_cannot_hold(couch, value):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).save({"_id": "a", "v": value})


async def test_bulk_save_refuses_a_value_json_cannot_hold(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).save({"docs": [{"_id": "a", "v": {1, 2}}]})


@pytest.mark.parametrize("docid", [123, None, b"bytes", ["a"]])
async def test_get_refuses_an_id_that_is_not_a_str(couch, docid):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).get(docid)


async def test_get_refuses_an_empty_id(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).get("")


async def test_get_refuses_an_unknown_option(couch):
    with pytest.raises(couch.module.InvalidArgument) as caught:
        await offline_db(couch).get("a", bogus=True)
    assert "bogus" in str(caught.value)


async def test_save_refuses_an_empty_id(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).save({"_id": ""})


@pytest.mark.parametrize("docid", ["_design/", "_local/"])
async def test_a_bare_design_or_local_prefix_is_refused(couch, docid):
    db = offline_db(couch)
    with pytest.raises(couch.module.InvalidArgument):
        await db.get(docid)
    with pytest.raises(couch.module.InvalidArgument):
        await db.save({"_id": docid})


async def test_save_refuses_an_id_that_is_not_a_str(couch):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).save({"_id": 5})


async def test_delete_refuses_a_doc_without_id(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).delete({})


async def test_delete_refuses_a_doc_without_rev(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).delete({"_id": "x"})


@pytest.mark.parametrize("doc", [None, "x", ["x"]])
async def test_delete_refuses_what_is_not_a_dict(couch, doc):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).delete(doc)


async def test_bad_input_errors_are_also_python_value_and_type_errors(couch):
    db = offline_db(couch)
    with pytest.raises(TypeError):
        await db.get(123)
    with pytest.raises(ValueError):
        await db.delete({"_id": "x"})


@pytest.mark.parametrize("bad_id", [None, "", 42])
async def test_save_refuses_a_bad_id_before_any_request(couch, bad_id):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.InvalidArgument):
        await db.save({"_id": bad_id})
    with pytest.raises(couch.module.InvalidArgument):
        await db.save({"docs": [{"_id": "fine"}, {"_id": bad_id}]})
    assert (await db.info())["doc_count"] == 0
