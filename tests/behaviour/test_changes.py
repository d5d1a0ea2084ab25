"""Changes feeds on a healthy connection: the seed's callbacks and follow().

What CouchDB promises, and so what these tests hold it to: every change
arrives, and ``last_seq`` resumes after the last change handed over. The
order does not follow the writes: a database is split into shards (``q``,
2 by default in CouchDB 3) whose feeds interleave, so a change made before
another may be handed over after it. Ids are compared sorted.
"""

import pytest


async def write(couch, db, *ids, **fields):
    """Save documents ``ids``; on a cluster on every copy, since a feed reads one copy of each shard."""
    for docid in ids:
        await db.save({"_id": docid, **fields}, **couch.all_copies)


async def test_changes_callback_receives_every_change_as_lists_with_view_id(couch):
    db = await couch.fresh_db()
    seen, view_ids = [], []

    def callback(changes, viewID=None):
        assert isinstance(changes, list)
        seen.extend(change["id"] for change in changes)
        view_ids.append(viewID)

    db.changes(cb=callback, since=0)
    await write(couch, db, "a", "b", "c")
    await couch.wait_until(lambda: len(seen) == 3)
    assert sorted(seen) == ["a", "b", "c"]
    assert set(view_ids) == {None}
    db.unchanges(cb=callback)


async def test_unchanges_stops_delivery(couch):
    db = await couch.fresh_db()
    seen = []
    db.changes(cb=lambda changes, viewID=None: seen.extend(changes), since=0)
    await write(couch, db, "before")
    await couch.wait_until(lambda: len(seen) == 1)
    db.unchanges()  # the seed's call without cb removes every callback of the feed
    await write(couch, db, "after")
    await couch.sleep(0.5)
    assert [c["id"] for c in seen] == ["before"]


async def test_two_callbacks_share_one_feed_and_unchanges_removes_one(couch):
    db = await couch.fresh_db()
    first, second = [], []
    cb1 = lambda changes, viewID=None: first.extend(changes)  # noqa: E731
    cb2 = lambda changes, viewID=None: second.extend(changes)  # noqa: E731
    db.changes(cb=cb1, since=0)
    db.changes(cb=cb2, since=0)
    await write(couch, db, "x")
    await couch.wait_until(lambda: len(first) == 1 and len(second) == 1)
    db.unchanges(cb=cb1)
    await write(couch, db, "y")
    await couch.wait_until(lambda: len(second) == 2)
    assert len(first) == 1


async def test_changes_with_a_design_filter_and_a_view(couch):
    db = await couch.fresh_db()
    await db.save(
        {
            "_id": "_design/app",
            "filters": {"typed": "function(doc, req) { return doc.type === req.query.type; }"},
            "views": {"tasks": {"map": "function(doc) { if (doc.type === 'task') emit(doc._id); }"}},
        }
    )
    by_filter, by_view = [], []
    db.changes(
        cb=lambda ch, viewID=None: by_filter.extend(c["id"] for c in ch),
        since=0,
        filter="app/typed",
        filter_params={"type": "task"},
    )
    db.changes(
        cb=lambda ch, viewID=None: by_view.extend((c["id"], viewID) for c in ch),
        since=0,
        filter="_view",
        view="app/tasks",
    )
    await write(couch, db, "t1", type="task")
    await write(couch, db, "n1", type="note")
    await write(couch, db, "t2", type="task")
    await couch.wait_until(lambda: len(by_filter) == 2 and len(by_view) == 2)
    assert sorted(by_filter) == ["t1", "t2"]
    assert sorted(by_view) == [("t1", "app/tasks"), ("t2", "app/tasks")]


async def test_a_callback_returning_an_awaitable_is_awaited_before_more_changes(couch):
    db = await couch.fresh_db()
    active, overlapped, seen = [0], [False], []

    async def slow(changes, viewID=None):
        active[0] += 1
        overlapped[0] |= active[0] > 1
        await couch.sleep(0.05)
        seen.extend(changes)
        active[0] -= 1

    db.changes(cb=slow, since=0)
    for i in range(5):
        await write(couch, db, f"d{i}")
    await couch.wait_until(lambda: len(seen) == 5)
    assert not overlapped[0]


