"""What a replication tells: its counters, its state, its events, and whoever listens.

Rules kept here:

- The counters are CouchDB's (its ``_replicate`` history names them):
  ``missing_checked`` revs asked about, ``missing_found`` revs the target
  lacked, ``docs_read`` revisions fetched from the source, ``docs_written``
  revisions the target stored, ``doc_write_failures`` revisions it refused.
- States: ``new`` (not started), ``running``, ``idle`` (caught up, waiting
  for changes), then one of ``completed`` (a one-shot replication reached
  the end), ``stopped`` (closed) or ``failed``.
- An event is a snapshot: its type, the state and every counter at that
  moment, so a progress display needs only the latest one. Listeners are
  called in order, synchronously; one that raises is logged and the others
  still hear it. An event iterator holds at most ``_QUEUE`` events: when its
  reader lags, the oldest ``batch`` and ``checkpoint`` events are dropped
  (the newer ones carry their counters), never the others.
- At most ``MAX_ERRORS`` refused documents are kept in a result (all are
  counted, and each is told as an ``error`` event).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._core.runtime import Runtime, Waiter

__all__ = [
    "EVENT_TYPES",
    "MAX_ERRORS",
    "STATES",
    "Counters",
    "EventIterator",
    "Listeners",
    "ReplicationEvent",
    "ReplicationResult",
    "SyncResult",
]

log = logging.getLogger("wallaby.backends.couchdb.replicator")

STATES = ("new", "running", "idle", "completed", "stopped", "failed")
ENDED = frozenset(("completed", "stopped", "failed"))
EVENT_TYPES = ("active", "batch", "checkpoint", "paused", "error", "completed", "stopped", "failed")
MAX_ERRORS = 1000
_QUEUE = 1000
_DROPPABLE = frozenset(("batch", "checkpoint"))


@dataclass
class Counters:
    """The counters of one replication run (CouchDB's names)."""

    missing_checked: int = 0
    missing_found: int = 0
    docs_read: int = 0
    docs_written: int = 0
    doc_write_failures: int = 0

    def history(self) -> dict[str, int]:
        return {
            "missing_checked": self.missing_checked,
            "missing_found": self.missing_found,
            "docs_read": self.docs_read,
            "docs_written": self.docs_written,
            "doc_write_failures": self.doc_write_failures,
        }


@dataclass(frozen=True)
class ReplicationEvent:
    """Something that happened to a replication, with its counters at that moment.

    ``type`` is one of:

    - ``active``: it started, or resumed work after being idle or paused;
    - ``batch``: a batch of changes is on the target (``last_seq`` is where it ends);
    - ``checkpoint``: a checkpoint was written on both sides at ``last_seq``;
    - ``paused``: caught up and waiting for changes (``error`` None), or waiting
      to retry after a lost connection or a 5xx (``error`` is why);
    - ``error``: the target refused a document (``failure`` says which and why);
      the replication goes on;
    - ``completed``, ``stopped``, ``failed`` (``error`` is why): the end.
    """

    type: str
    state: str
    docs_read: int
    docs_written: int
    doc_write_failures: int
    missing_checked: int
    pending: int | None
    """Changes the source still has after what was read (CouchDB says; None when unknown)."""
    last_seq: Any
    """The source seq up to which the target has everything (a ``batch`` event's own end)."""
    failure: dict[str, Any] | None = None
    """For an ``error`` event: ``{"id", "rev", "error", "reason"}`` of the refused document."""
    error: BaseException | None = None
    """For ``paused`` (the failure being retried) and ``failed`` (what ended it)."""
    direction: str | None = None
    """``"push"`` or ``"pull"`` for an event of ``sync()``; None for ``replicate()``."""


@dataclass(frozen=True)
class ReplicationResult:
    """What a replication did: CouchDB's counters, where it started and ended, and the refused documents."""

    ok: bool
    """True when it completed, or was stopped, without failing."""
    state: str
    replication_id: str | None
    """The id of its checkpoint documents (``_local/<replication_id>`` on both sides)."""
    session_id: str | None
    start_last_seq: Any
    """The source seq it resumed from (0 for a replication from scratch)."""
    last_seq: Any
    """The source seq up to which the target has everything, checkpointed on both sides."""
    missing_checked: int
    missing_found: int
    docs_read: int
    docs_written: int
    doc_write_failures: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    """The documents the target refused (at most 1,000 kept): ``{"id", "rev", "error", "reason"}``."""
    start_time: float | None = None
    """When it started, in seconds since the epoch."""
    end_time: float | None = None
    """When it ended (None while it runs)."""


@dataclass(frozen=True)
class SyncResult:
    """What ``sync(a, b)`` did: ``push`` (a to b) and ``pull`` (b to a)."""

    push: ReplicationResult
    pull: ReplicationResult

    @property
    def ok(self) -> bool:
        return self.push.ok and self.pull.ok


class EventIterator:
    """``async for event in replication.events()``: every event from now until the end."""

    __slots__ = ("_runtime", "_queue", "_waiter", "_ended", "_listeners")

    def __init__(self, runtime: Runtime, listeners: Listeners) -> None:
        self._runtime = runtime
        self._queue: deque[ReplicationEvent] = deque()
        self._waiter: Waiter | None = None
        self._ended = False
        self._listeners = listeners

    def __aiter__(self) -> EventIterator:
        return self

    async def __anext__(self) -> ReplicationEvent:
        while not self._queue:
            if self._ended:
                raise StopAsyncIteration
            self._waiter = self._runtime.new_waiter()
            await self._waiter.wait()
        return self._queue.popleft()

    def put(self, event: ReplicationEvent) -> None:
        queue = self._queue
        if len(queue) >= _QUEUE:
            for index, queued in enumerate(queue):
                if queued.type in _DROPPABLE:
                    del queue[index]
                    break
        queue.append(event)
        self._wake()

    def end(self) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.fire()

    async def aclose(self) -> None:
        """Stop listening (``async for`` left early does it too, once collected)."""
        self._listeners.forget(self)
        self.end()


class Listeners:
    """Who hears a replication's events: callbacks, then iterators, in the order they came."""

    __slots__ = ("_callbacks", "_iterators", "_ended")

    def __init__(self) -> None:
        self._callbacks: list[Callable[[ReplicationEvent], Any]] = []
        self._iterators: list[EventIterator] = []
        self._ended = False

    def add(self, callback: Callable[[ReplicationEvent], Any]) -> None:
        self._callbacks.append(callback)

    def iterator(self, runtime: Runtime) -> EventIterator:
        iterator = EventIterator(runtime, self)
        if self._ended:
            iterator.end()
        else:
            self._iterators.append(iterator)
        return iterator

    def forget(self, iterator: EventIterator) -> None:
        if iterator in self._iterators:
            self._iterators.remove(iterator)

    def __call__(self, event: ReplicationEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("replication progress callback %r failed", callback)
        for iterator in self._iterators:
            iterator.put(event)

    def end(self) -> None:
        """No more events: every iterator ends once it has handed over those it holds."""
        self._ended = True
        for iterator in self._iterators:
            iterator.end()
        self._iterators.clear()
