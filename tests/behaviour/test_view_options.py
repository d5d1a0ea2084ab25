"""The view query options test_views.py leaves out, and several queries in one request (/queries)."""

import pytest

DESIGN = {
    "_id": "_design/d",
    "views": {
        "by_n": {"map": "function (doc) { if (doc.n !== undefined) { emit(doc.n, doc.type); } }"},
        "by_type": {"map": "function (doc) { if (doc.type) { emit(doc.type, doc.n); } }", "reduce": "_sum"},
    },
}
# v1..v6: n = 1..6, type "a" for odd n, "b" for even n; w1..w3 share the key n = 10.
DOCS = [{"_id": f"v{n}", "n": n, "type": "a" if n % 2 else "b"} for n in range(1, 7)]
DOCS += [{"_id": f"w{n}", "n": 10} for n in range(1, 4)]


async def view_db(couch):
    db = await couch.fresh_db()
    await db.save({"docs": [dict(DESIGN), *(dict(doc) for doc in DOCS)]}, **couch.all_copies)
    return db


def ids(rows):
    return [row["id"] for row in rows]


# --- index freshness: stable, update, stale, update_seq --------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"stable": True},
        {"stable": False, "update": True},
        {"update": False},
        {"update": "lazy"},
        {"stale": "ok"},
        {"stale": "update_after"},
        {"stable": True, "update": False},
    ],
    ids=[
        "stable",
        "stable-false-update",
        "update-false",
        "update-lazy",
        "stale-ok",
        "stale-update-after",
        "stable-no-update",
    ],
)
async def test_freshness_options_are_accepted_on_a_built_index(couch, options):
    db = await view_db(couch)
    built = await db.view("d/by_n")
    # On a cluster each copy of a shard has its own index, built by the queries sent to it and by
    # CouchDB in the background; a query that does not update reads whichever copy it is sent to.
    assert await couch.eventually(lambda: db.view("d/by_n", **options), until=lambda rows: rows == built)


async def test_update_seq_is_in_the_meta_of_a_streamed_view(couch):
    db = await view_db(couch)
    stream = db.stream_view("d/by_n", update_seq=True, limit=1)
    assert len(await stream.to_list()) == 1
    assert stream.meta["update_seq"] is not None
    assert stream.meta["total_rows"] == 9
    if couch.is_couchdb and not couch.is_store:
        assert isinstance(stream.meta["update_seq"], str)  # an opaque string on CouchDB (the store counts)


# --- sorted, docids within equal keys ------------------------------------------------------


