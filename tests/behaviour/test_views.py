"""Views and _all_docs: paths, Python-valued keys, count/limit, include_count, reduce, errors."""

import pytest

from wallaby.backends.couchdb.testing import free_port

DESIGN = {
    "_id": "_design/d",
    "views": {
        "by_n": {"map": "function (doc) { if (doc.n !== undefined) { emit(doc.n, doc.type); } }"},
        "by_type": {"map": "function (doc) { if (doc.type) { emit(doc.type, doc.n); } }", "reduce": "_sum"},
        "count": {"map": "function (doc) { if (doc.type) { emit(doc.type, null); } }", "reduce": "_count"},
        "by_pair": {"map": "function (doc) { if (doc.type) { emit([doc.type, doc.n], null); } }", "reduce": "_count"},
    },
}

# v1..v6: n = 1..6, type "a" for odd n, "b" for even n.
DOCS = [{"_id": f"v{n}", "n": n, "type": "a" if n % 2 else "b"} for n in range(1, 7)]


async def view_db(couch):
    db = await couch.fresh_db()
    await db.save({"docs": [dict(DESIGN), *(dict(doc) for doc in DOCS)]}, **couch.all_copies)
    return db


def offline_db(couch):
    """A Database on a port nothing listens on: any request would be a NetworkError."""
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


def keys(rows):
    return [row["key"] for row in rows]


def ids(rows):
    return [row["id"] for row in rows]


# --- paths and rows -----------------------------------------------------------------


async def test_view_by_its_full_path_returns_rows_in_key_order(couch):
    db = await view_db(couch)
    rows = await db.view("_design/d/_view/by_n")
    assert keys(rows) == [1, 2, 3, 4, 5, 6]
    assert ids(rows) == ["v1", "v2", "v3", "v4", "v5", "v6"]
    assert rows[0]["value"] == "a"


async def test_view_by_the_short_path_ddoc_slash_view(couch):
    db = await view_db(couch)
    assert await db.view("d/by_n") == await db.view("_design/d/_view/by_n")


