"""The store's query side where a server test cannot reach: JavaScript limits through the API, and the
event loop kept free while a view is built."""

from __future__ import annotations

import pytest

from store.conftest import loop_lags, store_db

HOG = "function(doc){ var a = []; while (true) { a.push('x'.repeat(1000) + a.length); } }"


async def test_a_map_over_the_memory_limit_fails_its_view_clearly_and_the_rest_still_answers(couch):
    db = await store_db(couch)
    await db.save({"docs": [{"_id": f"d{n}", "n": n} for n in range(3)]})
    await db.put_design("hog", views={"all": HOG})
    await db.put_design("fine", views={"by_n": "function(doc){ emit(doc.n, null); }"})
    for _ in range(2):  # a new context each time: the failure is the same, never a hang
        with pytest.raises(couch.module.ServerError) as caught:
            await db.view("hog/all")
        assert caught.value.error == "os_process_error" and "memory" in caught.value.reason
    assert [row["key"] for row in await db.view("fine/by_n")] == [0, 1, 2]


async def test_a_view_build_leaves_the_loop_free(couch, tmp_path):
    db = await store_db(couch, tmp_path.as_uri())
    for start in range(0, 20_000, 1_000):
        await db.save({"docs": [{"_id": f"d{n:06}", "type": f"t{n % 7}"} for n in range(start, start + 1_000)]})
    await db.put_design("d", views={"by_type": "function(doc){ emit(doc.type, 1); }"})

    async def build() -> None:
        assert len(await db.view("d/by_type", limit=1)) == 1

    lags = await loop_lags(couch, build())
    assert len(lags) > 10
    # 50 ms on a quiet machine (benchmarks/query_side.py measures it); a map run holding the GIL
    # for a whole batch, or the loop's thread doing the work, would wait far longer, batch after
    # batch. One long wait alone is a busy machine pausing the process, which the tests share.
    assert sorted(lags)[-2] < 0.5, sorted(lags)[-5:]


async def test_a_document_changed_in_the_middle_of_a_build_keeps_only_its_new_rows(couch, tmp_path, monkeypatch):
    # A build that found the index empty skips looking for old rows of the documents it had not reached;
    # a document it had reached and that changed since must still lose its old row.
    from wallaby.backends.couchdb._store import views
    from wallaby.backends.couchdb._store.store import acquire_store, release_store

    url = tmp_path.as_uri()
    db = await store_db(couch, url)
    await db.put_design("d", views={"by_n": "function(doc){ emit(doc.n, null); }"})
    await db.save({"docs": [{"_id": f"d{n}", "n": n} for n in range(6)]})
    monkeypatch.setattr(views, "BATCH", 3)
    store = acquire_store(url)

    def next_batch(unindexed_up_to):
        after = local.read_blocking(index.seq)
        mapped = index.map_batch(after, local.read_blocking(index.changed_after, after))
        _, empty = local.write_blocking(lambda txn: index.write_batch(txn.conn, mapped, 0, unindexed_up_to))
        return mapped.full, empty

    try:
        local = store.get(db.name)
        index = views.Index(views.Design("_design/d", await db.get("_design/d")), 5.0, 64 << 20)
        target = local.update_seq
        more, empty = next_batch(0)  # the design document, d0 and d1
        assert more and empty
        d0 = await db.get("d0")
        await db.save(d0 | {"n": 100})
        while more:
            more, empty = next_batch(target)
            assert not empty
        stale = index.map_batch(0, local.read_blocking(index.changed_after, 0))
        assert local.write_blocking(lambda txn: index.write_batch(txn.conn, stale, 0, target)) is None  # moved on
    finally:
        release_store(store)
    rows = await db.view("d/by_n", update="false")
    assert [(row["id"], row["key"]) for row in rows] == [(f"d{n}", n) for n in range(1, 6)] + [("d0", 100)]
