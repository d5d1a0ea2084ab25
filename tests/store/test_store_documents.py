"""What the embedded store does that a behaviour test on a server cannot show: rev order, stemming,
compaction, purge, local documents, attachments, partitions, sharing and persistence."""

from __future__ import annotations

import os
import uuid

import pytest

from store.conftest import store_db

HEX_UPPER = "1-ABCDEF0123456789ABCDEF0123456789"
HEX_LOWER = "1-abcdef0123456789abcdef0123456789"
SIXTEEN = "1-abcdefghijklmnop"  # 16 bytes: CouchDB prints them as hex


async def test_rev_ids_are_ordered_as_couchdbs_bytes(couch):
    db = await store_db(couch)
    await db.bulk_docs(
        [{"_id": "a", "_rev": "1-zz", "v": "zz"}, {"_id": "a", "_rev": HEX_UPPER, "v": "hex"}], new_edits=False
    )
    doc = await db.get("a", conflicts=True)
    # the hex id is 16 raw bytes (ab cd ...), above the bytes of "zz" (7a 7a)
    assert doc["_rev"] == HEX_LOWER and doc["v"] == "hex"
    assert doc["_conflicts"] == ["1-zz"]
    await db.bulk_docs([{"_id": "b", "_rev": SIXTEEN}], new_edits=False)
    assert (await db.get("b"))["_rev"] == "1-6162636465666768696a6b6c6d6e6f70"
    assert (await db.get("b", rev=SIXTEEN))["_rev"] == "1-6162636465666768696a6b6c6d6e6f70"


async def test_a_bad_rev_is_a_bad_request(couch):
    db = await store_db(couch)
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.get("a", rev="nonsense")
    assert caught.value.reason == "Invalid rev format"
    with pytest.raises(couch.module.BadRequest):
        await db.save({"_id": "a", "_rev": "1-" + "z" * 32})


async def test_revs_limit_stems_old_revisions(couch):
    db = await store_db(couch)
    await db.set_revs_limit(3)
    assert await db.revs_limit() == 3
    doc = {"_id": "a"}
    revs = []
    for n in range(5):
        doc["n"] = n
        await db.save(doc)
        revs.append(doc["_rev"])
    history = (await db.get("a", revs=True))["_revisions"]
    assert history["start"] == 5 and len(history["ids"]) == 3
    with pytest.raises(couch.module.NotFound):
        await db.get("a", rev=revs[0])
    assert (await db.get("a", rev=revs[2]))["n"] == 2  # kept until compaction


async def test_compaction_frees_old_revisions_and_their_attachments(couch, tmp_path):
    db = await store_db(couch, tmp_path.as_uri())
    doc = {"_id": "a", "n": 1}
    await db.save_with_attachments(doc, {"old.bin": (b"x" * 300_000, "application/octet-stream")})
    old = doc["_rev"]
    await db.delete_attachment(doc, "old.bin")
    doc["n"] = 2
    await db.save(doc)
    assert (await db.get("a", rev=old))["n"] == 1
    assert len(await db.get_attachment("a", "old.bin", rev=old)) == 300_000
    assert (await db.compact())["ok"] is True
    for _ in range(200):
        if not (await db.info())["compact_running"]:
            break
        await couch.sleep(0.05)
    with pytest.raises(couch.module.NotFound):
        await db.get("a", rev=old)
    with pytest.raises(couch.module.NotFound):
        await db.get_attachment("a", "old.bin", rev=old)
    statuses = [item["status"] for item in (await db.get("a", revs_info=True))["_revs_info"]]
    assert statuses == ["available", "missing", "missing"]


async def test_purge_removes_leaves_and_a_document_left_with_none(couch):
    db = await store_db(couch)
    await db.bulk_docs([{"_id": "a", "_rev": "1-b"}, {"_id": "a", "_rev": "1-c"}], new_edits=False)
    answer = await db.purge({"a": ["1-c", "1-nope"], "nobody": ["1-x"]})
    assert answer == {"purge_seq": None, "purged": {"a": ["1-c"], "nobody": []}}
    assert (await db.get("a", conflicts=True)).get("_conflicts") is None
    await db.purge({"a": ["1-b"]})
    with pytest.raises(couch.module.NotFound):
        await db.get("a")
    assert (await db.info())["doc_count"] == 0


async def test_local_documents_have_no_history_and_no_seq(couch):
    db = await store_db(couch)
    seq = (await db.info())["update_seq"]
    doc = {"_id": "_local/cp", "last": 1}
    await db.save(doc)
    assert doc["_rev"] == "0-1"
    doc["last"] = 2
    await db.save(doc)
    assert doc["_rev"] == "0-2"
    assert (await db.get("_local/cp"))["last"] == 2
    assert (await db.info())["update_seq"] == seq
    assert [row["id"] for row in await db.local_docs()] == ["_local/cp"]
    await db.delete(doc)
    with pytest.raises(couch.module.NotFound):
        await db.get("_local/cp")


async def test_attachments_by_range_inline_and_since(couch):
    db = await store_db(couch)
    doc = {"_id": "a"}
    await db.put_attachment(doc, "one.txt", b"0123456789", content_type="text/plain")
    first = doc["_rev"]
    await db.put_attachment(doc, "two.txt", b"abc", content_type="text/plain")
    assert await db.get_attachment(doc, "one.txt", range=(2, 4)) == b"234"
    assert await db.get_attachment(doc, "one.txt", range=(7, None)) == b"789"
    stream = db.stream_attachment(doc, "one.txt")
    assert b"".join(await stream.to_list()) == b"0123456789"
    assert stream.meta["content_type"] == "text/plain" and stream.meta["content_length"] == 10
    inline = await db.get("a", attachments=True)
    assert inline["_attachments"]["two.txt"]["data"] == "YWJj"
    since = (await db.get("a", atts_since=[first]))["_attachments"]
    assert since["one.txt"].get("stub") is True and since["two.txt"]["data"] == "YWJj"
    stub = (await db.get("a"))["_attachments"]["one.txt"]
    assert stub["digest"] == "md5-eB5eJF1ptWaXm4bijSPyxw==" and stub["length"] == 10 and stub["revpos"] == 1


