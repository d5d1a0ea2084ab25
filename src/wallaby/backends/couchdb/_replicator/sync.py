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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .._api.database import Database
from .._core.retry import Backoff
from .._core.runtime import Tasks
from .options import DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_IN_FLIGHT
from .progress import ENDED, EventIterator, Listeners, ReplicationEvent, SyncResult
from .replication import Replication

if TYPE_CHECKING:
    from typing_extensions import Self

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
        self,
        a: Database,
        b: Database,
        *,
        continuous: bool = False,
        doc_ids: list[str] | None = None,
        selector: dict[str, Any] | None = None,
        filter: str | None = None,
        query_params: dict[str, Any] | None = None,
        since_seq: Any = None,
        winning_revs_only: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batches_in_flight: int = DEFAULT_BATCHES_IN_FLIGHT,
        checkpoint_interval: float = 0,
        use_checkpoints: bool = True,
        backoff: Backoff | None = None,
        progress: Callable[[ReplicationEvent], Any] | None = None,
    ) -> None:
        options: dict[str, Any] = {
            "continuous": continuous,
            "doc_ids": doc_ids,
            "selector": selector,
            "filter": filter,
            "query_params": query_params,
            "since_seq": since_seq,
            "winning_revs_only": winning_revs_only,
            "batch_size": batch_size,
            "batches_in_flight": batches_in_flight,
            "checkpoint_interval": checkpoint_interval,
            "use_checkpoints": use_checkpoints,
            "backoff": backoff,
        }
        self._listeners = Listeners()
        if progress is not None:
            self._listeners.add(progress)
        self.push = self._replication_class(a, b, **options)
        self.pull = self._replication_class(b, a, **options)
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


async def sync(
    a: Database,
    b: Database,
    *,
    doc_ids: list[str] | None = None,
    selector: dict[str, Any] | None = None,
    filter: str | None = None,
    query_params: dict[str, Any] | None = None,
    since_seq: Any = None,
    winning_revs_only: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batches_in_flight: int = DEFAULT_BATCHES_IN_FLIGHT,
    checkpoint_interval: float = 0,
    use_checkpoints: bool = True,
    backoff: Backoff | None = None,
    progress: Callable[[ReplicationEvent], Any] | None = None,
) -> SyncResult:
    """Replicate ``a`` into ``b`` and ``b`` into ``a`` once, at the same time; returns both results.

    The options are ``Replication``'s; the failure of either direction is raised.
    """
    both = Sync(
        a,
        b,
        doc_ids=doc_ids,
        selector=selector,
        filter=filter,
        query_params=query_params,
        since_seq=since_seq,
        winning_revs_only=winning_revs_only,
        batch_size=batch_size,
        batches_in_flight=batches_in_flight,
        checkpoint_interval=checkpoint_interval,
        use_checkpoints=use_checkpoints,
        backoff=backoff,
        progress=progress,
    )
    try:
        return await both.wait()
    finally:
        if both.state not in ENDED:  # the caller was cancelled
            await both.close()
