"""The Runtime for Twisted: the core's connection pool on Twisted's transports, and Deferreds for tasks.

Works on any reactor: the reactor is looked up when the first request is
made, so a program can install the reactor it wants before that.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from twisted.internet import defer
from twisted.python.failure import Failure

from .._core.pool import Pool
from .._core.runtime import Timeouts
from .._core.tls import TLSConfig
from ._coroutines import as_deferred
from ._network import TwistedNetwork, Waiter

__all__ = ["TwistedRuntime"]

log = logging.getLogger("wallaby.backends.couchdb.twisted")

T = TypeVar("T")


class _Task:
    __slots__ = ("_deferred", "_ended")

    def __init__(self, deferred: defer.Deferred[Any]) -> None:
        self._deferred = deferred
        self._ended: defer.Deferred[None] = defer.Deferred()

    def cancel(self) -> None:
        self._deferred.cancel()

    def ended(self, _: object = None) -> None:
        if not self._ended.called:
            self._ended.callback(None)

    def wait(self) -> defer.Deferred[None]:
        waiter: defer.Deferred[None] = defer.Deferred()
        self._ended.addCallback(lambda _: waiter.callback(None))
        return waiter


def _log_failure(failure: Failure) -> None:
    if not failure.check(defer.CancelledError):
        log.error("background task failed", exc_info=failure.value)


class TwistedRuntime:
    """Requests through one pool of keep-alive connections (``_core/pool.py``) on the reactor."""

    def __init__(self, timeouts: Timeouts, tls: TLSConfig | None = None) -> None:
        self.pool = Pool(TwistedNetwork(tls), timeouts.connect)
        self.request = self.pool.request

    async def sleep(self, seconds: float) -> None:
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        await deferLater(reactor, seconds)

    def spawn(self, coro: Coroutine[Any, Any, Any], on_end: Callable[[], None]) -> _Task:
        deferred = as_deferred(coro)
        task = _Task(deferred)
        deferred.addErrback(_log_failure)
        deferred.addBoth(lambda _: on_end())
        deferred.addBoth(task.ended)
        return task

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        from twisted.internet import reactor, threads

        return await threads.deferToThreadPool(reactor, reactor.getThreadPool(), fn, *args)

    def new_waiter(self) -> Waiter:
        return Waiter()

    def is_awaitable(self, value: Any) -> bool:
        return isinstance(value, defer.Deferred) or inspect.isawaitable(value)

    def is_cancellation(self, exc: BaseException) -> bool:
        return isinstance(exc, defer.CancelledError)

    async def close(self) -> None:
        self.pool.close()