async def test_the_same_data_is_stored_once_and_freed_with_its_last_revision(couch):
    db = await store_db(couch)

    async def used() -> int:
        return (await db.info())["sizes"]["active"]  # the store's pages in use

    data = os.urandom(1_000_000)  # random, so its size on disk is its length
    empty = await used()
    await db.put_attachment({"_id": "one"}, "f", data)
    once = await used()
    await db.put_attachment({"_id": "two"}, "f", data)
    copied = await db.copy("one", "three")
    assert copied["ok"] is True and await db.get_attachment("three", "f") == data
    assert once - empty > len(data) * 9 // 10
    assert await used() - once < len(data) // 10  # the second and third documents refer to the first's data
    for docid in ("one", "two", "three"):
        await db.purge({docid: [(await db.get(docid))["_rev"]]})
    assert await used() - empty < len(data) // 10  # freed with the last revision that held it
    await db.put_attachment({"_id": "four"}, "f", b"other")
    assert await db.get_attachment("four", "f") == b"other"


async def test_multipart_save_streams_each_attachment(couch):
    async def chunks():
        for n in range(5):
            yield bytes([65 + n]) * 100_000

    db = await store_db(couch)
    doc = {"_id": "m", "kind": "multi"}
    await db.save_with_attachments(doc, {"big": (chunks(), "application/octet-stream", 500_000), "small": b"hi"})
    assert doc["_attachments"]["big"]["length"] == 500_000
    again = await db.get("m")
    assert again["kind"] == "multi" and set(again["_attachments"]) == {"big", "small"}
    big = await db.get_attachment("m", "big")
    assert big[:100_000] == b"A" * 100_000 and big[-1:] == b"E" and len(big) == 500_000


async def test_a_partitioned_database_wants_partitioned_ids(couch):
    db = await store_db(couch, partitioned=True)
    assert (await db.info())["props"] == {"partitioned": True}
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.save({"_id": "nopartition"})
    assert caught.value.error == "illegal_docid"
    await db.bulk_docs([{"_id": "s1:a"}, {"_id": "s1:b"}, {"_id": "s2:a"}])
    assert (await db.partition_info("s1"))["doc_count"] == 2
    assert [row["id"] for row in await db.all_docs(partition="s2")] == ["s2:a"]


async def test_servers_naming_the_same_memory_store_share_it_and_memory_alone_is_private(couch):
    name = f"memory://shared-{uuid.uuid4().hex[:8]}"
    one, two = couch.server(name), couch.server(name)
    db = await one.create("x")
    await db.save({"_id": "a"})
    assert (await two.database("x").get("a"))["_id"] == "a"
    private = couch.server("memory://")
    assert await private.all_dbs() == []


async def test_a_file_store_keeps_its_databases_after_the_server_closes(couch, tmp_path):
    url = tmp_path.as_uri()
    async with couch.Server(url) as server:
        db = await server.create("kept")
        await db.save({"_id": "a", "n": 1})
        await db.put_attachment({"_id": "b"}, "f.txt", b"data")
    async with couch.Server(url) as server:
        assert await server.all_dbs() == ["kept"]
        db = server.database("kept")
        assert (await db.get("a"))["n"] == 1
        assert await db.get_attachment("b", "f.txt") == b"data"
        assert (await db.info())["doc_count"] == 2
        await server.delete("kept")
        assert await server.all_dbs() == []


async def test_info_counts_and_sizes(couch):
    db = await store_db(couch)
    await db.bulk_docs([{"_id": "a"}, {"_id": "b", "x": "y" * 100}])
    await db.delete(await db.get("a"))
    info = await db.info()
    assert info["doc_count"] == 1 and info["doc_del_count"] == 1 and info["update_seq"] == 3
    assert info["sizes"]["external"] >= 100 and info["sizes"]["active"] > 0


async def test_a_rev_id_with_json_in_it_comes_back_whole(couch):
    db = await store_db(couch)
    await db.bulk_docs([{"_id": "q", "_rev": '1-a"b\\c', "v": 1}], new_edits=False)
    assert (await db.get("q"))["_rev"] == '1-a"b\\c'
    assert (await db.all_docs(include_docs=True))[0]["doc"]["_rev"] == '1-a"b\\c'
    changes = [change async for change in db.follow(feed="normal", include_docs=True)]
    assert changes[0]["changes"] == [{"rev": '1-a"b\\c'}]


async def test_a_feed_whose_database_is_deleted_ends_with_not_found(couch):
    db = await store_db(couch)
    await db.save({"_id": "a"})
    seen = []
    follower = db.follow(since=0, heartbeat=200, backoff=couch.module.Backoff(first=0.01, cap=0.05))

    async def follow() -> None:
        async for change in follower:
            seen.append(change["id"])

    running = couch.spawn(follow())
    await couch.wait_until(lambda: seen == ["a"])
    await db.destroy()
    with pytest.raises(couch.module.NotFound):
        await running


async def test_a_doc_ids_filter_of_many_ids(couch):
    db = await store_db(couch)
    await db.bulk_docs([{"_id": f"d{n:04}"} for n in range(1500)])
    wanted = [f"d{n:04}" for n in range(0, 1500, 2)] + ["nobody"]
    found = [change["id"] async for change in db.follow(since=0, feed="normal", doc_ids=wanted)]
    assert found == wanted[:-1]
