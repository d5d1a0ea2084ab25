"""Following a feed (``/{db}/_changes``, ``/_db_updates``) through drops and restarts.

Rules kept here:

- Two positions: ``last_seq`` is the seq of the last change handed to the
  consumer (what a program checkpoints); the reader's position is the seq of
  the last change it has read. Changes read but not yet handed over wait in a
  one-batch hand-off, so a reconnect resumes from the reader's position and
  nothing is lost or repeated; closing drops only what was never handed over,
  and ``last_seq`` still names exactly where to resume.
- Memory is bounded: the reader waits while a batch is waiting for the
  consumer, and a batch is what one read of the socket (continuous) or one
  page of ``page_size`` changes (normal, longpoll) holds.
- A cut, reset or silent connection (no heartbeat within twice its interval),
  a 5xx, and CouchDB's ``nodedown`` (412 "progress not possible": the node
  holding a shard copy the seq names is down, until it is back) are retried
  with the Backoff policy; any other error (401, 403, a missing database or
  filter, ...) ends the feed and is raised to the consumer.
- ``since="now"`` is turned into a real seq before following, so changes
  made during a reconnect are not skipped.
- A closed feed's reader stops after the hand-over it is in. Under Twisted
  a fired Deferred calls back at once, so the consumer may resume, and close
  the feed, inside the reader's own ``put``; cancelling a task from within
  its own call is lost, so the reader checks ``_closed`` after each batch.
- Each (id, rev) is handed over once in a Follower's life. A cluster's feed
  may send a change again: when a node is lost, CouchDB resumes that node's
  shard ranges from another copy at an older checkpoint. A change row whose
  every (id, rev) in ``changes`` was handed over already is dropped (its seq
  still moves the reader on). Memory is bounded: the last ``REMEMBERED``
  (10,000) pairs are kept (about 3 MB), the oldest forgotten first, so only
  a repeat of a change handed over more than 10,000 changes ago comes
  through again. A row without ``id`` or ``changes`` (``/_db_updates``) is
  never dropped.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .checks import seq, whole_number
from .errors import InvalidArgument, InvalidType, NetworkError, ProtocolError, ResponseError, ServerError
from .http import Http
from .json import JSON_TYPE, JSONDecodeError, loads
from .params import query_string
from .retry import Backoff
from .runtime import Task, Waiter
from .wire import LineSplitter

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["REMEMBERED", "FeedRequest", "Follower", "StatusCallback", "StatusCallbacks", "feed_request"]

log = logging.getLogger("wallaby.backends.couchdb.feeds")

FEEDS = ("continuous", "longpoll", "normal")
STATES = ("connected", "disconnected", "reconnecting", "stopped")
REMEMBERED = 10_000
"""How many (id, rev) pairs handed over a Follower remembers, to drop repeats."""

StatusCallback = Callable[[str, "BaseException | None"], Any]


class StatusCallbacks:
    """Who hears a feed's state (connected / disconnected / reconnecting / stopped), in order.

    A callback that raises is logged and the others are still called.
    """

    __slots__ = ("_callbacks",)

    def __init__(self) -> None:
        self._callbacks: list[StatusCallback] = []

    def add(self, callback: StatusCallback) -> None:
        if not callable(callback):
            raise InvalidType("a status callback must be callable")
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def remove(self, callback: StatusCallback) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def __call__(self, state: str, error: BaseException | None = None) -> None:
        for callback in list(self._callbacks):
            try:
                callback(state, error)
            except Exception:
                log.exception("feed status callback %r failed", callback)


class FeedRequest:
    """What to ask for: the endpoint, its fixed query and an optional POST body."""

    __slots__ = ("path", "query", "body", "feed", "since", "heartbeat", "limit", "page_size")

    def __init__(
        self,
        path: str,
        query: dict[str, Any],
        body: bytes | None,
        feed: str,
        since: Any,
        heartbeat: int,
        limit: int | None,
        page_size: int,
    ) -> None:
        self.path = path
        self.query = query
        self.body = body
        self.feed = feed
        self.since = since
        self.heartbeat = heartbeat
        self.limit = limit
        self.page_size = page_size


def feed_request(
    path: str,
    *,
    feed: str,
    since: Any,
    heartbeat: object,
    limit: object,
    page_size: object,
    query: dict[str, Any] | None = None,
    body: bytes | None = None,
) -> FeedRequest:
    """A FeedRequest for any feed endpoint, its common options checked."""
    if feed not in FEEDS:
        raise InvalidArgument(f"feed must be one of {', '.join(FEEDS)}, not {feed!r}")
    return FeedRequest(
        path,
        query or {},
        body,
        feed,
        None if since is None else seq(since),
        whole_number(heartbeat, "heartbeat", 1),
        None if limit is None else whole_number(limit, "limit", 1),
        whole_number(page_size, "page_size", 1),
    )


class _Closed:
    """The end-of-feed marker in the hand-off."""


_END = _Closed()


class _HandOff:
    """Holds at most one batch between the reader and the consumer."""

    __slots__ = ("_runtime", "_item", "_error", "_ended", "_space", "_ready")

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._item: list[dict[str, Any]] | None = None
        self._error: BaseException | None = None
        self._ended = False
        self._space: Waiter | None = None
        self._ready: Waiter | None = None

    async def put(self, batch: list[dict[str, Any]]) -> None:
        while self._item is not None:
            self._space = self._runtime.new_waiter()
            await self._space.wait()
        self._item = batch
        self._wake_consumer()

    def end(self, error: BaseException | None = None) -> None:
        if not self._ended:
            self._ended = True
            self._error = error
            self._wake_consumer()

    def _wake_consumer(self) -> None:
        ready, self._ready = self._ready, None
        if ready is not None:
            ready.fire()

    async def get(self) -> list[dict[str, Any]] | _Closed:
        while self._item is None:
            if self._ended:
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                return _END
            self._ready = self._runtime.new_waiter()
            await self._ready.wait()
        item, self._item = self._item, None
        space, self._space = self._space, None
        if space is not None:
            space.fire()
        return item


class _Repeats:
    """The (id, rev) pairs handed over lately: at most ``size``, the oldest forgotten first."""

    __slots__ = ("_size", "_seen", "_order", "dropped")

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._seen: set[tuple[str, str]] = set()
        self._order: deque[tuple[str, str]] = deque()
        self.dropped = 0

    def fresh(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows of ``batch`` that are not repeats; their pairs are remembered from now on.

        A row is a repeat when every (id, rev) it names was handed over lately;
        a row naming none is kept. (One loop, no helper per row: a replication
        passes every change of a database through here.)
        """
        seen, order = self._seen, self._order
        fresh = []
        for row in batch:
            docid, changes = row.get("id"), row.get("changes")
            if type(docid) is not str or type(changes) is not list:
                fresh.append(row)
                continue
            named = new = False
            for change in changes:
                rev = change.get("rev") if type(change) is dict else None
                if type(rev) is str:
                    named = True
                    pair = (docid, rev)
                    if pair not in seen:
                        seen.add(pair)
                        order.append(pair)
                        new = True
            if new or not named:
                fresh.append(row)
        for _ in range(len(order) - self._size):
            seen.discard(order.popleft())
        self.dropped += len(batch) - len(fresh)
        return fresh