async def test_count_means_limit(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", count=2)) == [1, 2]
    assert keys(await db.view("d/by_n", limit=2)) == [1, 2]


async def test_skip_and_limit_page_through_rows(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", skip=2, limit=3)) == [3, 4, 5]


async def test_descending_reverses_the_rows(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", descending=True)) == [6, 5, 4, 3, 2, 1]


async def test_include_docs_adds_each_document(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_n", include_docs=True, count=2)
    assert [row["doc"]["_id"] for row in rows] == ["v1", "v2"]
    assert rows[0]["doc"]["type"] == "a"


async def test_include_count_gives_rows_and_total_rows(couch):
    db = await view_db(couch)
    rows, total = await db.view("d/by_n", include_count=True, count=2)
    assert keys(rows) == [1, 2]
    assert total == 6


async def test_include_count_has_the_seeds_spelling_too(couch):
    db = await view_db(couch)
    rows, total = await db.view("_design/d/_view/by_n", includeCount=True)
    assert len(rows) == total == 6


async def test_a_view_of_an_empty_range_is_no_rows(couch):
    db = await view_db(couch)
    assert await db.view("d/by_n", key=99) == []


# --- keys as Python values -------------------------------------------------------------


async def test_a_string_key_needs_no_quoting(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_type", key="a", reduce=False)
    assert ids(rows) == ["v1", "v3", "v5"]
    assert keys(rows) == ["a", "a", "a"]


async def test_a_number_key(couch):
    db = await view_db(couch)
    assert ids(await db.view("d/by_n", key=3)) == ["v3"]


async def test_an_array_key(couch):
    db = await view_db(couch)
    assert ids(await db.view("d/by_pair", key=["b", 4], reduce=False)) == ["v4"]


async def test_a_string_key_that_looks_like_json_is_still_a_string(couch):
    db = await couch.fresh_db()
    docs = [dict(DESIGN), {"_id": "s1", "type": "1", "n": 1}, {"_id": "s2", "type": '"a"', "n": 2}]
    await db.save({"docs": docs}, **couch.all_copies)
    assert ids(await db.view("d/by_type", key="1", reduce=False)) == ["s1"]
    assert ids(await db.view("d/by_type", key='"a"', reduce=False)) == ["s2"]


async def test_keys_are_posted_and_keep_their_order(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_n", keys=[5, 1, 99])
    assert ids(rows) == ["v5", "v1"]


async def test_keys_with_strings(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_type", keys=["b", "a"], reduce=False)
    assert keys(rows) == ["b", "b", "b", "a", "a", "a"]


async def test_startkey_endkey_with_numbers(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", startkey=2, endkey=4)) == [2, 3, 4]


async def test_start_key_end_key_spelling(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", start_key=2, end_key=4)) == [2, 3, 4]


async def test_inclusive_end_false_leaves_out_endkey(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", startkey=2, endkey=4, inclusive_end=False)) == [2, 3]


async def test_startkey_endkey_with_strings(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_type", startkey="b", endkey="b\ufff0", reduce=False)
    assert ids(rows) == ["v2", "v4", "v6"]


async def test_startkey_endkey_with_arrays(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_pair", startkey=["b"], endkey=["b", {}], reduce=False)
    assert keys(rows) == [["b", 2], ["b", 4], ["b", 6]]


async def test_descending_with_startkey_endkey(couch):
    db = await view_db(couch)
    assert keys(await db.view("d/by_n", descending=True, startkey=5, endkey=2)) == [5, 4, 3, 2]


# --- reduce --------------------------------------------------------------------------------


async def test_a_reduce_view_reduces_everything_by_default(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_type")
    assert len(rows) == 1
    assert rows[0]["value"] == 21


async def test_group_reduces_per_key(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_type", group=True)
    assert rows == [{"key": "a", "value": 9}, {"key": "b", "value": 12}]


async def test_count_reduce(couch):
    db = await view_db(couch)
    assert (await db.view("d/count"))[0]["value"] == 6
    assert await db.view("d/count", group=True) == [{"key": "a", "value": 3}, {"key": "b", "value": 3}]


async def test_group_level_reduces_per_array_prefix(couch):
    db = await view_db(couch)
    rows = await db.view("d/by_pair", group_level=1)
    assert rows == [{"key": ["a"], "value": 3}, {"key": ["b"], "value": 3}]


async def test_reduce_false_gives_the_map_rows(couch):
    db = await view_db(couch)
    assert len(await db.view("d/by_type", reduce=False)) == 6


async def test_keys_with_group(couch):
    db = await view_db(couch)
    assert await db.view("d/by_type", keys=["b"], group=True) == [{"key": "b", "value": 12}]


# --- _all_docs -----------------------------------------------------------------------------


async def test_all_docs_through_view(couch):
    db = await view_db(couch)
    rows = await db.view("_all_docs")
    assert ids(rows) == ["_design/d", "v1", "v2", "v3", "v4", "v5", "v6"]
    assert all(row["value"]["rev"] for row in rows)


async def test_all_docs_with_a_key_range_and_include_docs(couch):
    db = await view_db(couch)
    rows = await db.view("_all_docs", startkey="v2", endkey="v4", include_docs=True)
    assert ids(rows) == ["v2", "v3", "v4"]
    assert [row["doc"]["n"] for row in rows] == [2, 3, 4]


async def test_all_docs_with_keys_reports_a_missing_key_in_its_row(couch):
    db = await view_db(couch)
    rows = await db.view("_all_docs", keys=["v3", "missing"])
    assert rows[0]["id"] == "v3"
    assert rows[1] == {"key": "missing", "error": "not_found"}


async def test_all_docs_with_count_and_include_count(couch):
    db = await view_db(couch)
    rows, total = await db.view("_all_docs", count=1, includeCount=True)
    assert len(rows) == 1 and total == 7


# --- errors -------------------------------------------------------------------------------


async def test_a_missing_view_is_not_found_and_a_view_error(couch):
    db = await view_db(couch)
    with pytest.raises(couch.module.NotFound) as caught:
        await db.view("d/nope")
    error = caught.value
    assert isinstance(error, couch.module.ViewError)
    assert isinstance(error, couch.module.CouchDBError)
    assert error.status == 404
    assert error.error == "not_found"
    assert error.method == "GET"
    assert error.url.endswith(f"/{db.name}/_design/d/_view/nope")


async def test_a_missing_design_doc_is_a_view_error(couch):
    db = await view_db(couch)
    with pytest.raises(couch.module.ViewError) as caught:
        await db.view("_design/nope/_view/x")
    assert isinstance(caught.value, couch.module.NotFound)


async def test_a_bad_query_is_a_view_error_and_a_bad_request(couch):
    db = await view_db(couch)
    with pytest.raises(couch.module.ViewError) as caught:
        await db.view("d/by_n", descending=True, startkey=2, endkey=5)  # an empty range, backwards
    assert isinstance(caught.value, couch.module.BadRequest)
    assert caught.value.status == 400


async def test_a_view_of_a_missing_database_is_not_found(couch):
    async with couch.Database(couch.db_name("missing"), url=couch.url) as db:
        with pytest.raises(couch.module.NotFound):
            await db.view("_all_docs")


@pytest.mark.parametrize(
    "path",
    [
        "nope",
        "",
        "_design/d/v",
        "_design/d/_view/",
        "_design//_view/v",
        "d/",
        "/v",
        "_all_dox",
        "a/b/c",
        "_design/d/_show/v",
    ],
)
async def test_a_bad_view_path_is_refused(couch, path):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).view(path)


@pytest.mark.parametrize("path", [None, 5, ["d", "v"]])
async def test_a_view_path_that_is_not_a_str_is_refused(couch, path):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).view(path)


async def test_an_unknown_option_is_refused(couch):
    with pytest.raises(couch.module.InvalidArgument) as caught:
        await offline_db(couch).view("d/v", bogus=1)
    assert "bogus" in str(caught.value)


async def test_count_and_limit_together_are_refused(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).view("d/v", count=1, limit=2)


async def test_keys_that_are_not_a_list_are_refused(couch):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).view("d/v", keys="a")


async def test_a_key_json_cannot_hold_is_refused(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).view("d/v", key={1, 2})


@pytest.mark.couchdb_only  # PouchDB Server lets a map change the document it was given
async def test_a_map_function_cannot_change_the_document_other_maps_see(couch):
    db = await couch.fresh_db()
    changes = "function (doc) { doc.n = 2; if (doc.tags) { doc.tags.push('x'); } emit(doc.n, null); }"
    reads = "function (doc) { emit(doc.n, doc.tags); }"
    await db.put_design("d", views={"changes": changes, "reads": reads})
    await db.save({"_id": "a", "n": 1, "tags": ["t"]})
    assert [row["key"] for row in await db.view("d/changes")] in ([], [1])  # an error, or no effect
    assert [(row["key"], row["value"]) for row in await db.view("d/reads")] == [(1, ["t"])]
