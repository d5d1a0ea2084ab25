"""The documents the embedded store's benchmarks load (about 200 bytes of JSON each), and the loop's longest wait.

The same documents as ``pouchdb/sample_docs.js`` makes for PouchDB.
"""

from __future__ import annotations

import asyncio
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
    """The longest gap between ticks of the event loop while it runs (ms)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.longest = max(self.longest, (now - last - 0.005) * 1000)
            last = now

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