async def test_a_fatal_feed_error_goes_to_errback(couch):
    db = couch.Database(couch.db_name("missing"), url=couch.url)
    errors = []
    db.changes(cb=lambda ch, viewID=None: None, since=0, errback=errors.append)
    await couch.wait_until(lambda: errors)
    assert isinstance(errors[0], couch.module.NotFound)
    await db.close()


async def test_changes_refuses_bad_arguments_at_once(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.InvalidType):
        db.changes(cb=None)
    with pytest.raises(couch.module.InvalidArgument):
        db.changes(cb=print, since=0, colour="red")


# --- follow() -----------------------------------------------------------------


async def test_follow_hands_over_every_change_and_tracks_last_seq(couch):
    db = await couch.fresh_db()
    await write(couch, db, "a", "b")
    ids = []
    async with db.follow(since=0) as feed:
        async for change in feed:
            ids.append(change["id"])
            assert feed.last_seq == change["seq"]
            if sorted(ids) == ["a", "b"]:
                await write(couch, db, "c")
            if len(ids) == 3:
                break
    assert sorted(ids) == ["a", "b", "c"]
    assert ids[-1] == "c"


async def test_follow_resumes_from_a_checkpoint(couch):
    db = await couch.fresh_db()
    await write(couch, db, "a", "b")
    async with db.follow(since=0, limit=1) as feed:
        first = [change["id"] async for change in feed]
        checkpoint = feed.last_seq
    assert first in (["a"], ["b"])
    await write(couch, db, "c")
    async with db.follow(since=checkpoint, feed="normal") as feed:
        rest = [change["id"] async for change in feed]
    assert set(first) | set(rest) == {"a", "b", "c"}  # nothing after the checkpoint is missed
    assert "c" in rest


@pytest.mark.parametrize("kind", ["normal", "longpoll", "continuous"])
async def test_each_feed_kind_delivers_all_changes(couch, kind):
    db = await couch.fresh_db()
    await write(couch, db, *[f"doc{i:02}" for i in range(25)])
    async with db.follow(since=0, feed=kind, page_size=7, limit=25) as feed:
        ids = [change["id"] async for change in feed]
    assert sorted(ids) == [f"doc{i:02}" for i in range(25)]


async def test_normal_feed_ends_when_caught_up(couch):
    db = await couch.fresh_db()
    await write(couch, db, "a", "b", "c")
    async with db.follow(feed="normal", page_size=2, include_docs=True) as feed:
        docs = [change["doc"]["_id"] async for change in feed]
    assert sorted(docs) == ["a", "b", "c"]


async def test_since_now_skips_history(couch):
    db = await couch.fresh_db()
    await write(couch, db, "old")
    async with db.follow(since="now") as feed:
        await write(couch, db, "new")
        change = await feed.__anext__()
    assert change["id"] == "new"


async def test_doc_ids_filter_is_posted(couch):
    db = await couch.fresh_db()
    await write(couch, db, "a", "b", "c", "d")
    async with db.follow(since=0, feed="normal", doc_ids=["b", "d"]) as feed:
        ids = [change["id"] async for change in feed]
    assert sorted(ids) == ["b", "d"]


@pytest.mark.couchdb_only
async def test_selector_filter_is_posted(couch):
    db = await couch.fresh_db()
    await write(couch, db, "a", kind="x")
    await write(couch, db, "b", kind="y")
    async with db.follow(since=0, feed="normal", selector={"kind": "y"}) as feed:
        ids = [change["id"] async for change in feed]
    assert ids == ["b"]


@pytest.mark.couchdb_only
async def test_design_filter_lists_design_docs_only(couch):
    db = await couch.fresh_db()
    await write(couch, db, "plain")
    await db.save({"_id": "_design/x", "views": {}}, **couch.all_copies)
    async with db.follow(since=0, feed="normal", filter="_design") as feed:
        ids = [change["id"] async for change in feed]
    assert ids == ["_design/x"]


