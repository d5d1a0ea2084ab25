"""A replication run by the library between any two Databases: ``replicate()`` and ``Replication``.

Rules kept here:

- The changes are read with ``Database.follow()`` in pages of ``batch_size``
  (``style=all_docs``, every leaf): a ``normal`` feed that ends when caught up
  for a one-shot replication, a ``longpoll`` one that never ends for a
  continuous one. A lost connection is retried with the feed's backoff.
- Caught up (``idle``, a ``paused`` event) means a page of changes came
  back short, or the source said no change is pending (CouchDB does, so a
  last page that happens to be full counts too; on a server that does not
  say, such as PouchDB Server, that state comes with the next change).
- Up to ``batches_in_flight`` batches are worked on at once (see
  ``transfer``); the next page is read while they are. Batches may end in
  any order; the checkpoint records the end of the longest run of finished
  batches from the start, so every change before it is on the target.
- A checkpoint is written after a batch ends (at most one write at a time,
  and ``checkpoint_interval`` seconds apart); a one-shot replication writes
  the last one when it reaches the end, at the feed's own ``last_seq``; a
  closed one writes what it finished. A re-run of a finished replication
  reads the two checkpoints (at once), then one empty page of changes:
  three requests.
- Killed at any point, a replication resumes from its checkpoint: it reads
  again at most the changes of the batches in flight and of one checkpoint
  write, and fetches none of the documents the target has (``_revs_diff``).
- Errors: a document the target refuses is counted and the replication goes
  on; a lost connection or a 5xx is retried with ``backoff`` (the state stays
  ``running``, a ``paused`` event tells the error); anything else (401, a
  missing source or target, a retry limit reached) ends it as ``failed`` and
  is raised by ``wait()``.
- It needs nothing of its databases but the public Database API, so it
  works between any two Databases of one flavour: two servers (that need not
  reach each other), or an embedded store and a server.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._api.database import Database
from .._core.errors import CouchDBError, NetworkError, PreconditionFailed, ServerError
from .._core.feeds import Follower
from .._core.retry import Backoff
from .._core.runtime import Runtime, Task, Tasks, Waiter
from .checkpoints import Checkpointer
from .ids import filter_code, replication_id
from .options import DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_IN_FLIGHT, Options, ReplicationOptions, check_database
from .progress import ENDED, MAX_ERRORS, Counters, EventIterator, Listeners, ReplicationEvent, ReplicationResult
from .transfer import Halve, Transfer

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

__all__ = ["Replication", "replicate"]

T = TypeVar("T")
_RETRYABLE = (NetworkError, ServerError)


class _Batch:
    __slots__ = ("changes", "seq", "done", "check")

    def __init__(self, changes: list[dict[str, Any]], check: bool) -> None:
        self.changes = changes
        self.check = check
        self.seq = next((c.get("seq") for c in reversed(changes) if c.get("seq") is not None), None)
        self.done = False


class Replication:
    """A replication from ``source`` to ``target`` (two Databases), run here rather than by a server.

    Nothing is sent until ``start()`` (or ``async with``, or ``wait()``).
    ``continuous=True`` follows the source's changes until ``close()``;
    otherwise it ends when the target has every change. Options:
    ``doc_ids``, ``selector``, ``filter`` (``"ddoc/name"``, with
    ``query_params``) pick the documents; ``since_seq`` starts there when
    there is no checkpoint; ``create_target`` creates a missing target;
    ``winning_revs_only`` copies only each document's winning revision;
    ``batch_size``, ``batches_in_flight`` and ``checkpoint_interval`` (seconds)
    set the pace and the memory used; ``use_checkpoints=False`` neither reads
    nor writes checkpoints; ``backoff`` retries lost connections (a one-shot
    replication gives up after 10 failures in a row, a continuous one never);
    ``progress(event)`` is called with each ``ReplicationEvent``.
    """

    state: str
    """``new``, ``running``, ``idle`` (caught up, waiting for changes), ``completed``, ``stopped`` or ``failed``."""
    replication_id: str | None
    """The id of its checkpoints (``_local/<replication_id>`` on both databases), once started."""
    source: Database
    target: Database

    def __init__(
        self,
        source: Database,
        target: Database,
        *,
        continuous: bool = False,
        doc_ids: list[str] | None = None,
        selector: dict[str, Any] | None = None,
        filter: str | None = None,
        query_params: dict[str, Any] | None = None,
        since_seq: Any = None,
        create_target: bool = False,
        winning_revs_only: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batches_in_flight: int = DEFAULT_BATCHES_IN_FLIGHT,
        checkpoint_interval: float = 0,
        use_checkpoints: bool = True,
        backoff: Backoff | None = None,
        progress: Callable[[ReplicationEvent], Any] | None = None,
    ) -> None:
        self.source = check_database(source, "source")
        self.target = check_database(target, "target")
        self._options = Options(
            continuous=continuous,
            doc_ids=doc_ids,
            selector=selector,
            filter=filter,
            query_params=query_params,
            since_seq=since_seq,
            create_target=create_target,
            winning_revs_only=winning_revs_only,
            batch_size=batch_size,
            batches_in_flight=batches_in_flight,
            checkpoint_interval=checkpoint_interval,
            use_checkpoints=use_checkpoints,
            backoff=backoff,
            progress=progress,
        )
        self.state = "new"
        self.replication_id = None
        self._direction: str | None = None
        self._runtime: Runtime = source._client.runtime
        self._listeners = Listeners()
        if progress is not None:
            self._listeners.add(progress)
        self._counters = Counters()
        self._errors: list[dict[str, Any]] = []
        self._transfer = Transfer(source, target, self._counters, self._retry, self._refused)
        self._checkpointer: Checkpointer | None = None
        self._follower: Follower | None = None
        self._main: Task | None = None
        self._tasks = Tasks(self._runtime)  # batches, the checkpoint writer
        self._writer: Task | None = None
        self._window: deque[_Batch] = deque()
        self._in_flight = 0
        self._slot: Waiter | None = None
        self._waiters: list[Waiter] = []
        self._failure: BaseException | None = None
        self._closing = False
        self._caught_up = False
        self._empty_target = False
        self._start_seq: Any = 0
        self._through_seq: Any = 0
        self._checkpointed: Any = 0
        self._last_checkpoint = 0.0
        self._start_time: float | None = None
        self._end_time: float | None = None

    def __repr__(self) -> str:
        arrow = "=>" if self._options.continuous else "->"
        return f"<{type(self).__name__} {self.source!r} {arrow} {self.target!r} {self.state}>"

    # --- what a user calls -----------------------------------------------------------------

    def start(self) -> None:
        """Start replicating in the background (from inside the running loop); a second call does nothing."""
        if self.state != "new":
            return
        self.state = "running"
        self._start_time = time.time()
        self._main = self.source._client.spawn(self._run())

    async def wait(self) -> ReplicationResult:
        """Wait for the end (a continuous replication ends only when closed); the error that ended it is raised."""
        self.start()
        while self.state not in ENDED:
            waiter = self._runtime.new_waiter()
            self._waiters.append(waiter)
            await waiter.wait()
        if self._failure is not None:
            raise self._failure
        return self.result

    async def close(self) -> ReplicationResult:
        """Stop now: work in flight is dropped, what the target has is checkpointed. Returns the result."""
        if self.state == "new":
            self._end("stopped")
        if self.state in ENDED or self._closing:
            return await self._ended_result()
        self._closing = True
        if self._main is not None:
            self._main.cancel()
            await self._main.wait()
        await self._stop_work()
        if self._checkpointer is not None:
            await self._checkpointer.settle()  # a checkpoint write cancelled above ends before close does
        if self._failure is None and self._checkpointer is not None and self._through_seq != self._checkpointed:
            try:
                await self._checkpointer.write(self._through_seq, self._counters.history())
                self._checkpointed = self._through_seq
                self._emit("checkpoint")
            except CouchDBError as exc:  # the checkpoint before stays: the next run reads a little more again
                self._emit("paused", error=exc)
        self._end("stopped")
        return self.result

    def events(self) -> EventIterator:
        """``async for event in replication.events()``: each ``ReplicationEvent`` from now until the end."""
        return self._listeners.iterator(self._runtime)

    @property
    def result(self) -> ReplicationResult:
        """The counters and positions so far (final once it has ended)."""
        counters = self._counters
        return ReplicationResult(
            ok=self.state != "failed",
            state=self.state,
            replication_id=self.replication_id,
            session_id=self._checkpointer.session_id if self._checkpointer is not None else None,
            start_last_seq=self._start_seq,
            last_seq=self._checkpointed if self._options.use_checkpoints else self._through_seq,
            missing_checked=counters.missing_checked,
            missing_found=counters.missing_found,
            docs_read=counters.docs_read,
            docs_written=counters.docs_written,
            doc_write_failures=counters.doc_write_failures,
            errors=list(self._errors),
            start_time=self._start_time,
            end_time=self._end_time,
        )

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the run ------------------------------------------------------------------------

    async def _run(self) -> None:
        error: BaseException | None = None
        try:
            await self._open()
            await self._pump()
            if self._failure is None:
                await self._complete()
        except Exception as exc:
            if self._runtime.is_cancellation(exc):
                raise
            error = exc
        finally:
            if not self._closing:
                await self._stop_work()
                failure = self._failure or error
                self._failure = failure
                self._end("failed" if failure is not None else "stopped", failure)

    async def _open(self) -> None:
        options = self._options
        self._emit("active")
        if options.create_target:
            try:
                await self._retry(self.target.create)
            except PreconditionFailed:  # it exists
                pass
        picker = options.picker()
        if options.filter is not None:
            code = await self._retry(lambda: filter_code(self.source, options.filter or ""))
            picker = {**picker, "code": code}
        self.replication_id = replication_id(
            self.source, self.target, picker, options.winning_revs_only, options.since_seq
        )
        checkpointer = self._checkpointer = Checkpointer(
            self.source, self.target, self.replication_id, uuid.uuid4().hex, self._runtime
        )
        start: Any = 0
        found = False
        if options.use_checkpoints:
            source_doc, target_doc = await self._both(
                self._retry(lambda: checkpointer.read("source")), self._retry(lambda: checkpointer.read("target"))
            )
            start = checkpointer.resume(source_doc, target_doc)
            found = target_doc is not None
        if start == 0 and options.since_seq is not None:
            start = checkpointer.start_seq = options.since_seq
        self._start_seq = self._through_seq = self._checkpointed = start
        if not found:  # a first replication: into an empty target, every rev is missing
            info = await self._retry(self.target.info)
            self._empty_target = not info.get("doc_count") and not info.get("doc_del_count")

    async def _pump(self) -> None:
        options = self._options
        since = self._start_seq
        with_docs = self._empty_target  # a first replication into an empty target: see transfer
        while True:
            feed_options: dict[str, Any] = options.feed_options()
            if with_docs:
                feed_options["include_docs"] = True
            follower = self._follower = self.source.follow(
                since=since,
                feed="longpoll" if options.continuous else "normal",
                page_size=options.batch_size,
                backoff=options.backoff,
                status=self._feed_status,
                **feed_options,
            )
            switch = False
            async for changes in follower.batches():
                if self._failure is not None:
                    break
                if self.state == "idle":
                    self.state = "running"
                    self._emit("active")
                short = len(changes) < options.batch_size
                self._caught_up = short or follower.pending == 0
                check = not self._empty_target or short
                self._empty_target = self._empty_target and not short
                while self._in_flight >= options.batches_in_flight and self._failure is None:
                    self._slot = self._runtime.new_waiter()
                    await self._slot.wait()
                if self._failure is not None:
                    break
                batch = _Batch(changes, check)
                self._window.append(batch)
                self._in_flight += 1
                self._tasks.spawn(self._work(batch))
                if with_docs and short and options.continuous:
                    switch = True  # caught up: from now on the changes come without their documents
                    break
            if not switch or self._failure is not None:
                break
            since = follower.last_seq
            with_docs = False
            await follower.close()
        while self._in_flight and self._failure is None:
            self._slot = self._runtime.new_waiter()
            await self._slot.wait()
        if self._failure is not None:
            raise self._failure

    async def _work(self, batch: _Batch) -> None:
        try:
            await self._transfer.batch(batch.changes, batch.check)
        except Exception as exc:
            if self._runtime.is_cancellation(exc):
                raise
            await self._fail(exc)
            return
        finally:
            self._in_flight -= 1
            self._wake_slot()
        batch.done = True
        self._emit("batch", last_seq=batch.seq)
        self._advance()

    def _advance(self) -> None:
        window = self._window
        while window and window[0].done:
            done = window.popleft()
            if done.seq is not None:
                self._through_seq = done.seq
        if not window and self._caught_up and self._options.continuous and self.state == "running":
            self.state = "idle"
            self._emit("paused")
        self._want_checkpoint()

    async def _complete(self) -> None:
        follower = self._follower
        if follower is not None and follower.last_seq is not None:
            self._through_seq = follower.last_seq  # past the last change when a filter left some out
        writer = self._writer
        if writer is not None:  # it may be waiting for checkpoint_interval: this write is the last one
            writer.cancel()
            await writer.wait()
        if self._failure is not None:
            raise self._failure
        await self._write_checkpoint()
        self._end("completed")

    # --- checkpoints ------------------------------------------------------------------

    def _want_checkpoint(self) -> None:
        if (
            self._options.use_checkpoints
            and self._writer is None
            and self._through_seq != self._checkpointed
            and self._failure is None
            and not self._closing
        ):
            self._writer = self._tasks.spawn(self._checkpoints())

    async def _checkpoints(self) -> None:
        try:
            while self._through_seq != self._checkpointed and self._failure is None:
                wait = self._last_checkpoint + self._options.checkpoint_interval - time.monotonic()
                if wait > 0:
                    await self._runtime.sleep(wait)
                await self._write_checkpoint()
        except Exception as exc:
            if self._runtime.is_cancellation(exc):
                raise
            await self._fail(exc)
        finally:
            self._writer = None

    async def _write_checkpoint(self) -> None:
        checkpointer = self._checkpointer
        if not self._options.use_checkpoints or checkpointer is None or self._through_seq == self._checkpointed:
            return
        seq = self._through_seq
        await self._retry(lambda: checkpointer.write(seq, self._counters.history()))
        self._checkpointed = seq
        self._last_checkpoint = time.monotonic()
        self._emit("checkpoint")

    # --- failures, retries, events ------------------------------------------------------

    async def _retry(self, call: Callable[[], Awaitable[T]], *, halve: bool = False) -> T:
        """``call()``, again after a lost connection or a 5xx, as ``backoff`` allows (see ``transfer.Retry``)."""
        backoff = self._options.backoff
        attempt = 0
        while True:
            try:
                result = await call()
            except _RETRYABLE as exc:
                attempt += 1
                if backoff.gives_up(attempt) or self._failure is not None:
                    raise
                self._emit("paused", error=exc)
                await self._runtime.sleep(backoff.delay(attempt))
                if halve and isinstance(exc, NetworkError):
                    raise Halve from exc
                continue
            if attempt:
                self._emit("active")
            return result

    def _feed_status(self, state: str, error: BaseException | None) -> None:
        if state == "disconnected" and error is not None:
            self._emit("paused", error=error)
        elif state == "reconnecting":
            self._emit("active")

    def _refused(self, failure: dict[str, Any]) -> None:
        if len(self._errors) < MAX_ERRORS:
            self._errors.append(failure)
        self._emit("error", failure=failure)

    async def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self._wake_slot()
        if self._follower is not None:
            await self._follower.close()

    async def _stop_work(self) -> None:
        await self._tasks.cancel_all()
        if self._follower is not None:
            await self._follower.close()

    def _wake_slot(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.fire()

    async def _both(self, first: Awaitable[Any], second: Awaitable[Any]) -> tuple[Any, Any]:
        """Two requests at once."""
        box: list[tuple[bool, Any]] = []

        async def run_first() -> None:
            try:
                box.append((True, await first))
            except Exception as exc:
                box.append((False, exc))

        task = self._tasks.spawn(run_first())
        try:
            other = await second
        finally:
            await task.wait()
        ok, value = box[0]
        if not ok:
            raise value
        return value, other

    def _end(self, state: str, error: BaseException | None = None) -> None:
        if self.state in ENDED:
            return
        self.state = state
        self._end_time = time.time()
        self._emit(state, error=error)
        self._listeners.end()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.fire()

    async def _ended_result(self) -> ReplicationResult:
        while self.state not in ENDED:
            waiter = self._runtime.new_waiter()
            self._waiters.append(waiter)
            await waiter.wait()
        return self.result

    def _emit(
        self, kind: str, *, last_seq: Any = None, failure: dict[str, Any] | None = None, error: Any = None
    ) -> None:
        counters = self._counters
        follower = self._follower
        self._listeners(
            ReplicationEvent(
                type=kind,
                state=self.state,
                docs_read=counters.docs_read,
                docs_written=counters.docs_written,
                doc_write_failures=counters.doc_write_failures,
                missing_checked=counters.missing_checked,
                pending=follower.pending if follower is not None else None,
                last_seq=self._checkpointed
                if kind == "checkpoint"
                else last_seq
                if last_seq is not None
                else self._through_seq,
                failure=failure,
                error=error,
                direction=self._direction,
            )
        )


async def replicate(source: Database, target: Database, **options: Unpack[ReplicationOptions]) -> ReplicationResult:
    """Replicate ``source`` into ``target`` once, here (not on a server): every change up to now.

    The options are ``Replication``'s (all but ``continuous``). Returns a
    ``ReplicationResult`` (``docs_read``, ``docs_written``,
    ``doc_write_failures``, ``last_seq``, ``errors``); the error that ended it
    (401, a missing database...) is raised.
    """
    replication = Replication(source, target, **options)
    try:
        return await replication.wait()
    finally:
        if replication.state not in ENDED:  # the caller was cancelled
            await replication.close()
