"""A core coroutine as a Deferred: what each public method of the Twisted flavour returns.

Rules kept here:

- It does what ``Deferred.fromCoroutine`` does, with less work per step (the
  hot path of every request): the coroutine runs at once, up to its first
  wait; each Deferred it awaits resumes it when it fires, in the context
  (``contextvars``) the call was made in.
- The Deferred returned fires with the coroutine's result, or fails with
  what it raised.
- Cancelling that Deferred cancels the Deferred the coroutine is waiting on,
  so the coroutine sees ``CancelledError`` where it waits (as with Twisted's
  own); if the coroutine goes on regardless, the Deferred has already failed
  with ``CancelledError`` and whatever the coroutine does later is dropped.
- A coroutine awaits Deferreds only (what the flavour's Runtime hands out);
  anything else raises ``TypeError`` into it. The flavour's ``Waiter`` (a
  Deferred) is woken without a callback chain: ``fire()`` calls the driver.
"""

from __future__ import annotations

import contextvars
from collections.abc import Coroutine
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure

from ._network import Waiter

__all__ = ["as_deferred"]


class _Run:
    __slots__ = ("coro", "result", "waiting", "context")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.result: Deferred[Any] = Deferred(self._cancel)
        self.waiting: Deferred[Any] | None = None
        self.context = contextvars.copy_context()

    def step(self, failure: Failure | None = None) -> None:
        try:
            if failure is None:  # the coroutine reads the result from the Deferred it awaited
                awaited = self.context.run(self.coro.send, None)
            else:
                awaited = self.context.run(failure.throwExceptionIntoGenerator, self.coro)
        except StopIteration as stop:
            if not self.result.called:
                self.result.callback(stop.value)
            return
        except BaseException:
            if not self.result.called:
                self.result.errback(Failure())
            return
        self.waiting = awaited
        if type(awaited) is Waiter and awaited.wake is None:  # woken directly, no callback chain
            awaited.wake = self._wake
        elif isinstance(awaited, Deferred):
            awaited.addBoth(self._resume)
        else:
            self.waiting = None
            self.step(Failure(TypeError(f"a Twisted-flavour coroutine awaited {awaited!r}, not a Deferred")))

    def _wake(self) -> None:
        self.waiting = None
        self.step()

    def _resume(self, result: object) -> None:
        self.waiting = None
        self.step(result if isinstance(result, Failure) else None)
        return None  # the result is the coroutine's now: nothing left to log as unhandled

    def _cancel(self, _: Deferred[Any]) -> None:
        waiting, self.waiting = self.waiting, None
        if type(waiting) is Waiter and waiting.wake is not None:
            waiting.wake = None
            self.step(Failure(CancelledError()))
        elif waiting is not None:
            waiting.cancel()


def as_deferred(coro: Coroutine[Any, Any, Any]) -> Deferred[Any]:
    """Run ``coro`` now; a Deferred of its result."""
    run = _Run(coro)
    run.step()
    return run.result
