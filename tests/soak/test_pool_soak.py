"""A bounded load test: 10,000 concurrent get/save calls from one Server.

Not part of a normal run: ``./dev test -m soak`` runs it (against the
CouchDB that ``COUCHDB_URL`` names, else a PouchDB Server), and it reports
its figures at the end of the run. What must hold:

- the pool holds: this process never has more connections open to the
  server than its pool's limit;
- every call ends, and ends well;
- nothing leaks: no connection is left once the Server is closed, no task or
  timer is left running, and memory after the load is memory before within a
  few MB: what Python still has allocated (``tracemalloc``), and what a second
  load of 10,000 adds to the process's resident memory. (The resident memory
  right after the first load is higher than before it: the C allocator keeps
  the pages of the peak, 10,000 calls in flight, for the process to use again.)
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
import time
import tracemalloc
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from typing_extensions import Self

pytestmark = [pytest.mark.soak, pytest.mark.time_limit(900)]

CALLS = 10_000
SEEDED = 100
MEMORY_SLACK_MB = 4


def trimmed_rss_mb() -> float:
    """Resident memory once garbage is collected and the C allocator has given freed pages back."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    return rss_mb()


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def connections_to(port: int) -> int:
    """How many sockets of this process are connected to ``port`` (Linux: /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


class Sampler:
    """Counts this process's connections to the server every few milliseconds, on a thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.most = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.most = max(self.most, connections_to(self.port))
            self.samples += 1

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pool_limit(server: Any) -> int:
    """The most connections the pool (``_core/pool.py``, under both flavours) opens to one server."""
    return int(server._client.runtime.pool.limit)


def pending_work(couch: Any) -> int:
    """Tasks (asyncio) or timed calls (Twisted) still scheduled in the flavour's loop."""
    if couch.twisted:
        from twisted.internet import reactor

        return len(reactor.getDelayedCalls())
    import asyncio

    return len(asyncio.all_tasks()) - 1  # less this test's own


async def test_ten_thousand_concurrent_calls_hold_the_pool_and_leak_nothing(couch):
    port = urlsplit(couch.url).port or 5984
    name = couch.db_name("soak")
    async with couch.Server(couch.url) as admin:
        await admin.create(name)
    try:
        server = couch.Server(couch.url)
        db = server.database(name)
        await db.save({"docs": [{"_id": f"seed{n:03}", "n": n} for n in range(SEEDED)]})
        ended: Counter = Counter()

        async def one(n: int) -> None:
            try:
                if n % 2:
                    doc = await db.get(f"seed{n % SEEDED:03}")
                    assert doc["n"] == n % SEEDED
                else:
                    doc = {"_id": f"new{n:05}", "n": n}
                    await db.save(doc)
                    assert doc["_rev"].startswith("1-")
                ended["ok"] += 1
            except Exception as error:  # counted, and failed on below
                ended[type(error).__name__] += 1

        async def load(calls: range) -> None:
            running = [couch.spawn(one(n)) for n in calls]
            for each in running:
                await each

        await load(range(3 * CALLS, 3 * CALLS + 1000))  # warm: the pool full, every code path run once
        first_mb, before_work = trimmed_rss_mb(), pending_work(couch)
        ended.clear()
        tracemalloc.start()
        started = time.monotonic()
        with Sampler(port) as sampler:
            await load(range(CALLS))
        seconds = time.monotonic() - started
        gc.collect()
        kept_mb, peak_mb = (size / 2**20 for size in tracemalloc.get_traced_memory())
        tracemalloc.stop()
        loaded_mb, after_work = trimmed_rss_mb(), pending_work(couch)
        await load(range(CALLS, 2 * CALLS))  # again: a process that keeps memory keeps the same
        again_mb = trimmed_rss_mb()
        limit = pool_limit(server)
        await server.close()
        # close() shuts each connection; the framework lets its socket go on its next turn
        for _ in range(50):
            left_open = connections_to(port)
            if not left_open:
                break
            await couch.sleep(0.02)
    finally:
        async with couch.Server(couch.url) as admin:
            await admin.delete(name)

    couch.report(
        f"soak: {CALLS} concurrent get/save in {seconds:.1f}s ({CALLS / seconds:.0f}/s): {dict(ended)}; "
        f"connections at most {sampler.most} (pool limit {limit}, {sampler.samples} samples), "
        f"{left_open} left after close; Python memory kept {kept_mb:.2f} MB (peak {peak_mb:.0f} MB); "
        f"RSS {first_mb:.0f} MB before, {loaded_mb:.0f} after, {again_mb:.0f} after {CALLS} more; "
        f"pending tasks/timers {before_work} -> {after_work}"
    )
    assert sampler.most <= limit, "the pool holds: never more connections than its limit"
    assert ended == {"ok": 2 * CALLS}, "every call ends, and ends well"
    assert left_open == 0, "no connection is left a moment after the Server is closed"
    assert after_work <= before_work, "no task or timer is left behind"
    # the allocator keeps the pages of the peak (10,000 calls in flight); what is still allocated after
    # the load, and what a second load adds to the process, must both be next to nothing
    assert kept_mb < MEMORY_SLACK_MB, "no Python object of the load is left"
    assert again_mb - loaded_mb < MEMORY_SLACK_MB, "a second load takes no more memory than the first"
