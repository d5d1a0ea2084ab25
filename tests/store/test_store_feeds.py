"""The store's _changes feeds as they come over the wire: heartbeats, timeouts, longpoll.

The Follower hides these (it reads lines and pages); here the raw answer is
read through the client's request path, as the Follower does.
"""

from __future__ import annotations

import orjson

from store.conftest import store_db


async def _send(db, query):  # the request the Follower would send
    return await db._client.send("GET", f"{db._path}/_changes", query)


async def test_an_idle_continuous_feed_sends_heartbeats_then_the_changes(couch):
    db = await store_db(couch)
    response = await _send(db, "?feed=continuous&heartbeat=50&since=now")
    chunks = response.chunks()
    assert await chunks.__anext__() == b"\n"
    assert await chunks.__anext__() == b"\n"
    await db.save({"_id": "late"})
    line = await chunks.__anext__()
    while line == b"\n":
        line = await chunks.__anext__()
    assert orjson.loads(line)["id"] == "late"
    await chunks.aclose()


async def test_a_continuous_feed_without_heartbeat_ends_after_its_timeout(couch):
    db = await store_db(couch)
    await db.save({"_id": "a"})
    response = await _send(db, "?feed=continuous&timeout=100&since=0")
    lines = (await response.read()).splitlines()
    assert orjson.loads(lines[0])["id"] == "a"
    assert orjson.loads(lines[-1]) == {"last_seq": 1, "pending": 0}


async def test_a_longpoll_waits_for_the_first_change(couch):
    db = await store_db(couch)
    waiting = couch.spawn(_send(db, "?feed=longpoll&since=0&timeout=10000"))
    await couch.sleep(0.1)
    await db.save({"_id": "first"})
    answer = orjson.loads(await (await waiting).read())
    assert [row["id"] for row in answer["results"]] == ["first"] and answer["last_seq"] == 1


async def test_a_longpoll_with_nothing_new_answers_at_its_timeout(couch):
    db = await store_db(couch)
    answer = orjson.loads(await (await _send(db, "?feed=longpoll&since=now&timeout=100")).read())
    assert answer == {"results": [], "last_seq": 0, "pending": 0}


async def test_limit_and_pending_and_descending(couch):
    db = await store_db(couch)
    await db.bulk_docs([{"_id": f"d{n}"} for n in range(5)])
    page = orjson.loads(await (await _send(db, "?since=1&limit=2")).read())
    assert [row["seq"] for row in page["results"]] == [2, 3] and page["last_seq"] == 3 and page["pending"] == 2
    newest = orjson.loads(await (await _send(db, "?descending=true&limit=2&since=1")).read())
    assert [row["id"] for row in newest["results"]] == ["d4", "d3"]  # since is ignored, as by CouchDB
    assert newest["last_seq"] == 4 and newest["pending"] == 3
    empty = await store_db(couch)
    assert orjson.loads(await (await _send(empty, "?descending=true")).read())["last_seq"] == 0
