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
  anything else raises ``TypeError`` into it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Coroutine
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

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
        if not isinstance(awaited, Deferred):
            self.step(Failure(TypeError(f"a Twisted-flavour coroutine awaited {awaited!r}, not a Deferred")))
            return
        self.waiting = awaited
        awaited.addBoth(self._resume)

    def _resume(self, result: object) -> None:
        self.waiting = None
        self.step(result if isinstance(result, Failure) else None)
        return None  # the result is the coroutine's now: nothing left to log as unhandled

    def _cancel(self, _: Deferred[Any]) -> None:
        waiting = self.waiting
        if waiting is not None:
            waiting.cancel()


def as_deferred(coro: Coroutine[Any, Any, Any]) -> Deferred[Any]:
    """Run ``coro`` now; a Deferred of its result."""
    run = _Run(coro)
    run.step()
    return run.result
