"""The Runtime for asyncio: the core's connection pool on asyncio's transports, and the loop's tasks."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .._core.pool import Pool
from .._core.runtime import Timeouts
from .._core.tls import TLSConfig
from ._network import AioNetwork, Waiter

__all__ = ["AioRuntime"]

log = logging.getLogger("wallaby.backends.couchdb.asyncio")

T = TypeVar("T")


class _Task:
    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    def cancel(self) -> None:
        self._task.cancel()

    async def wait(self) -> None:
        await asyncio.wait([self._task])


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())


class AioRuntime:
    """Requests through one pool of keep-alive connections (``_core/pool.py``) on the running loop."""

    def __init__(self, timeouts: Timeouts, tls: TLSConfig | None = None) -> None:
        self.pool = Pool(AioNetwork(tls), timeouts.connect)
        self.request = self.pool.request

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def spawn(self, coro: Coroutine[Any, Any, Any], on_end: Callable[[], None]) -> _Task:
        task = asyncio.get_running_loop().create_task(coro)
        task.add_done_callback(_log_failure)
        task.add_done_callback(lambda _: on_end())
        return _Task(task)

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def new_waiter(self) -> Waiter:
        return Waiter()

    def is_awaitable(self, value: Any) -> bool:
        return inspect.isawaitable(value)

    def is_cancellation(self, exc: BaseException) -> bool:
        return isinstance(exc, asyncio.CancelledError)

    async def close(self) -> None:
        self.pool.close()
