"""Both ways at once: ``sync(a, b)`` and ``Sync``, two replications (a to b, b to a) run together.

Rules kept here:

- ``push`` replicates ``a`` into ``b`` and ``pull`` ``b`` into ``a``, each with
  its own checkpoints; a document changed on both sides meanwhile ends up
  with the same leaves (a conflict, the same winner) on both.
- Their events reach the Sync's listeners with ``direction`` set. Its state
  is ``failed`` when one failed, else ``running`` while one runs, ``idle``
  when both are, and at the end ``completed`` or ``stopped``.
- When one direction fails the other is closed; ``wait()`` raises the failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .._api.database import Database
from .._core.errors import InvalidType
from .._core.runtime import Tasks
from .options import ReplicationOptions
from .progress import ENDED, EventIterator, Listeners, ReplicationEvent, SyncResult
from .replication import Replication

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

__all__ = ["Sync", "sync"]


class Sync:
    """``a`` and ``b`` kept alike: ``push`` (a to b) and ``pull`` (b to a), two ``Replication`` run together.

    It takes ``Replication``'s options (``continuous``, ``doc_ids``,
    ``selector``, ``filter``...), used for both directions; ``progress(event)``
    hears both, each event with its ``direction``.
    """

    push: Replication
    """The replication from ``a`` to ``b``."""
    pull: Replication
    """The replication from ``b`` to ``a``."""

    _replication_class: ClassVar[type[Replication]] = Replication

    def __init__(
        self, a: Database, b: Database, *, continuous: bool = False, **options: Unpack[ReplicationOptions]
    ) -> None:
        progress = options.pop("progress", None)
        if progress is not None and not callable(progress):
            raise InvalidType("progress must be callable")
        self._listeners = Listeners()
        if progress is not None:
            self._listeners.add(progress)
        self.push = self._replication_class(a, b, continuous=continuous, **options)
        self.pull = self._replication_class(b, a, continuous=continuous, **options)
        self._runtime = self.push._runtime
        self._tasks = Tasks(self._runtime)
        for direction, replication in (("push", self.push), ("pull", self.pull)):
            replication._direction = direction
            replication._listeners.add(self._heard)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.push.source!r} <-> {self.push.target!r} {self.state}>"

    @property
    def state(self) -> str:
        """The two directions' states as one (see the module's rules)."""
        states = (self.push.state, self.pull.state)
        if "failed" in states:
            return "failed"
        for state in ("running", "new", "idle"):
            if state in states:
                return state
        return "completed" if states == ("completed", "completed") else "stopped"

    @property
    def result(self) -> SyncResult:
        """Both directions' results so far."""
        return SyncResult(push=self.push.result, pull=self.pull.result)

    def start(self) -> None:
        """Start both directions in the background."""
        self.push.start()
        self.pull.start()

    async def wait(self) -> SyncResult:
        """Wait until both have ended; a failure of either is raised."""
        self.start()
        failures: list[BaseException] = []
        for replication in (self.push, self.pull):
            try:
                await replication.wait()
            except Exception as exc:
                if self._runtime.is_cancellation(exc):
                    raise
                failures.append(exc)
        if failures:
            raise failures[0]
        return self.result

    async def close(self) -> SyncResult:
        """Stop both directions (each checkpoints what it finished)."""
        await self.push.close()
        await self.pull.close()
        await self._tasks.cancel_all()
        return self.result

    def events(self) -> EventIterator:
        """``async for event in sync.events()``: the events of both directions until both have ended."""
        return self._listeners.iterator(self._runtime)

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _heard(self, event: ReplicationEvent) -> None:
        self._listeners(event)
        if event.type == "failed":
            other = self.pull if event.direction == "push" else self.push
            self._tasks.spawn(self._close(other))
        if self.push.state in ENDED and self.pull.state in ENDED:
            self._listeners.end()

    @staticmethod
    async def _close(replication: Replication) -> None:
        await replication.close()


async def sync(a: Database, b: Database, **options: Unpack[ReplicationOptions]) -> SyncResult:
    """Replicate ``a`` into ``b`` and ``b`` into ``a`` once, at the same time; returns both results.

    The options are ``Replication``'s (all but ``continuous``); the failure of
    either direction is raised.
    """
    both = Sync(a, b, **options)
    try:
        return await both.wait()
    finally:
        if both.state not in ENDED:  # the caller was cancelled
            await both.close()
