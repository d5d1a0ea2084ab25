"""A node of an Apache CouchDB cluster lost while a feed is followed and documents are written.

These tests kill a node, so they run only where ``COUCHDB_CLUSTER_URL``
names a cluster's load balancer (admin credentials in the URL) and
``COUCHDB_CLUSTER_CTL`` a command taking ``kill N`` and ``revive N``; on
this project's machine that is ``tools/couchdb/cluster.sh``, a 3-node
CouchDB 3.5 (``q=2``, ``n=3``) behind nginx (docs/suite.md).

What must hold, through the load balancer, while node 2 is SIGKILLed at a
third of 1,500 writes and started again at two thirds:

- a Follower (continuous, longpoll, normal) hands over every document, and
  each (id, rev) once in its life: CouchDB resumes the lost node's shard
  ranges from another copy at an older checkpoint and sends some changes
  again, which the Follower drops;
- a write either succeeds or fails with an error the caller can retry
  (``NetworkError``, ``ServerError``); a write that reached fewer copies than
  it asked for is answered 202, which the result shows as ``accepted``.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from wallaby.backends.couchdb import Backoff

pytestmark = [pytest.mark.couchdb_cluster, pytest.mark.time_limit(420)]

DOCS = 1500
NODE = 2
FAST = Backoff(first=0.05, cap=1.0)


class Outage:
    """Kills a node and revives it, each on a thread of its own so the event loop goes on."""

    def __init__(self, cluster: Any, node: int) -> None:
        self.cluster = cluster
        self.node = node
        self.killed = self.revived = False
        self._threads: list[threading.Thread] = []

    def _start(self, action: Any) -> None:
        thread = threading.Thread(target=action, daemon=True)
        thread.start()
        self._threads.append(thread)

    def kill(self) -> None:
        self.killed = True
        self._start(lambda: self.cluster.kill(self.node))

    def revive(self) -> None:
        self.revived = True
        self._start(lambda: self.cluster.revive(self.node))

    async def wait(self, couch: Any) -> None:
        """Until the kill or revive under way has run (a revive returns once the node answers)."""
        while any(thread.is_alive() for thread in self._threads):
            await couch.sleep(0.05)

    async def settle(self, couch: Any) -> None:
        """The node is up again, whatever happened."""
        await self.wait(couch)
        if self.killed and not self.revived:
            self.revive()
            await self.wait(couch)


async def new_db(couch: Any, admin: Any) -> Any:
    """A new database, once every node of the cluster can open it (each learns of it a moment later)."""
    name = couch.db_name("node-lost")
    db = await admin.create(name)
    for _ in range(6):  # requests go round the nodes
        await couch.eventually(db.info, retry=couch.module.NotFound)
    return db


async def drop_db(couch: Any, admin: Any, name: str) -> None:
    async def delete() -> bool:
        try:
            await admin.delete(name)
        except couch.module.NotFound:
            pass
        return True

    await couch.eventually(delete, retry=(couch.module.NetworkError, couch.module.ServerError), timeout=60)


async def save_retrying(couch: Any, db: Any, n: int, outcomes: Counter) -> None:
    """Save document ``n`` as a careful program does while a node may be down: retry what is retryable."""
    docid = f"doc{n:05}"
    for attempt in range(40):
        try:
            result = await db.save({"_id": docid, "n": n})
        except (couch.module.NetworkError, couch.module.ServerError) as error:
            outcomes[f"retried after {type(error).__name__}"] += 1
            await couch.sleep(min(0.05 * (attempt + 1), 1.0))
            continue
        except couch.module.Conflict:
            # an earlier try (ours, or the load balancer's on another node) was stored and its answer lost
            stored = await db.get(docid)
            assert stored["n"] == n
            outcomes["stored by an earlier try"] += 1
            return
        outcomes["accepted (202)" if result.get("accepted") else "created (201)"] += 1
        return
    raise AssertionError(f"{docid} could not be saved in 40 tries")


async def write_with_an_outage(couch: Any, db: Any, outage: Outage, outcomes: Counter) -> list[str]:
    ids = []
    for n in range(DOCS):
        if n == DOCS // 3:
            outage.kill()
        elif n == 2 * DOCS // 3:
            outage.revive()
        await save_retrying(couch, db, n, outcomes)
        ids.append(f"doc{n:05}")
    return ids


def pairs_of(change: dict[str, Any]) -> list[tuple[str, str]]:
    return [(change["id"], each["rev"]) for each in change["changes"]]


@pytest.mark.parametrize("kind", ["continuous", "longpoll", "normal"])
async def test_a_follower_hands_over_every_document_once_while_a_node_is_lost(couch, cluster, kind):
    admin = couch.server(cluster.url)
    db = await new_db(couch, admin)
    outage = Outage(cluster, NODE)
    wanted = {f"doc{n:05}" for n in range(DOCS)}
    handed: list[tuple[str, str]] = []  # (id, rev) as handed over, every Follower's life
    lives: list[list[tuple[str, str]]] = []
    outcomes: Counter = Counter()
    state: dict[str, Any] = {"feed": None, "done": False, "ended": False, "dropped": 0}

    async def follow() -> None:
        since: Any = 0
        try:
            while True:
                feed = state["feed"] = db.follow(since=since, feed=kind, heartbeat=1000, page_size=100, backoff=FAST)
                life: list[tuple[str, str]] = []
                lives.append(life)
                async with feed:
                    async for change in feed:
                        life.extend(pairs_of(change))
                since = feed.last_seq
                state["dropped"] += feed._repeats.dropped
                handed.extend(life)
                if state["done"] or kind != "normal":
                    return  # continuous and longpoll follow until closed: one life
                await couch.sleep(0.2)  # a normal feed ends when caught up: follow again from its checkpoint
        finally:
            state["ended"] = True

    def all_handed_over() -> bool:
        return {docid for life in lives for docid, _ in life} >= wanted

    reader = couch.spawn(follow())
    try:
        ids = await write_with_an_outage(couch, db, outage, outcomes)
        await couch.wait_until(lambda: all_handed_over() or state["ended"], timeout=120)
        state["done"] = True
        await state["feed"].close()
        await reader
    finally:
        await outage.settle(couch)
        await drop_db(couch, admin, db.name)

    assert set(ids) == wanted and all_handed_over()
    for life in lives:
        assert len(life) == len(set(life)), "an (id, rev) was handed over twice in one Follower's life"
    again = len(handed) - len(set(handed))  # normal: a new Follower from a checkpoint may see a rewound range
    couch.report(
        f"node {NODE} lost mid-feed ({kind}): {len(set(handed))} (id, rev) handed over in {len(lives)} "
        f"Follower life(s); {state['dropped']} sent again by CouchDB and dropped, {again} again in a later life; "
        f"writes: {dict(outcomes)}"
    )


async def test_writes_while_a_node_is_down_succeed_or_fail_retryably_and_a_202_shows(couch, cluster):
    admin = couch.server(cluster.url)
    db = await new_db(couch, admin)
    outage = Outage(cluster, NODE)
    outcomes: Counter = Counter()
    try:
        outage.kill()
        await outage.wait(couch)
        for n in range(100):
            await save_retrying(couch, db, n, outcomes)
        # w=3: every copy must have it, and one of the three is down: CouchDB stores it on two and answers 202
        doc = {"_id": "on-every-copy"}
        result = await db.save(doc, w=3)
        assert result["accepted"] is True and result["ok"] is True and doc["_rev"] == result["rev"]
        plain = await db.save({"_id": "on-a-majority"})
        assert "accepted" not in plain  # 2 of 3 copies is the majority CouchDB waits for by default
        assert (await db.get("on-every-copy"))["_rev"] == doc["_rev"]
    finally:
        await outage.settle(couch)
        await drop_db(couch, admin, db.name)
    assert sum(outcomes[key] for key in ("created (201)", "accepted (202)", "stored by an earlier try")) == 100
    couch.report(f"writes with node {NODE} down: {dict(outcomes)}")