async def test_sorted_false_gives_the_same_rows(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_n", sorted=False)
    assert sorted(ids(rows)) == sorted(ids(await db.view("d/by_n")))


async def test_rows_of_equal_keys_come_in_docid_order(couch):
    db = await view_db(couch)
    assert ids(await db.view("d/by_n", key=10)) == ["w1", "w2", "w3"]
    assert ids(await db.view("d/by_n", key=10, descending=True)) == ["w3", "w2", "w1"]


@pytest.mark.couchdb_only
@pytest.mark.parametrize("spelling", ["old", "new"])
async def test_startkey_docid_and_endkey_docid_page_inside_equal_keys(couch, spelling):
    db = await view_db(couch)  # PouchDB Server ignores them
    names = ("startkey", "startkey_docid", "endkey", "endkey_docid")
    if spelling == "new":
        names = ("start_key", "start_key_doc_id", "end_key", "end_key_doc_id")
    options = dict(zip(names, (10, "w2", 10, "w2"), strict=False))
    assert ids(await db.view("d/by_n", **options)) == ["w2"]
    del options[names[3]]
    assert ids(await db.view("d/by_n", **options)) == ["w2", "w3"]


# --- include_docs companions: conflicts, attachments, att_encoding_info ----------------------


async def with_attachment(couch, db, **options):
    """The row of v2 once its attachment shows (on a cluster the copy read may have it a moment later)."""
    return await couch.eventually(
        lambda: db.view("d/by_n", key=2, **options), until=lambda rows: "_attachments" in rows[0]["doc"]
    )


async def test_conflicts_with_include_docs(couch):
    db = await view_db(couch)
    doc = await db.get("v1")
    leaf = {"_id": "v1", "_rev": "1-0123456789abcdef0123456789abcdef", "n": 1, "type": "a"}
    await db.save({"docs": [leaf]}, new_edits=False, **couch.all_copies)
    [row] = await db.view("d/by_n", key=1, include_docs=True, conflicts=True)
    conflicts = set(row["doc"].get("_conflicts", []))
    revs = {doc["_rev"], "1-0123456789abcdef0123456789abcdef"}
    assert row["doc"]["_rev"] in revs and conflicts == revs - {row["doc"]["_rev"]}


async def test_attachments_inline_with_include_docs(couch):
    db = await view_db(couch)
    await db.put_attachment(await db.get("v2"), "a.txt", b"hello view", content_type="text/plain")
    [row] = await with_attachment(couch, db, include_docs=True)
    assert row["doc"]["_attachments"]["a.txt"]["stub"] is True
    [row] = await db.view("d/by_n", key=2, include_docs=True, attachments=True)
    assert row["doc"]["_attachments"]["a.txt"]["data"] == "aGVsbG8gdmlldw=="


@pytest.mark.couchdb_only
@pytest.mark.server_only("CouchDB gzips text attachments it stores; the embedded store keeps them as sent")
async def test_att_encoding_info_tells_how_an_attachment_is_stored(couch):
    db = await view_db(couch)  # PouchDB Server stores nothing compressed
    await db.put_attachment(await db.get("v2"), "a.txt", b"hello view " * 100, content_type="text/plain")
    [row] = await with_attachment(couch, db, include_docs=True, att_encoding_info=True)
    stub = row["doc"]["_attachments"]["a.txt"]
    assert stub["encoding"] == "gzip" and stub["encoded_length"] < stub["length"]


# --- several queries in one request ----------------------------------------------------------


@pytest.mark.couchdb_only
async def test_view_queries_answers_each_query_in_order(couch):
    db = await view_db(couch)  # PouchDB Server has no /queries
    results = await db.view_queries(
        "d/by_n",
        [{"keys": [2, 1]}, {"startkey": 5, "limit": 2}, {"descending": True, "count": 1}, {"key": 10, "skip": 1}],
    )
    assert [ids(result["rows"]) for result in results] == [["v2", "v1"], ["v5", "v6"], ["w3"], ["w2", "w3"]]
    assert results[1]["total_rows"] == 9


@pytest.mark.couchdb_only
async def test_view_queries_of_a_reduce_view_and_of_all_docs(couch):
    db = await view_db(couch)
    results = await db.view_queries("_design/d/_view/by_type", [{}, {"group": True}, {"reduce": False, "key": "b"}])
    assert results[0]["rows"] == [{"key": None, "value": 21}]
    assert results[1]["rows"] == [{"key": "a", "value": 9}, {"key": "b", "value": 12}]
    assert ids(results[2]["rows"]) == ["v2", "v4", "v6"]
    [docs] = await db.view_queries("_all_docs", [{"startkey": "w", "endkey": "w\ufff0", "include_docs": True}])
    assert [row["doc"]["n"] for row in docs["rows"]] == [10, 10, 10]


@pytest.mark.couchdb_only
async def test_view_queries_errors_are_view_errors(couch):
    db = await view_db(couch)
    with pytest.raises(couch.module.ViewError) as caught:
        await db.view_queries("d/missing", [{}])
    assert isinstance(caught.value, couch.module.NotFound)


async def test_view_queries_arguments_are_refused_before_sending(couch):
    db = couch.offline_db()
    for queries, error in (
        ({"keys": [1]}, "InvalidType"),
        ([["keys"]], "InvalidType"),
        ([{"colour": "red"}], "InvalidArgument"),
        ([{"count": 1, "limit": 2}], "InvalidArgument"),
        ([{"keys": "a"}], "InvalidType"),
    ):
        with pytest.raises(getattr(couch.module, error)):
            await db.view_queries("d/by_n", queries)
    with pytest.raises(couch.module.InvalidArgument):
        await db.view_queries("nope", [{}])
