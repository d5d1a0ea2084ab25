"""Feeds through cuts, resets, stalls and restarts: every change exactly once, in order."""

from __future__ import annotations

import tempfile
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

from wallaby.backends.couchdb import Backoff
from wallaby.backends.couchdb.testing import PouchDBServer

from .proxy import FaultProxy

pytestmark = pytest.mark.server_only("a TCP proxy between the client and a server")

if TYPE_CHECKING:
    from typing_extensions import Self

FAST = Backoff(first=0.02, cap=0.3)


def through(url: str, proxy: FaultProxy) -> str:
    """``url`` (credentials kept) with the proxy's address instead of the server's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Chaos:
    """Does ``action`` every ``every`` seconds in a thread until stopped."""

    def __init__(self, action, every: float) -> None:
        self.action = action
        self.every = every
        self.times = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.action():
                self.times += 1

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def seq_number(seq) -> int:
    """The position a seq stands for: PouchDB's int, CouchDB's ``N-...`` string."""
    return seq if isinstance(seq, int) else int(str(seq).split("-", 1)[0])


async def write_many(couch, db, count: int, first: int = 0, batch: int = 100, pause: float = 0.01) -> list[str]:
    ids = []
    for start in range(first, first + count, batch):
        docs = [{"_id": f"doc{n:06}"} for n in range(start, min(first + count, start + batch))]
        await db.save({"docs": docs})
        ids.extend(doc["_id"] for doc in docs)
        await couch.sleep(pause)
    return ids


async def collect(feed, count: int, into: list) -> None:
    async for change in feed:
        into.append((change["seq"], change["id"]))
        if len(into) == count:
            return


def assert_exactly_once_in_order(got: list, ids: list[str]) -> None:
    got_ids = [docid for _, docid in got]
    assert len(got_ids) == len(set(got_ids)), "a change was delivered twice"
    assert sorted(got_ids) == sorted(ids), "a change was lost"
    numbers = [seq_number(seq) for seq, _ in got]
    assert numbers == sorted(numbers), "changes came out of seq order"


@pytest.mark.time_limit(300)  # a loaded machine writes and reads slowly through the cuts
@pytest.mark.parametrize("fault", ["cut", "reset"])
async def test_a_feed_cut_again_and_again_loses_and_repeats_nothing(couch, fault):
    db = await couch.fresh_db()
    with FaultProxy.to(couch.url) as proxy:
        watched = couch.Database(db.name, url=through(couch.url, proxy))
        got: list = []
        states: list = []
        feed = watched.follow(since=0, heartbeat=500, backoff=FAST, status=lambda s, e: states.append(s))
        consumer = couch.spawn(collect(feed, 3000, got))
        fault_now = getattr(proxy, fault)
        seen = [0]

        def fault_after_progress() -> int:
            # a loaded machine may take longer than 70 ms to reconnect: cut only after the
            # feed has handed something over since the last cut, so that it always advances
            if len(got) == seen[0]:
                return 0
            seen[0] = len(got)
            return fault_now()

        with Chaos(fault_after_progress, every=0.07) as chaos:
            ids = await write_many(couch, db, 3000, batch=50, pause=0.03)
            # keep cutting until a good part has come through the cuts...
            await couch.wait_until(lambda: len(got) >= 1000, timeout=150)
        # ...then let the rest arrive however slow a loaded machine is
        await couch.wait_until(lambda: len(got) >= 3000, timeout=120)
        await consumer
        await feed.close()
        await watched.close()
    assert chaos.times >= 5
    assert states.count("reconnecting") >= 3
    assert_exactly_once_in_order(got, ids)


async def test_a_silent_connection_is_noticed_from_missing_heartbeats(couch):
    db = await couch.fresh_db()
    with FaultProxy.to(couch.url) as proxy:
        watched = couch.Database(db.name, url=through(couch.url, proxy))
        got: list = []
        states: list = []
        feed = watched.follow(since=0, heartbeat=200, backoff=FAST, status=lambda s, e: states.append((s, e)))
        consumer = couch.spawn(collect(feed, 600, got))
        ids = await write_many(couch, db, 300)
        await couch.wait_until(lambda: len(got) >= 300, timeout=30)
        proxy.stall()
        ids += await write_many(couch, db, 300, first=300)
        await couch.wait_until(lambda: any(s == "disconnected" for s, _ in states), timeout=10)
        proxy.cut()  # the stalled connections are dead anyway; new ones get through
        proxy.resume()
        await couch.wait_until(lambda: len(got) >= 600, timeout=30)
        await consumer
        await feed.close()
        await watched.close()
    errors = [e for s, e in states if s == "disconnected"]
    assert any(isinstance(e, couch.module.Timeout) for e in errors)
    assert_exactly_once_in_order(got, ids)


@pytest.mark.parametrize("when", ["while writing", "while idle"])
async def test_a_feed_follows_the_server_through_a_restart(couch, when, restartable_server):
    server, url = restartable_server
    async with couch.Server(url) as admin:
        db = await admin.create(couch.db_name("restart"))
        got: list = []
        feed = db.follow(since=0, heartbeat=300, backoff=FAST)
        consumer = couch.spawn(collect(feed, 1000, got))
        ids = await write_many(couch, db, 500)
        if when == "while idle":
            await couch.wait_until(lambda: len(got) >= 500, timeout=30)
        restart = threading.Thread(target=server.restart)
        restart.start()
        while restart.is_alive():
            await couch.sleep(0.05)
        ids += await write_many(couch, db, 500, first=500, batch=50)
        await couch.wait_until(lambda: len(got) >= 1000, timeout=60)
        await consumer
        await feed.close()
    assert_exactly_once_in_order(got, ids)


@pytest.fixture
def restartable_server(server_info):
    if not server_info.process:
        pytest.skip("restarts need a server the suite started (COUCHDB_URL is set)")
    with tempfile.TemporaryDirectory(prefix="pouchdb-disk-") as data:
        server = PouchDBServer(data_dir=data)
        server.start()
        try:
            yield server, server.url
        finally:
            server.stop()


@pytest.mark.couchdb_only  # PouchDB Server keeps sending heartbeats for a deleted database
async def test_a_deleted_database_ends_the_feed_with_not_found(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"})
    got: list = []
    feed = db.follow(since=0, heartbeat=200, backoff=FAST)
    consumer = couch.spawn(collect(feed, 10, got))
    await couch.wait_until(lambda: got)
    await db.destroy()
    with pytest.raises(couch.module.NotFound):
        await consumer


async def test_retries_give_up_with_the_network_error_when_limited(couch):
    with FaultProxy.to(couch.url) as proxy:
        proxy.refuse()
        db = couch.Database("anything", url=through(couch.url, proxy))
        states: list = []
        feed = db.follow(since=0, backoff=Backoff(first=0.01, retries=3), status=lambda s, e: states.append(s))
        with pytest.raises(couch.module.NetworkError):
            async for _ in feed:
                pass
        await db.close()
    assert states.count("reconnecting") == 3
    assert states[-1] == "stopped"


async def test_unchanges_and_close_release_the_feed_connection(couch):
    db = await couch.fresh_db()
    with FaultProxy.to(couch.url) as proxy:
        watched = couch.Database(db.name, url=through(couch.url, proxy))
        seen: list = []
        callback = lambda changes, viewID=None: seen.extend(changes)  # noqa: E731
        watched.changes(cb=callback, since=0)
        await db.save({"_id": "x"})
        await couch.wait_until(lambda: seen)
        assert proxy.open_connections >= 1
        watched.unchanges(cb=callback)
        await couch.wait_until(lambda: proxy.open_connections == 0, timeout=5)
        await watched.close()