async def test_batches_and_run_with_back_pressure(couch):
    db = await couch.fresh_db()
    await write(couch, db, *[f"d{i}" for i in range(10)])
    follower = db.follow(since=0, feed="normal", page_size=4)
    sizes = []
    async for batch in follower.batches():
        sizes.append(len(batch))
    assert sum(sizes) == 10 and max(sizes) <= 4

    got = []

    async def slow(change):
        await couch.sleep(0.01)
        got.append(change["id"])

    await db.follow(since=0, feed="normal").run(slow)
    assert sorted(got) == [f"d{i}" for i in range(10)]


async def test_run_raises_the_error_that_ended_the_feed(couch):
    db = couch.Database(couch.db_name("missing"), url=couch.url)
    with pytest.raises(couch.module.NotFound):
        await db.follow(since=0).run(print)
    await db.close()


async def test_status_callback_hears_connected_and_stopped(couch):
    db = await couch.fresh_db()
    states = []
    async with db.follow(since=0, feed="normal", status=lambda state, error: states.append(state)) as feed:
        async for _ in feed:
            pass
    await couch.wait_until(lambda: "stopped" in states)
    assert states[0] == "connected"


async def test_follow_refuses_bad_options_before_any_request(couch):
    db = await couch.fresh_db()
    module = couch.module
    with pytest.raises(module.InvalidArgument):
        db.follow(feed="sideways")
    with pytest.raises(module.InvalidArgument):
        db.follow(colour="red")
    with pytest.raises(module.InvalidArgument):
        db.follow(filter="_selector")
    with pytest.raises(module.InvalidType):
        db.follow(doc_ids="abc")
    with pytest.raises(module.InvalidArgument):
        db.follow(heartbeat=0)
    with pytest.raises(module.InvalidArgument):
        db.follow(descending=True)


async def test_closing_the_server_ends_a_waiting_iteration(couch):
    server = couch.server()
    name = couch.db_name()
    db = await server.create(name)
    try:
        feed = db.follow(since="now")
        waiting = couch.spawn(feed.__anext__())
        await couch.sleep(0.2)
        await server.close()
        with pytest.raises(StopAsyncIteration):
            await waiting
    finally:
        async with couch.Server(couch.url) as admin:
            await admin.delete(name)


async def test_leaving_the_loop_while_changes_still_flow_stops_the_reader(couch):
    # Under Twisted the consumer runs inside the reader's hand-over (a fired Deferred calls back at
    # once), so it closes the feed from there: the reader must still stop, not wait for a taker.
    db = await couch.fresh_db()
    await db.save({"docs": [{"_id": f"d{n:03}"} for n in range(300)]}, **couch.all_copies)
    states = []
    async with db.follow(since=0, status=lambda state, error: states.append(state)) as feed:
        async for change in feed:
            if change["id"] == "d005":
                break
    await couch.wait_until(lambda: "stopped" in states, timeout=5)


async def test_close_stops_a_waiting_iteration_promptly(couch):
    db = await couch.fresh_db()
    feed = db.follow(since="now")
    waiting = couch.spawn(feed.__anext__())
    await couch.sleep(0.2)
    await feed.close()
    with pytest.raises(StopAsyncIteration):
        await waiting


async def test_unchanges_with_view_alone_stops_a_feed_started_with_filter_view(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "_design/app", "views": {"all": {"map": "function(doc) { if (doc.n) emit(doc._id); }"}}})
    seen = []
    callback = lambda changes, viewID=None: seen.extend(changes)  # noqa: E731
    db.changes(cb=callback, since=0, filter="_view", view="app/all")
    await write(couch, db, "one", n=1)
    await couch.wait_until(lambda: len(seen) == 1)
    db.unchanges(cb=callback, view="app/all")
    await write(couch, db, "two", n=2)
    await couch.sleep(0.5)
    assert [c["id"] for c in seen] == ["one"]


async def test_run_waits_for_a_returned_deferred_or_future(couch):
    db = await couch.fresh_db()
    await write(couch, db, "a", "b", "c")
    feed = db.follow(since=0, feed="normal")
    done, checkpoints = [], []

    async def handle(change):
        await couch.sleep(0.02)
        done.append(change["id"])
        checkpoints.append(feed.last_seq)

    # couch.spawn gives a Deferred under Twisted and a Task under asyncio
    await feed.run(lambda change: couch.spawn(handle(change)))
    assert sorted(done) == ["a", "b", "c"]
    assert checkpoints[-1] == feed.last_seq
