"""Mango: _find (whole answer, streamed, every page), _explain, _index create/list/delete."""

import pytest

from wallaby.backends.couchdb.testing import free_port

# m01..m30: n = 1..30, type "a" for even n, "b" for odd n, a nested member.
DOCS = [{"_id": f"m{n:02}", "n": n, "type": "a" if n % 2 == 0 else "b", "nested": {"x": n % 3}} for n in range(1, 31)]


async def mango_db(couch, docs=DOCS):
    db = await couch.fresh_db()
    await db.save({"docs": [dict(doc) for doc in docs]}, **couch.all_copies)
    return db


def offline_db(couch):
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


def ids(docs):
    return [doc["_id"] for doc in docs]


# --- _find ------------------------------------------------------------------------------


async def test_find_returns_the_whole_answer_with_the_matching_docs(couch):
    db = await mango_db(couch)
    answer = await db.find({"type": "a", "n": {"$lte": 10}})
    assert isinstance(answer, dict)
    assert sorted(ids(answer["docs"])) == ["m02", "m04", "m06", "m08", "m10"]
    assert answer["docs"][0]["_rev"]


async def test_find_with_fields_sort_limit_and_skip(couch):
    db = await mango_db(couch)
    await db.create_index(["n"], **couch.all_copies)
    answer = await db.find({"n": {"$gt": 0}}, fields=["_id", "n"], sort=[{"n": "desc"}], limit=3, skip=2)
    assert answer["docs"] == [{"_id": "m28", "n": 28}, {"_id": "m27", "n": 27}, {"_id": "m26", "n": 26}]


async def test_find_sorts_by_field_names_too(couch):
    db = await mango_db(couch)
    await db.create_index(["type", "n"], name="type-n", ddoc="by-type", **couch.all_copies)
    answer = await db.find({"type": "b", "n": {"$gt": 20}}, fields=["n"], sort=["type", "n"])
    assert [doc["n"] for doc in answer["docs"]] == [21, 23, 25, 27, 29]


async def test_an_index_may_hold_the_document_id(couch):
    db = await mango_db(couch)
    await db.create_index(["type", "_id"], name="type-id", ddoc="by-type-id", **couch.all_copies)
    answer = await db.find(
        {"type": "a", "_id": {"$gt": "m20"}}, fields=["_id"], sort=["type", "_id"], use_index="by-type-id"
    )
    assert ids(answer["docs"]) == ["m22", "m24", "m26", "m28", "m30"]


async def test_find_on_a_nested_field_and_with_operators(couch):
    db = await mango_db(couch)
    answer = await db.find({"nested.x": 0, "n": {"$in": [3, 4, 6, 7]}}, fields=["_id"])
    assert sorted(ids(answer["docs"])) == ["m03", "m06"]


async def test_find_with_use_index(couch):
    db = await mango_db(couch)
    await db.create_index(["type", "n"], name="type-n", ddoc="by-type", **couch.all_copies)
    for use_index in (["by-type", "type-n"], "_design/by-type", ("_design/by-type", "type-n")):
        answer = await db.find({"type": "a", "n": {"$gt": 24}}, fields=["_id"], use_index=use_index)
        assert sorted(ids(answer["docs"])) == ["m26", "m28", "m30"]


async def test_a_bad_selector_is_a_bad_request(couch):
    db = await mango_db(couch)
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.find({"n": {"$bogus": 1}})
    assert caught.value.status == 400
    assert not isinstance(caught.value, couch.module.ViewError)


async def test_a_sort_no_index_serves_is_a_bad_request(couch):
    db = await mango_db(couch)
    with pytest.raises(couch.module.BadRequest):
        await db.find({"nested.x": {"$gt": None}}, sort=["nested.x"])


async def test_find_in_a_missing_database_is_not_found(couch):
    async with couch.Database(couch.db_name("missing"), url=couch.url) as db:
        with pytest.raises(couch.module.NotFound):
            await db.find({})


