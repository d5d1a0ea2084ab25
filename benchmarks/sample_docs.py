"""The documents the embedded store's benchmarks load (about 200 bytes of JSON each), and the loop's longest wait.

The same documents as ``pouchdb/sample_docs.js`` makes for PouchDB.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

__all__ = ["Ticker", "doc", "load"]


def doc(i: int) -> dict[str, Any]:
    return {
        "_id": f"doc{i:07d}",
        "type": f"type{i % 10}",
        "n": i,
        "name": f"name-{i}-abcdefghij",
        "email": f"user{i}@example.com",
        "tags": [f"t{i % 7}", f"t{i % 11}"],
        "nested": {"a": i % 100, "b": f"x{i % 13}"},
        "flag": i % 2 == 0,
    }


async def load(db: Any, count: int) -> None:
    """``count`` documents in batches of 1,000 (``_bulk_docs``)."""
    for start in range(0, count, 1000):
        await db.save({"docs": [doc(i) for i in range(start, min(count, start + 1000))]})


class Ticker:
    """The longest gap between ticks of the event loop while it runs (ms).

    ``longest_blocked`` is the longest part of a gap the loop's thread spent
    neither running nor queued for a CPU (Linux's per-thread schedstat):
    waiting for the GIL or on I/O. The rest of a gap is the machine's load.
    On a loaded machine the blocked part holds some of the load too (a GIL
    holder queued for a CPU, a virtual machine's CPUs paused), so read it as
    an upper bound of what the process itself costs the loop. None where
    schedstat is not there.
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self.longest_blocked: float | None = None
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def _schedstat() -> tuple[float, float] | None:
        """(ms on a CPU, ms waiting for one) of this thread so far."""
        try:
            with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
                ran, waited, _ = f.read().split()
        except OSError:
            return None
        return int(ran) / 1e6, int(waited) / 1e6

    async def _run(self) -> None:
        last, stat = time.perf_counter(), self._schedstat()
        while True:
            await asyncio.sleep(0.005)
            now, now_stat = time.perf_counter(), self._schedstat()
            gap = (now - last - 0.005) * 1000
            self.longest = max(self.longest, gap)
            if stat is not None and now_stat is not None:
                blocked = gap - (now_stat[0] - stat[0]) - (now_stat[1] - stat[1])
                self.longest_blocked = max(self.longest_blocked or 0.0, blocked)
            last, stat = now, now_stat

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
