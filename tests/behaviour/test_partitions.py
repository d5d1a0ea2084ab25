"""Partitioned databases: create, partition info, and _all_docs, views, _find, _explain in one partition.

PouchDB Server has no partitioned databases (it ignores ``?partitioned=true``
and has no ``/_partition/`` endpoints), so what they do is tested against
Apache CouchDB only; tests/unit/test_mango_requests.py checks the requests
against the recorded CouchDB exchanges.
"""

import pytest

from wallaby.backends.couchdb.testing import free_port

READINGS = [
    {"_id": "sensor1:r1", "v": 1},
    {"_id": "sensor1:r2", "v": 2},
    {"_id": "sensor1:r3", "v": 3},
    {"_id": "sensor2:r1", "v": 10},
    {"_id": "sensor2:r2", "v": 20},
]


async def partitioned_db(couch):
    db = await couch.fresh_db("part", partitioned=True)
    await db.save({"docs": [dict(doc) for doc in READINGS]}, **couch.all_copies)
    await db.put_design(
        "p",
        views={"by_v": {"map": "function(doc){ emit(doc.v, null); }", "reduce": "_count"}},
        options={"partitioned": True},
    )
    return db


def offline_db(couch):
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


def ids(rows):
    return [row["id"] for row in rows]


@pytest.mark.couchdb_only
async def test_a_partitioned_database_says_so_and_wants_partitioned_ids(couch):
    db = await partitioned_db(couch)
    assert (await db.info())["props"] == {"partitioned": True}
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.save({"_id": "nopartition", "v": 0})
    assert caught.value.error == "illegal_docid"


@pytest.mark.couchdb_only
async def test_partition_info_counts_a_partitions_documents(couch):
    db = await partitioned_db(couch)
    info = await db.partition_info("sensor1")
    assert info["partition"] == "sensor1" and info["doc_count"] == 3 and info["db_name"] == db.name
    assert (await db.partition_info("nobody"))["doc_count"] == 0


@pytest.mark.couchdb_only
async def test_partition_info_of_a_database_that_is_not_partitioned_is_a_bad_request(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.BadRequest):
        await db.partition_info("x")


@pytest.mark.couchdb_only
async def test_all_docs_of_one_partition(couch):
    db = await partitioned_db(couch)
    assert ids(await db.all_docs(partition="sensor2")) == ["sensor2:r1", "sensor2:r2"]
    rows = await db.view("_all_docs", partition="sensor1", include_docs=True, startkey="sensor1:r2")
    assert [row["doc"]["v"] for row in rows] == [2, 3]
    streamed = await db.stream_all_docs(partition="sensor1", keys=["sensor1:r3"]).to_list()
    assert ids(streamed) == ["sensor1:r3"]


@pytest.mark.couchdb_only
async def test_a_partitioned_view_in_one_partition(couch):
    db = await partitioned_db(couch)
    rows = await db.view("p/by_v", partition="sensor1", reduce=False)
    assert ids(rows) == ["sensor1:r1", "sensor1:r2", "sensor1:r3"]
    assert await db.view("_design/p/_view/by_v", partition="sensor2") == [{"key": None, "value": 2}]
    streamed = await db.stream_view("p/by_v", partition="sensor2", reduce=False, descending=True).to_list()
    assert ids(streamed) == ["sensor2:r2", "sensor2:r1"]


@pytest.mark.couchdb_only
async def test_a_partitioned_view_counts_total_rows_and_offset_in_its_partition(couch):
    db = await partitioned_db(couch)
    rows, total_rows = await db.view("p/by_v", partition="sensor1", reduce=False, skip=1, include_count=True)
    assert total_rows == 3
    assert [row["key"] for row in rows] == [2, 3]


@pytest.mark.couchdb_only
async def test_a_partitioned_view_without_a_partition_is_a_bad_request(couch):
    db = await partitioned_db(couch)
    with pytest.raises(couch.module.BadRequest):
        await db.view("p/by_v")


@pytest.mark.couchdb_only
async def test_a_global_view_of_a_partitioned_database(couch):
    db = await partitioned_db(couch)
    await db.put_design("g", views={"by_v": "function(doc){ emit(doc.v, null); }"}, options={"partitioned": False})
    assert len(await db.view("g/by_v")) == 5
    with pytest.raises(couch.module.BadRequest):
        await db.view("g/by_v", partition="sensor1")


@pytest.mark.couchdb_only
async def test_find_and_explain_in_one_partition(couch):
    db = await partitioned_db(couch)
    created = await db.create_index(["v"], name="v-idx", ddoc="pidx", partitioned=True, **couch.all_copies)
    assert created["result"] == "created"
    answer = await db.find({"v": {"$gt": 1}}, fields=["_id", "v"], partition="sensor1")
    assert answer["docs"] == [{"_id": "sensor1:r2", "v": 2}, {"_id": "sensor1:r3", "v": 3}]
    assert len((await db.find({"v": {"$gt": 1}}, fields=["_id"]))["docs"]) == 4
    streamed = await db.stream_find({"v": {"$gt": 0}}, fields=["_id"], partition="sensor2").to_list()
    assert [doc["_id"] for doc in streamed] == ["sensor2:r1", "sensor2:r2"]
    every = await db.find_all({"v": {"$gte": 0}}, fields=["v"], partition="sensor1", page_size=2).to_list()
    assert sorted(doc["v"] for doc in every) == [1, 2, 3]
    global_plan = await db.explain({"v": {"$gt": 1}})
    assert global_plan["index"]["name"] == "_all_docs"  # a partitioned index serves one partition only
    plan = await db.explain({"v": {"$gt": 1}}, partition="sensor1")
    assert plan["partitioned"] is True
    assert plan["opts"]["partition"] == "sensor1"
    assert plan["index"]["name"] == "v-idx"


@pytest.mark.parametrize(
    "partition, error",
    [("_bad", "InvalidArgument"), ("a:b", "InvalidArgument"), ("", "InvalidArgument"), (5, "InvalidType")],
    ids=["underscore", "colon", "empty", "not-a-str"],
)
async def test_bad_partition_names_are_refused_before_sending(couch, partition, error):
    db = offline_db(couch)
    kind = getattr(couch.module, error)
    with pytest.raises(kind):
        await db.partition_info(partition)
    with pytest.raises(kind):
        await db.all_docs(partition=partition)
    with pytest.raises(kind):
        await db.view("p/by_v", partition=partition)
    with pytest.raises(kind):
        db.stream_view("p/by_v", partition=partition)
    with pytest.raises(kind):
        await db.find({}, partition=partition)
    with pytest.raises(kind):
        db.find_all({}, partition=partition)
    with pytest.raises(kind):
        await db.explain({}, partition=partition)


async def test_design_and_local_docs_have_no_partitioned_form(couch):
    db = offline_db(couch)
    with pytest.raises(couch.module.InvalidArgument):
        await db.design_docs(partition="p")
    with pytest.raises(couch.module.InvalidArgument):
        await db.local_docs(partition="p")