@pytest.mark.couchdb_only
async def test_find_answers_a_bookmark_a_warning_and_execution_stats(couch):
    db = await mango_db(couch)
    answer = await db.find({"type": "a"}, fields=["_id"], execution_stats=True)
    assert len(answer["docs"]) == 15
    assert isinstance(answer["bookmark"], str) and answer["bookmark"]
    assert "index" in answer["warning"]
    assert answer["execution_stats"]["results_returned"] == 15


@pytest.mark.couchdb_only
async def test_find_pages_by_bookmark(couch):
    db = await mango_db(couch)
    seen, bookmark = [], None
    while True:
        answer = await db.find({"n": {"$gte": 1}}, fields=["_id"], limit=8, bookmark=bookmark)
        seen += ids(answer["docs"])
        if len(answer["docs"]) < 8:
            break
        bookmark = answer["bookmark"]
    assert seen == [doc["_id"] for doc in DOCS]


async def test_a_bookmark_the_server_cannot_use_is_an_error(couch):
    db = await mango_db(couch)
    with pytest.raises(couch.module.CouchDBError) as caught:
        await db.find({"n": {"$gte": 1}}, limit=4, bookmark="garbage")
    if couch.is_couchdb:  # CouchDB refuses it
        assert isinstance(caught.value, couch.module.BadRequest)
        assert caught.value.error == "invalid_bookmark"
    else:  # PouchDB Server ignores bookmarks and answers the first page: never silently
        assert not isinstance(caught.value, couch.module.ResponseError)
        assert "bookmark" in str(caught.value)
        assert caught.value.url.endswith(f"/{db.name}/_find")


# --- stream_find and find_all -------------------------------------------------------------


async def test_stream_find_yields_the_docs_of_find(couch):
    db = await mango_db(couch)
    selector = {"type": "b"}
    stream = db.stream_find(selector, fields=["_id", "n"], limit=10)
    docs = [doc async for doc in stream]
    assert docs == (await db.find(selector, fields=["_id", "n"], limit=10))["docs"]
    assert len(docs) == 10
    if couch.is_couchdb:
        assert stream.meta["bookmark"]
        assert "warning" in stream.meta


async def test_stream_find_errors_are_typed_and_arguments_checked_at_once(couch):
    db = await mango_db(couch)
    with pytest.raises(couch.module.BadRequest):
        await db.stream_find({"n": {"$bogus": 1}}).to_list()
    with pytest.raises(couch.module.InvalidType):
        db.stream_find(["n"])


async def test_find_all_yields_every_match_once_in_order(couch):
    db = await mango_db(couch)
    await db.create_index(["n"], name="n", ddoc="by-n", **couch.all_copies)
    stream = db.find_all({"n": {"$gt": 3}}, fields=["_id", "n"], sort=["n"], page_size=5)
    docs = await stream.to_list()
    assert [doc["n"] for doc in docs] == list(range(4, 31))
    # CouchDB pages by bookmark; a server without bookmarks (PouchDB Server) by skip
    assert stream.meta["paging"] == ("bookmark" if couch.is_couchdb else "skip")


async def test_find_all_with_a_page_size_that_divides_the_results(couch):
    db = await mango_db(couch)
    docs = await db.find_all({"type": "a"}, fields=["_id"], page_size=3).to_list()
    assert sorted(ids(docs)) == [f"m{n:02}" for n in range(2, 31, 2)]


async def test_find_all_of_nothing_and_of_less_than_a_page(couch):
    db = await mango_db(couch)
    assert await db.find_all({"n": {"$gt": 100}}).to_list() == []
    assert len(await db.find_all({"n": {"$lte": 4}}, page_size=200).to_list()) == 4


async def test_find_all_runs_with_back_pressure_and_closes_early(couch):
    db = await mango_db(couch)
    seen = []

    async def slow(doc):
        await couch.sleep(0.001)
        seen.append(doc["_id"])

    await db.find_all({"n": {"$gte": 1}}, fields=["_id"], page_size=7).run(slow)
    assert sorted(seen) == sorted(ids(DOCS))
    stream = db.find_all({"n": {"$gte": 1}}, page_size=4)
    await stream.__anext__()
    await stream.close()
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


