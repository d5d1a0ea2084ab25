"""Bulk and maintenance endpoints: _bulk_docs, _bulk_get, _all_docs, _design_docs,
_revs_diff, _missing_revs, _purge, _revs_limit, _compact, _view_cleanup,
_ensure_full_commit, /_dbs_info."""

import datetime
from collections import OrderedDict

import pytest

from wallaby.backends.couchdb.testing import free_port

REV_B = "1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REV_C = "1-cccccccccccccccccccccccccccccccc"
MISSING_REV = "2-00000000000000000000000000000000"

DDOC = {
    "_id": "_design/d",
    "views": {"by_n": {"map": "function (doc) { if (doc.n !== undefined) emit(doc.n, null); }"}},
}


def offline_db(couch):
    """A Database on a port nothing listens on: any request would be a NetworkError."""
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


async def abc(db, **write):
    """Documents a1, b1, b2, c1 (n = 1..4), saved in one request; returns them by id."""
    docs = [{"_id": docid, "n": n} for n, docid in enumerate(["a1", "b1", "b2", "c1"], 1)]
    await db.bulk_docs(docs, **write)
    return {doc["_id"]: doc for doc in docs}


# --- _bulk_docs -----------------------------------------------------------------------


async def test_bulk_docs_returns_a_result_per_doc_and_writes_the_revs_back(couch):
    db = await couch.fresh_db()
    docs = [{"_id": "a", "n": 1}, {"n": 2}]
    results = await db.bulk_docs(docs)
    assert len(results) == 2 and all(result["ok"] for result in results)
    revs = {result["id"]: result["rev"] for result in results}
    assert docs[0]["_rev"] == revs["a"]
    assert docs[1]["_rev"] == revs[docs[1]["_id"]]
    assert (await db.get(docs[1]["_id"]))["n"] == 2


async def test_bulk_docs_reports_each_failure_in_its_row(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "taken"}, **couch.all_copies)  # on every copy: each refuses the rev-less write
    results = await db.bulk_docs([{"_id": "taken", "n": 2}, {"_id": "fresh"}, {"_id": "taken", "_rev": MISSING_REV}])
    errors = sorted((result["id"], result.get("error")) for result in results)
    assert errors == [("fresh", None), ("taken", "conflict"), ("taken", "conflict")]


async def test_bulk_docs_updates_and_deletes(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    docs["a1"]["n"] = 10
    docs["b1"]["_deleted"] = True
    await db.bulk_docs([docs["a1"], docs["b1"]])
    assert (await db.get("a1"))["n"] == 10
    assert await db.exists("b1") is False


async def test_bulk_docs_accepts_a_tuple_and_an_empty_list(couch):
    db = await couch.fresh_db()
    assert await db.bulk_docs([]) == []
    results = await db.bulk_docs(({"_id": "a"},))
    assert results[0]["id"] == "a"


async def test_bulk_docs_with_new_edits_false_stores_the_given_revs_as_conflicts(couch):
    db = await couch.fresh_db()
    docs = [{"_id": "c", "_rev": REV_B}, {"_id": "c", "_rev": REV_C}]
    assert await db.bulk_docs(docs, new_edits=False) == []
    assert await db.conflicts("c") == [REV_B]
    assert docs[0]["_rev"] == REV_B  # nothing to write back


async def test_bulk_docs_with_new_edits_false_and_a_history(couch):
    db = await couch.fresh_db()
    doc = {"_id": "h", "_rev": "3-" + "c" * 32, "_revisions": {"start": 3, "ids": ["c" * 32, "b" * 32, "a" * 32]}}
    await db.bulk_docs([doc], new_edits=False)
    got = await db.get("h", revs=True)
    assert got["_revisions"]["ids"] == ["c" * 32, "b" * 32, "a" * 32]


async def test_bulk_docs_stores_what_json_carries_and_leaves_the_docs_but_their_revs(couch):
    # The embedded store takes these documents without JSON in between: it must store what a
    # server is sent, and change the caller's documents no more than a server's answer does.
    db = await couch.fresh_db()
    nested = {"tags": ("a", "b"), "day": datetime.date(2026, 12, 2)}
    plain = {"_id": "plain", "nested": nested}
    ordered = OrderedDict([("_id", "ordered"), ("n", 1)])
    design = {"_id": "_design/d", "views": {"v": {"map": "function (doc) { emit(doc.n, null); }"}}}
    results = await db.bulk_docs([plain, ordered, design, {"n": 2}])
    assert [result["ok"] for result in results] == [True] * 4
    assert plain == {"_id": "plain", "nested": nested, "_rev": {r["id"]: r["rev"] for r in results}["plain"]}
    assert nested == {"tags": ("a", "b"), "day": datetime.date(2026, 12, 2)}
    assert (await db.get("plain"))["nested"] == {"tags": ["a", "b"], "day": "2026-12-02"}
    assert (await db.get("ordered"))["n"] == 1
    assert [row["key"] for row in await db.view("d/v")] == [None, 1, 2]
    as_tuple = {"_id": "t", "_rev": "2-" + "b" * 32, "_revisions": {"start": 2, "ids": ("b" * 32, "a" * 32)}}
    as_list = {"_id": "l", "_rev": "2-" + "b" * 32, "_revisions": {"start": 2, "ids": ["b" * 32, "a" * 32]}}
    await db.bulk_docs([as_tuple, as_list], new_edits=False)
    for docid in ("t", "l"):
        assert (await db.get(docid, revs=True))["_revisions"]["ids"] == ["b" * 32, "a" * 32]
    assert as_tuple["_revisions"] == {"start": 2, "ids": ("b" * 32, "a" * 32)}
    assert as_list == {"_id": "l", "_rev": "2-" + "b" * 32, "_revisions": {"start": 2, "ids": ["b" * 32, "a" * 32]}}


@pytest.mark.couchdb_only  # PouchDB Server ignores all_or_nothing; CouchDB 2+ refuses it
async def test_bulk_docs_all_or_nothing_is_refused_by_couchdb(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.ClientError) as caught:
        await db.bulk_docs([{"_id": "a"}], all_or_nothing=True)
    assert caught.value.status == 417


@pytest.mark.parametrize(
    "docs",
    [[{"_id": "a"}], [{"_rev": REV_B}], [{"_id": "a", "_rev": ""}]],
    ids=["no-rev", "no-id", "empty-rev"],
)
async def test_bulk_docs_with_new_edits_false_needs_ids_and_revs(couch, docs):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).bulk_docs(docs, new_edits=False)