class Follower:
    """A feed followed for as long as the program wants, in both flavours.

    ``async for change in follower`` hands over one change at a time;
    ``async for batch in follower.batches()`` a list at a time; ``run(callback)``
    calls ``callback`` for each (awaiting what it returns: back-pressure) and
    returns when the feed ends. ``last_seq`` is the seq of the last change
    handed over: store it, and pass it as ``since`` to resume after a restart.
    ``close()`` (or leaving ``async with``) stops the follower and its
    connection at once.
    """

    last_seq: Any
    """The seq of the last change handed over: where to resume (``since``) after a restart.

    Once a ``normal`` feed (or one with a ``limit``) has ended, the ``last_seq``
    CouchDB gave at its end, which may be past the last change handed over
    (a filter may have left the later changes out).
    """
    pending: int | None
    """Changes after the last page read, as CouchDB counts them (its normal and longpoll
    feeds; None until then, and on servers that do not say)."""

    def __init__(
        self,
        http: Http,
        spawn: Callable[[Coroutine[Any, Any, None]], Task],
        request: FeedRequest,
        *,
        backoff: Backoff | None = None,
        status: StatusCallback | None = None,
    ) -> None:
        if backoff is not None and not isinstance(backoff, Backoff):
            raise InvalidType("backoff must be a Backoff")
        if status is not None and not callable(status):
            raise InvalidType("status must be callable")
        self._http = http
        self._spawn = spawn
        self._request = request
        self._backoff = backoff or Backoff()
        self._status = StatusCallbacks()
        if status is not None:
            self._status.add(status)
        self.last_seq = request.since
        self._read_seq: Any = request.since
        self._handed = 0
        self._read = 0
        self._hand_off: _HandOff | None = None
        self._task: Task | None = None
        self._current: list[dict[str, Any]] = []
        self._position = 0
        self._closed = False
        self._received = False
        self._finished = False
        self.pending = None
        self._repeats = _Repeats()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._request.path} last_seq={self.last_seq!r}>"

    # --- consumer side ---------------------------------------------------------

    def _start(self) -> _HandOff:
        if self._hand_off is None:
            self._hand_off = _HandOff(self._http.runtime)
            if self._closed:
                self._hand_off.end()
            else:
                self._task = self._spawn(self._follow(self._hand_off))
        return self._hand_off

    def __aiter__(self) -> Follower:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while self._position >= len(self._current):
            batch = await self._start().get()
            if isinstance(batch, _Closed):
                self._ended()
                raise StopAsyncIteration
            self._current = batch
            self._position = 0
        change = self._current[self._position]
        self._position += 1
        self._handed_over(change.get("seq"), 1)
        return change

    def batches(self) -> _Batches:
        """An async iterator of lists of changes, as they arrive."""
        return _Batches(self)

    async def _next_batch(self) -> list[dict[str, Any]]:
        if self._position < len(self._current):
            batch = self._current[self._position :]
        else:
            got = await self._start().get()
            if isinstance(got, _Closed):
                self._ended()
                raise StopAsyncIteration
            batch = got
        self._current, self._position = [], 0
        self._handed_over(_last_seq(batch), len(batch))
        return batch

    def _ended(self) -> None:
        if self._finished and not self._closed:  # everything read was handed over
            self.last_seq = self._read_seq

    def _handed_over(self, seq: Any, count: int) -> None:
        self._handed += count
        if seq is not None:
            self.last_seq = seq

    async def run(self, callback: Callable[..., Any], batch: bool = False) -> None:
        """Call ``callback(change)`` (``callback(changes)`` with ``batch=True``) until the feed ends.

        What the callback returns is awaited when it is awaitable (a Deferred
        under Twisted), so a slow consumer slows the reading. An error that
        ends the feed is raised from here; ``close()`` ends it quietly.
        """
        if not callable(callback):
            raise InvalidType("run() needs a callable")
        is_awaitable = self._http.runtime.is_awaitable
        source = self.batches() if batch else self
        async for item in source:
            result = callback(item)
            if is_awaitable(result):
                await result

    def add_status_callback(self, callback: StatusCallback) -> None:
        """Call ``callback(state, error)`` on connected / disconnected / reconnecting / stopped."""
        self._status.add(callback)

    def remove_status_callback(self, callback: StatusCallback) -> None:
        """Stop calling ``callback`` on state changes."""
        self._status.remove(callback)

    async def close(self) -> None:
        """Stop following and close the connection; iteration ends."""
        self._stop()

    def _stop(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        if self._hand_off is not None:
            self._hand_off.end()

    async def __aenter__(self) -> Self:
        """Start following now: ``since="now"`` means the moment ``async with`` is entered."""
        if self._hand_off is None and self._read_seq == "now":
            self._read_seq = self.last_seq = await self._resolve_now()
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- reader side -------------------------------------------------------------

    async def _follow(self, hand_off: _HandOff) -> None:
        runtime = self._http.runtime
        request = self._request
        error: BaseException | None = None
        attempt = 0
        try:
            while True:
                self._received = False
                try:
                    if self._read_seq == "now":
                        self._read_seq = self.last_seq = await self._resolve_now()
                    if request.feed == "continuous":
                        finished = await self._continuous(hand_off)
                    else:
                        finished = await self._page(hand_off)
                    attempt = 0
                    if finished:
                        self._finished = True
                        break
                except (NetworkError, ResponseError) as exc:
                    if not _retryable(exc):
                        raise
                    attempt = 1 if self._received else attempt + 1
                    if self._backoff.gives_up(attempt):
                        raise
                    delay = self._backoff.delay(attempt)
                    log.info("feed %s: %s; retry %d in %.2fs", self._http.url(request.path), exc, attempt, delay)
                    self._status("disconnected", exc)
                    await runtime.sleep(delay)
                    self._status("reconnecting", exc)
        except Exception as exc:
            if runtime.is_cancellation(exc):
                raise
            error = exc
        finally:
            self._status("stopped", error)
            hand_off.end(error)

    def _query(self, **extra: Any) -> str:
        query = {**self._request.query, **extra}
        if self._read_seq is not None:
            query["since"] = self._read_seq
        return query_string(query)

    def _remaining(self) -> int | None:
        limit = self._request.limit
        return None if limit is None else limit - self._read

    async def _send(self, query: str, read_timeout: float | None) -> Any:
        request = self._request
        return await self._http.send(
            "POST" if request.body is not None else "GET",
            request.path,
            query,
            body=request.body,
            content_type=JSON_TYPE if request.body is not None else None,
            read_timeout=read_timeout,
        )

    async def _resolve_now(self) -> Any:
        response = await self._send(self._query(feed="normal"), self._http.timeouts.read)
        return loads(await response.read())["last_seq"]

    async def _deliver(self, hand_off: _HandOff, batch: list[dict[str, Any]]) -> bool:
        """Hand a batch over, repeats dropped; True when the feed is to end (the limit, or closed)."""
        seq = _last_seq(batch)
        fresh = self._repeats.fresh(batch)
        if len(fresh) < len(batch):
            url = self._http.url(self._request.path)
            log.info("feed %s: %d change(s) sent again, dropped", url, len(batch) - len(fresh))
        remaining = self._remaining()
        reached = remaining is not None and len(fresh) >= remaining
        if reached:
            fresh = fresh[:remaining]
            seq = _last_seq(fresh)
        if fresh:
            await hand_off.put(fresh)
            self._read += len(fresh)
        if seq is not None:
            self._read_seq = seq
        return reached or self._closed

    async def _continuous(self, hand_off: _HandOff) -> bool:
        heartbeat = self._request.heartbeat
        read_timeout = _silence_limit(heartbeat)
        query = self._query(feed="continuous", heartbeat=heartbeat)
        response = await self._send(query, read_timeout)
        self._status("connected")
        lines = LineSplitter()
        try:
            async for chunk in response.chunks():
                self._received = True
                batch: list[dict[str, Any]] = []
                for line in lines.feed(chunk):
                    row = _decode(line)
                    if "last_seq" in row:
                        if batch and await self._deliver(hand_off, batch):
                            return True
                        batch = []
                        self._read_seq = row["last_seq"]
                    elif "error" in row:
                        raise ResponseError(
                            row.get("reason") or "",
                            error=row["error"],
                            method="GET",
                            url=self._http.url(self._request.path),
                        )
                    else:
                        batch.append(row)
                if batch and await self._deliver(hand_off, batch):
                    return True
        finally:
            response.close()
        return False

    async def _page(self, hand_off: _HandOff) -> bool:
        request = self._request
        size = request.page_size
        remaining = self._remaining()
        if remaining is not None:
            size = min(size, remaining)
        extra: dict[str, Any] = {"feed": request.feed, "limit": size}
        read_timeout = self._http.timeouts.read
        if request.feed == "longpoll":
            extra["heartbeat"] = request.heartbeat
            read_timeout = _silence_limit(request.heartbeat)
        response = await self._send(self._query(**extra), read_timeout)
        self._status("connected")
        result = loads(await response.read())
        results = result.get("results") or []
        pending = result.get("pending")
        if isinstance(pending, int) and not isinstance(pending, bool):
            self.pending = pending
        if results and await self._deliver(hand_off, results):
            return True
        if result.get("last_seq") is not None:
            self._read_seq = result["last_seq"]
        return request.feed == "normal" and len(results) < size


def _retryable(error: NetworkError | ResponseError) -> bool:
    """No answer, a 5xx, or CouchDB's ``nodedown``: a later try may not meet it."""
    return isinstance(error, (NetworkError, ServerError)) or error.error == "nodedown"


def _last_seq(batch: list[dict[str, Any]]) -> Any:
    """The seq of the last change in ``batch`` that has one (CouchDB may leave it out: ``seq_interval``)."""
    return next((change["seq"] for change in reversed(batch) if change.get("seq") is not None), None)


def _silence_limit(heartbeat_ms: int) -> float:
    """Seconds without a byte after which a feed connection is taken for dead."""
    return 2 * heartbeat_ms / 1000 + 1.0


def _decode(line: bytes) -> dict[str, Any]:
    try:
        row = loads(line)
    except JSONDecodeError:
        raise ProtocolError(f"malformed feed line: {line[:200]!r}") from None
    if not isinstance(row, dict):
        raise ProtocolError(f"unexpected feed line: {line[:200]!r}")
    return row


class _Batches:
    __slots__ = ("_follower",)

    def __init__(self, follower: Follower) -> None:
        self._follower = follower

    def __aiter__(self) -> _Batches:
        return self

    def __anext__(self) -> Awaitable[list[dict[str, Any]]]:
        return self._follower._next_batch()