@pytest.mark.couchdb_only
async def test_find_all_follows_bookmarks_past_the_last_full_page(couch):
    db = await mango_db(couch)
    stream = db.find_all({"n": {"$gte": 1}}, fields=["_id"], page_size=10)
    assert ids(await stream.to_list()) == ids(DOCS)
    assert stream.meta["paging"] == "bookmark"
    assert stream.meta["bookmark"]


# --- _explain -----------------------------------------------------------------------------


async def test_explain_names_the_index_a_query_uses(couch):
    db = await mango_db(couch)
    await db.create_index(["type", "n"], name="type-n", ddoc="by-type", **couch.all_copies)
    plan = await db.explain({"type": "a", "n": {"$gt": 2}}, fields=["_id"], sort=["type", "n"])
    assert plan["index"]["ddoc"] == "_design/by-type"
    assert plan["index"]["name"] == "type-n"
    assert plan["dbname"] == db.name


# --- _index -------------------------------------------------------------------------------


async def test_create_index_then_it_exists_and_is_listed(couch):
    db = await mango_db(couch)
    created = await db.create_index(["type", {"n": "asc"}], name="type-n", ddoc="_design/by-type", **couch.all_copies)
    assert created == {"result": "created", "id": "_design/by-type", "name": "type-n"}
    # the same definition, spelled the same (CouchDB compares the definition as given: with
    # ["type", "n"] it would answer "created" and write the design document again)
    again = await db.create_index(["type", {"n": "asc"}], name="type-n", ddoc="by-type", **couch.all_copies)
    assert again["result"] == "exists"
    listed = await db.indexes()
    assert listed[0]["name"] == "_all_docs" and listed[0]["type"] == "special"
    [index] = [i for i in listed if i["name"] == "type-n"]
    assert index["ddoc"] == "_design/by-type"
    assert index["def"]["fields"] == [{"type": "asc"}, {"n": "asc"}]


async def test_create_index_names_itself_when_not_told(couch):
    db = await mango_db(couch)
    created = await db.create_index(["n"], **couch.all_copies)
    assert created["result"] == "created"
    assert created["id"].startswith("_design/") and created["name"]
    assert created["name"] in [i["name"] for i in await db.indexes()]


async def test_a_partial_index_serves_only_its_docs(couch):
    db = await mango_db(couch)
    await db.create_index(
        ["n"], name="a-only", ddoc="partial", partial_filter_selector={"type": "a"}, **couch.all_copies
    )
    [index] = [i for i in await db.indexes() if i["name"] == "a-only"]
    assert "partial_filter_selector" in index["def"]
    answer = await db.find({"type": "a", "n": {"$gt": 25}}, fields=["_id"], use_index=["partial", "a-only"])
    assert sorted(ids(answer["docs"])) == ["m26", "m28", "m30"]


async def three_indexes(couch):
    db = await mango_db(couch)
    for field in ("n", "type", "nested.x"):
        await db.create_index([field], name=f"by-{field}", ddoc=f"ddoc-{field}", **couch.all_copies)
    return db


async def test_indexes_lists_every_index(couch):
    db = await three_indexes(couch)
    listed = await db.indexes()
    assert sorted(i["name"] for i in listed) == ["_all_docs", "by-n", "by-nested.x", "by-type"]


@pytest.mark.couchdb_only
async def test_indexes_limit_and_skip(couch):
    db = await three_indexes(couch)  # PouchDB Server ignores limit and skip here
    everything = await db.indexes()
    assert len(everything) == 4
    assert await db.indexes(limit=2) == everything[:2]
    assert await db.indexes(skip=1, limit=2) == everything[1:3]


async def test_delete_index_by_ddoc_with_or_without_prefix(couch):
    db = await mango_db(couch)
    await db.create_index(["n"], name="one", ddoc="first", **couch.all_copies)
    await db.create_index(["type"], name="two", ddoc="second", **couch.all_copies)
    assert await db.delete_index("first", "one") == {"ok": True}
    assert await db.delete_index("_design/second", "two", type="json") == {"ok": True}
    assert [i["name"] for i in await db.indexes()] == ["_all_docs"]
    with pytest.raises(couch.module.ResponseError):
        await db.delete_index("first", "one")


