"""Helpers for the tests of the embedded store itself (they need no server)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Awaitable
from typing import Any


async def store_db(couch: Any, url: str = "memory://", **create: Any) -> Any:
    """A new database on a store of its own (``memory://``: private to its Server), closed after the test."""
    server = couch.server(url)
    return await server.create(f"db-{uuid.uuid4().hex[:8]}", **create)


def _queued() -> float:
    """Seconds this thread has spent waiting for a CPU (Linux), 0 where that is not known."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


async def loop_lags(couch: Any, work: Awaitable[Any]) -> list[float]:
    """How late (seconds) each 5 ms sleep of the event loop woke while ``work`` ran.

    The time the loop's thread spent queueing for a CPU is left out: that is
    the machine's load (the tests share it), not the store holding the loop.
    """
    lags: list[float] = []
    running = True

    async def probe() -> None:
        while running:
            start, queued = time.perf_counter(), _queued()
            await couch.sleep(0.005)
            lags.append(time.perf_counter() - start - 0.005 - (_queued() - queued))

    task = couch.spawn(probe())
    try:
        await work
    finally:
        running = False
        await task
    return lags