async def test_bulk_docs_refuses_bad_input_before_sending(couch):
    db = offline_db(couch)
    for docs in ({"_id": "a"}, "a", None):
        with pytest.raises(couch.module.InvalidType):
            await db.bulk_docs(docs)
    with pytest.raises(couch.module.InvalidType):
        await db.bulk_docs(["a"])
    with pytest.raises(couch.module.InvalidType):
        await db.bulk_docs([{"_id": 3}])
    with pytest.raises(couch.module.InvalidArgument):
        await db.bulk_docs([{"_id": ""}])
    with pytest.raises(couch.module.InvalidType):
        await db.bulk_docs([], new_edits="false")
    with pytest.raises(couch.module.InvalidType):
        await db.bulk_docs([], all_or_nothing=1)


async def test_bulk_docs_with_an_illegal_id_fails_the_whole_request(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.BadRequest):
        await db.bulk_docs([{"_id": "ok"}, {"_id": "_bad"}])
    assert await db.exists("ok") is False


# --- _bulk_get --------------------------------------------------------------------------


async def test_bulk_get_by_ids_gives_each_current_doc(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    results = await db.bulk_get(["a1", "c1"])
    assert [result["id"] for result in results] == ["a1", "c1"]
    assert [result["docs"][0]["ok"] for result in results] == [docs["a1"], docs["c1"]]


async def test_bulk_get_by_id_and_rev_gives_that_revision(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    first = docs["a1"]["_rev"]
    docs["a1"]["n"] = 100
    await db.save(docs["a1"])
    results = await db.bulk_get([{"id": "a1", "rev": first}, {"id": "b1"}])
    assert results[0]["docs"][0]["ok"]["n"] == 1
    assert results[1]["docs"][0]["ok"]["n"] == 2


async def test_bulk_get_with_revs_adds_the_history(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    await db.save(docs["a1"])
    [result] = await db.bulk_get(["a1"], revs=True)
    assert result["docs"][0]["ok"]["_revisions"]["start"] == 2


async def test_bulk_get_with_latest_answers_an_old_rev_with_its_leaf(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    first = docs["a1"]["_rev"]
    await db.save(docs["a1"])
    [result] = await db.bulk_get([{"id": "a1", "rev": first}], latest=True)
    assert result["docs"][0]["ok"]["_rev"] == docs["a1"]["_rev"]


@pytest.mark.couchdb_only  # PouchDB Server answers {} for a missing doc and merges requests for one id
async def test_bulk_get_reports_a_missing_doc_or_rev_in_its_result(couch):
    db = await couch.fresh_db()
    await abc(db, **couch.all_copies)
    results = await db.bulk_get(["missing", {"id": "a1", "rev": MISSING_REV}, "a1"])
    assert [result["id"] for result in results] == ["missing", "a1", "a1"]
    assert results[0]["docs"][0]["error"]["error"] == "not_found"
    assert results[1]["docs"][0]["error"]["rev"] == MISSING_REV
    assert "ok" in results[2]["docs"][0]


@pytest.mark.couchdb_only  # PouchDB Server returns only the winner
async def test_bulk_get_of_a_conflicted_doc_gives_every_leaf(couch):
    db = await couch.fresh_db()
    await db.bulk_docs([{"_id": "c", "_rev": REV_B}, {"_id": "c", "_rev": REV_C}], new_edits=False)
    [result] = await db.bulk_get(["c"])
    assert sorted(item["ok"]["_rev"] for item in result["docs"]) == [REV_B, REV_C]


async def test_bulk_get_refuses_bad_items_before_sending(couch):
    db = offline_db(couch)
    for docs, error in [
        ("a1", couch.module.InvalidType),
        ([3], couch.module.InvalidType),
        ([""], couch.module.InvalidArgument),
        ([{"rev": REV_B}], couch.module.InvalidArgument),
        ([{"id": 3}], couch.module.InvalidType),
        ([{"id": ""}], couch.module.InvalidArgument),
        ([{"id": "a", "rev": 1}], couch.module.InvalidType),
        ([{"id": "a", "revision": REV_B}], couch.module.InvalidArgument),
        ([{"id": "a", "atts_since": REV_B}], couch.module.InvalidType),
    ]:
        with pytest.raises(error):
            await db.bulk_get(docs)
    with pytest.raises(couch.module.InvalidType):
        await db.bulk_get(["a"], revs="true")


# --- _all_docs, _design_docs -------------------------------------------------------------


async def test_all_docs_gives_a_row_per_doc_in_id_order(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    rows = await db.all_docs()
    assert [row["id"] for row in rows] == ["a1", "b1", "b2", "c1"]
    assert [row["value"]["rev"] for row in rows] == [docs[row["id"]]["_rev"] for row in rows]


async def test_all_docs_is_the_same_as_view_all_docs(couch):
    db = await couch.fresh_db()
    await abc(db, **couch.all_copies)
    assert await db.all_docs(include_docs=True) == await db.view("_all_docs", include_docs=True)


async def test_all_docs_with_include_docs(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    rows = await db.all_docs(include_docs=True, limit=2)
    assert [row["doc"] for row in rows] == [docs["a1"], docs["b1"]]


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"startkey": "b", "endkey": "b\ufff0"}, ["b1", "b2"]),
        ({"start_key": "b", "end_key": "b\ufff0"}, ["b1", "b2"]),
        ({"startkey": "b", "endkey": "b2", "inclusive_end": False}, ["b1"]),
        ({"key": "b2"}, ["b2"]),
        ({"descending": True, "limit": 2}, ["c1", "b2"]),
        ({"descending": True, "startkey": "b2", "endkey": "b"}, ["b2", "b1"]),
        ({"skip": 1, "limit": 2}, ["b1", "b2"]),
        ({"count": 1}, ["a1"]),
    ],
    ids=[
        "range",
        "start-key-spelling",
        "inclusive-end",
        "key",
        "descending",
        "descending-range",
        "skip-limit",
        "count",
    ],
)
async def test_all_docs_query_options(couch, params, ids):
    db = await couch.fresh_db()
    await abc(db, **couch.all_copies)
    assert [row["id"] for row in await db.all_docs(**params)] == ids


async def test_all_docs_with_keys_posts_them_and_keeps_their_order(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    await db.delete(docs["b2"])
    rows = await couch.eventually(  # on a cluster, the copy read may learn of the delete a moment later
        lambda: db.all_docs(keys=["c1", "missing", "a1", "b2"], include_docs=True),
        until=lambda rows: rows[3].get("value", {}).get("deleted"),
    )
    assert [row["key"] for row in rows] == ["c1", "missing", "a1", "b2"]
    assert rows[0]["doc"]["n"] == 4
    assert rows[1]["error"] == "not_found"
    assert rows[3]["value"]["deleted"] is True and rows[3]["doc"] is None


async def test_all_docs_with_include_count_gives_total_rows(couch):
    db = await couch.fresh_db()
    await abc(db, **couch.all_copies)
    rows, total = await db.all_docs(limit=1, include_count=True)
    assert len(rows) == 1 and total == 4


async def test_all_docs_with_conflicts_shows_them_on_the_docs(couch):
    db = await couch.fresh_db()
    await db.bulk_docs([{"_id": "c", "_rev": REV_B}, {"_id": "c", "_rev": REV_C}], new_edits=False, **couch.all_copies)
    [row] = await db.all_docs(include_docs=True, conflicts=True)
    assert row["doc"]["_conflicts"] == [REV_B]


async def test_all_docs_lists_design_docs_and_awkward_ids(couch):
    db = await couch.fresh_db()
    await db.bulk_docs([dict(DDOC), {"_id": "a/b"}, {"_id": "ünï"}], **couch.all_copies)
    assert [row["id"] for row in await db.all_docs()] == ["_design/d", "a/b", "ünï"]


async def test_all_docs_refuses_unknown_options_and_bad_keys(couch):
    db = offline_db(couch)
    with pytest.raises(couch.module.InvalidArgument):
        await db.all_docs(bogus=1)
    with pytest.raises(couch.module.InvalidType):
        await db.all_docs(keys="a1")


@pytest.mark.couchdb_only  # PouchDB Server has no _design_docs
async def test_design_docs_lists_only_the_design_docs(couch):
    db = await couch.fresh_db()
    await db.bulk_docs([dict(DDOC), {"_id": "_design/e"}, {"_id": "a"}], **couch.all_copies)
    rows = await db.design_docs()
    assert [row["id"] for row in rows] == ["_design/d", "_design/e"]
    rows = await db.design_docs(include_docs=True, key="_design/d")
    assert rows[0]["doc"]["views"] == DDOC["views"]


async def test_design_docs_refuses_an_unknown_option(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).design_docs(bogus=1)


# --- _revs_diff, _missing_revs, _purge, _revs_limit ---------------------------------------


async def test_revs_diff_gives_the_revs_the_database_lacks(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    diff = await db.revs_diff({"a1": [docs["a1"]["_rev"], MISSING_REV], "b1": [docs["b1"]["_rev"]], "nope": ["1-abc"]})
    assert diff["a1"]["missing"] == [MISSING_REV]
    assert diff["nope"]["missing"] == ["1-abc"]
    assert "b1" not in diff


@pytest.mark.couchdb_only  # PouchDB Server leaves out possible_ancestors
async def test_revs_diff_names_possible_ancestors(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    diff = await db.revs_diff({"a1": [MISSING_REV]})
    assert diff["a1"]["possible_ancestors"] == [docs["a1"]["_rev"]]


@pytest.mark.couchdb_only  # PouchDB Server has no _missing_revs
async def test_missing_revs_gives_the_missing_revs_per_doc(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    missing = await db.missing_revs({"a1": [docs["a1"]["_rev"], MISSING_REV], "nope": ["1-abc"]})
    assert missing == {"a1": [MISSING_REV], "nope": ["1-abc"]}


@pytest.mark.couchdb_only  # PouchDB Server has no _purge
async def test_purge_removes_a_document_for_good(couch):
    db = await couch.fresh_db()
    docs = await abc(db, **couch.all_copies)
    result = await db.purge({"a1": [docs["a1"]["_rev"]], "nope": ["1-abc"]})
    assert result["purged"] == {"a1": [docs["a1"]["_rev"]], "nope": []}
    # a purge is answered once a majority of a cluster's copies has it: the others follow a moment later
    assert await couch.eventually(lambda: db.exists("a1"), until=lambda exists: exists is False) is False
    gone = {"a1": {"missing": [docs["a1"]["_rev"]]}}
    assert await couch.eventually(lambda: db.revs_diff({"a1": [docs["a1"]["_rev"]]}), until=gone.__eq__) == gone


@pytest.mark.couchdb_only  # PouchDB Server has no _revs_limit
async def test_revs_limit_reads_and_sets_the_limit(couch):
    db = await couch.fresh_db()
    assert await db.revs_limit() == 1000
    assert (await db.set_revs_limit(50))["ok"] is True
    assert await db.revs_limit() == 50


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.revs_diff(["a"]),
        lambda db: db.revs_diff({"a": "1-abc"}),
        lambda db: db.revs_diff({"a": [1]}),
        lambda db: db.revs_diff({1: ["1-abc"]}),
        lambda db: db.missing_revs({"a": None}),
        lambda db: db.purge({"a": "1-abc"}),
        lambda db: db.set_revs_limit("10"),
        lambda db: db.set_revs_limit(True),
        lambda db: db.compact(3),
    ],
    ids=[
        "list",
        "bare-rev",
        "non-str-rev",
        "non-str-id",
        "missing-revs-none",
        "purge-bare-rev",
        "limit-str",
        "limit-bool",
        "compact-ddoc-int",
    ],
)
async def test_bad_types_are_refused_before_sending(couch, call):
    with pytest.raises(couch.module.InvalidType):
        await call(offline_db(couch))


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.revs_diff({"": ["1-abc"]}),
        lambda db: db.purge({"a": [""]}),
        lambda db: db.set_revs_limit(0),
        lambda db: db.compact("_design/"),
        lambda db: db.compact(""),
    ],
    ids=["empty-id", "empty-rev", "limit-zero", "bare-prefix", "empty-ddoc"],
)
async def test_bad_values_are_refused_before_sending(couch, call):
    with pytest.raises(couch.module.InvalidArgument):
        await call(offline_db(couch))


# --- _compact, _view_cleanup, _ensure_full_commit ------------------------------------------


async def test_compact_starts_compaction(couch):
    db = await couch.fresh_db()
    await abc(db, **couch.all_copies)
    assert (await db.compact())["ok"] is True
    assert (await db.info())["doc_count"] == 4


@pytest.mark.couchdb_only  # PouchDB Server has no view compaction
@pytest.mark.parametrize("ddoc", ["d", "_design/d"])
async def test_compact_a_design_docs_views(couch, ddoc):
    db = await couch.fresh_db()
    await db.bulk_docs([dict(DDOC), {"_id": "a", "n": 1}], **couch.all_copies)
    await db.view("d/by_n")
    assert (await db.compact(ddoc))["ok"] is True


@pytest.mark.couchdb_only
async def test_compact_of_a_missing_design_doc_is_not_found(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound):
        await db.compact("missing")


async def test_view_cleanup_is_accepted(couch):
    db = await couch.fresh_db()
    await db.bulk_docs([dict(DDOC), {"_id": "a", "n": 1}], **couch.all_copies)
    await db.view("d/by_n")
    assert (await db.view_cleanup())["ok"] is True


async def test_ensure_full_commit_is_accepted(couch):
    db = await couch.fresh_db()
    assert (await db.ensure_full_commit())["ok"] is True


async def test_compact_of_a_missing_database_is_not_found(couch):
    db = couch.Database(couch.db_name("missing"), url=couch.url)
    with pytest.raises(couch.module.NotFound):
        await db.compact()


# --- /_dbs_info --------------------------------------------------------------------------


@pytest.mark.couchdb_only  # PouchDB Server has no /_dbs_info
async def test_dbs_info_with_keys_gives_each_databases_info(couch):
    db = await couch.fresh_db()
    missing = couch.db_name("missing")
    rows = await couch.server().dbs_info([db.name, missing])
    assert [row["key"] for row in rows] == [db.name, missing]
    assert rows[0]["info"]["db_name"] == db.name
    assert rows[1]["error"] == "not_found"


@pytest.mark.couchdb_only  # /_dbs_info GET with paging: CouchDB 3.2 and later
async def test_dbs_info_pages_through_the_databases(couch):
    first = await couch.fresh_db("dbsinfo")
    second = await couch.fresh_db("dbsinfo")
    names = sorted([first.name, second.name])
    rows = await couch.server().dbs_info(startkey=names[0], endkey=names[1])
    assert [row["key"] for row in rows] == names
    rows = await couch.server().dbs_info(startkey=names[0], endkey=names[1], limit=1)
    assert [row["key"] for row in rows] == names[:1]


async def test_dbs_info_refuses_bad_input_before_sending(couch):
    server = couch.server(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(couch.module.InvalidType):
        await server.dbs_info("db")
    with pytest.raises(couch.module.InvalidType):
        await server.dbs_info([1])
    with pytest.raises(couch.module.InvalidArgument):
        await server.dbs_info(bogus=1)
    with pytest.raises(couch.module.InvalidArgument):
        await server.dbs_info(["db"], limit=1)