@pytest.mark.couchdb_only
async def test_deleting_a_missing_index_is_not_found(couch):
    db = await mango_db(couch)  # PouchDB Server answers 500 to the form both servers accept
    with pytest.raises(couch.module.NotFound):
        await db.delete_index("nope", "nope")


# --- arguments refused before sending -------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"selector": ["n"]}, "InvalidType"),
        ({"selector": None}, "InvalidType"),
        ({"selector": {}, "fields": "_id"}, "InvalidType"),
        ({"selector": {}, "fields": ["_id", 3]}, "InvalidType"),
        ({"selector": {}, "sort": "n"}, "InvalidType"),
        ({"selector": {}, "sort": [{"n": "up"}]}, "InvalidArgument"),
        ({"selector": {}, "sort": [{"n": "asc", "m": "asc"}]}, "InvalidArgument"),
        ({"selector": {}, "sort": [3]}, "InvalidType"),
        ({"selector": {}, "limit": -1}, "InvalidArgument"),
        ({"selector": {}, "limit": "10"}, "InvalidType"),
        ({"selector": {}, "limit": True}, "InvalidType"),
        ({"selector": {}, "skip": 1.5}, "InvalidType"),
        ({"selector": {}, "use_index": ""}, "InvalidArgument"),
        ({"selector": {}, "use_index": ["a", "b", "c"]}, "InvalidArgument"),
        ({"selector": {}, "use_index": 5}, "InvalidType"),
        ({"selector": {}, "execution_stats": "yes"}, "InvalidType"),
        ({"selector": {}, "bookmark": 5}, "InvalidType"),
        ({"selector": {}, "bookmark": ""}, "InvalidArgument"),
        ({"selector": {}, "colour": "red"}, "InvalidArgument"),
        ({"selector": {}, "r": "1"}, "InvalidType"),
        ({"selector": {}, "r": True}, "InvalidType"),
        ({"selector": {}, "conflicts": 1}, "InvalidType"),
        ({"selector": {}, "partition": "_bad"}, "InvalidArgument"),
    ],
)
async def test_bad_find_arguments_are_refused(couch, kwargs, error):
    db = offline_db(couch)
    with pytest.raises(getattr(couch.module, error)):
        await db.find(**kwargs)
    with pytest.raises(getattr(couch.module, error)):
        await db.explain(**kwargs) if "execution_stats" not in kwargs else db.stream_find(**kwargs)


async def test_find_all_refuses_its_own_paging_options(couch):
    db = offline_db(couch)
    for name, value in (("limit", 5), ("skip", 1), ("bookmark", "b"), ("execution_stats", True)):
        with pytest.raises(couch.module.InvalidArgument):
            db.find_all({}, **{name: value})
    for page_size, error in ((0, "InvalidArgument"), (-3, "InvalidArgument"), ("10", "InvalidType")):
        with pytest.raises(getattr(couch.module, error)):
            db.find_all({}, page_size=page_size)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"fields": "n"}, "InvalidType"),
        ({"fields": []}, "InvalidArgument"),
        ({"fields": [{"n": "sideways"}]}, "InvalidArgument"),
        ({"fields": ["n"], "name": ""}, "InvalidType"),
        ({"fields": ["n"], "ddoc": "_design/"}, "InvalidArgument"),
        ({"fields": ["n"], "ddoc": 3}, "InvalidType"),
        ({"fields": ["n"], "type": ""}, "InvalidType"),
        ({"fields": ["n"], "partial_filter_selector": "type=a"}, "InvalidType"),
        ({"fields": ["n"], "partitioned": "yes"}, "InvalidType"),
    ],
)
async def test_bad_index_arguments_are_refused(couch, kwargs, error):
    with pytest.raises(getattr(couch.module, error)):
        await offline_db(couch).create_index(**kwargs)


async def test_bad_delete_index_arguments_are_refused(couch):
    db = offline_db(couch)
    for args in (("", "n"), ("d", ""), ("d", None), (None, "n"), ("d", "n", "")):
        with pytest.raises(couch.module.InvalidArgument):
            await db.delete_index(*args)
    for kwargs in ({"limit": -1}, {"skip": "2"}):
        with pytest.raises(couch.module.InvalidArgument):
            await db.indexes(**kwargs)
