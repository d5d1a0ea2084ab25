"""What the core needs from an event loop, and nothing more.

The core is plain ``async def`` code. Everything that touches a loop goes
through a Runtime: an HTTP request with a streamed body, a sleep, a task in
the background. Both flavours make requests through the core's own
connection pool (``pool.py``) on their framework's transport; an embedded
store may answer them itself. A Runtime translates its framework's failures
into NetworkError / Timeout, so the core never sees them.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar

__all__ = ["Runtime", "Response", "Task", "Tasks", "Timeouts", "Waiter"]

T = TypeVar("T")


class Timeouts:
    """Seconds to wait: for a connection, and for each read of an answer."""

    __slots__ = ("connect", "read")

    def __init__(self, connect: float | None = 10.0, read: float | None = 60.0) -> None:
        self.connect = connect
        self.read = read

    def __repr__(self) -> str:
        return f"Timeouts(connect={self.connect!r}, read={self.read!r})"


class Response(Protocol):
    """An answer whose headers have arrived; its body is read once, whole or in chunks."""

    status: int

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name."""

    def header_values(self, name: str) -> list[str]:
        """Every value of a header sent more than once (``Set-Cookie``), in order."""

    async def read(self) -> bytes:
        """The whole body; the connection goes back to the pool."""

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in bounded pieces; a cut raises NetworkError."""

    def close(self) -> None:
        """Drop the body unread, closing the connection if it was not finished."""


class Task(Protocol):
    """A coroutine running in the background."""

    def cancel(self) -> None:
        """Stop it: it sees its framework's cancellation at the point it waits."""

    def wait(self) -> Awaitable[None]:
        """Wait until it has ended (however it ended; nothing is raised)."""


class Waiter(Protocol):
    """A one-shot signal between two coroutines of one loop."""

    def fire(self) -> None:
        """Wake the coroutine waiting (now or later); a second fire does nothing."""

    def wait(self) -> Awaitable[None]:
        """Wait until fired."""

    def fire_threadsafe(self) -> None:
        """``fire()`` from any thread: the embedded store's writer threads wake its feeds so."""


class Runtime(Protocol):
    """The loop and the HTTP connection pool of one flavour, as the core uses them."""

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        read_timeout: float | None,
    ) -> Response:
        """Send a request; return once the status and headers are in.

        A body that is an async iterable is sent as it is produced, at the pace
        the connection takes it: with a ``Content-Length`` header when the
        caller gave one, chunked otherwise.
        """

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` run on a worker thread, so that blocking work never stalls the loop."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` without blocking the loop."""

    def spawn(self, coro: Coroutine[Any, Any, Any], on_end: Callable[[], None]) -> Task:
        """Run ``coro`` in the background; a failure is logged, never lost silently.

        ``on_end()`` is called once it has ended, however it ended.
        """

    def new_waiter(self) -> Waiter:
        """A Waiter of this loop."""

    def is_cancellation(self, exc: BaseException) -> bool:
        """Is ``exc`` this framework's way of cancelling a coroutine."""

    def is_awaitable(self, value: Any) -> bool:
        """Can a core coroutine ``await`` this under this runtime."""

    async def close(self) -> None:
        """Close the connection pool."""


class Tasks:
    """The background tasks of one owner: each is forgotten when it ends; ``cancel_all()`` stops the others."""

    __slots__ = ("_runtime", "_running")

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._running: set[Task] = set()

    def __len__(self) -> int:
        return len(self._running)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Task:
        """Run ``coro`` in the background until it ends or is cancelled."""
        running = self._running
        ended: list[bool] = []
        box: list[Task] = []

        def forget() -> None:
            ended.append(True)
            if box:
                running.discard(box[0])

        task = self._runtime.spawn(coro, forget)
        if not ended:  # under Twisted a coroutine may end before spawn returns
            box.append(task)
            running.add(task)
        return task

    async def cancel_all(self) -> None:
        """Cancel the tasks still running and wait until each has ended."""
        tasks = list(self._running)
        self._running.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            await task.wait()
