"""Helpers for the tests of the embedded store itself (they need no server)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from typing import Any


async def store_db(couch: Any, url: str = "memory://", **create: Any) -> Any:
    """A new database on a store of its own (``memory://``: private to its Server), closed after the test."""
    server = couch.server(url)
    return await server.create(f"db-{uuid.uuid4().hex[:8]}", **create)


async def loop_lags(couch: Any, work: Awaitable[Any]) -> list[float]:
    """How late (seconds) each 5 ms sleep of the event loop woke while ``work`` ran."""
    lags: list[float] = []
    running = True

    async def probe() -> None:
        while running:
            start = time.perf_counter()
            await couch.sleep(0.005)
            lags.append(time.perf_counter() - start - 0.005)

    task = couch.spawn(probe())
    try:
        await work
    finally:
        running = False
        await task
    return lags
