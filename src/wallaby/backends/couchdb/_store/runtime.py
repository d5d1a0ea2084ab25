"""StoreRuntime: the core's Runtime, answering requests from the embedded store instead of a socket.

``request()`` hands the request to the engine (``router.dispatch``) and wraps
its reply as a Response; everything that touches the loop (sleep, spawn,
waiters, worker threads) is the flavour's own runtime, which this one wraps.
So the Database, Follower, Stream and every ``_api`` module run unchanged.

Rules kept here:

- An error the engine raises before answering is its status and JSON, as a
  server sends it; anything else that escapes a handler (a bug, SQLite
  failing) is logged and answered ``500 unknown_error``, so the caller gets
  the library's typed ``ServerError``, never an engine's exception.
- A streamed answer that fails half-way (its database deleted under a feed)
  ends like a cut connection: ``NetworkError``, which a Follower retries.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from .._core.errors import NetworkError
from .._core.runtime import Runtime, Task, Waiter
from .errors import HttpError
from .requests import Reply, Request, error_reply
from .router import dispatch
from .store import Store, release_store

__all__ = ["StoreResponse", "StoreRuntime"]

log = logging.getLogger("wallaby.backends.couchdb.store")

T = TypeVar("T")


class StoreResponse:
    """The engine's reply as the core's Response."""

    __slots__ = ("status", "_headers", "_body", "_method", "_url")

    def __init__(self, reply: Reply, method: str, url: str) -> None:
        self.status = reply.status
        self._headers = reply.headers
        self._body = reply.body
        self._method = method
        self._url = url

    def header(self, name: str) -> str | None:
        value = self._headers.get(name)
        if value is None:
            lowered = name.lower()
            for key, found in self._headers.items():
                if key.lower() == lowered:
                    return found
        return value

    def header_values(self, name: str) -> list[str]:
        value = self.header(name)
        return [] if value is None else [value]

    async def read(self) -> bytes:
        body = self._body
        if isinstance(body, bytes):
            return body
        return b"".join([chunk async for chunk in self.chunks()])

    async def chunks(self) -> AsyncIterator[bytes]:
        body = self._body
        if isinstance(body, bytes):
            if body:
                yield body
            return
        self._body = b""
        try:
            async for chunk in body:
                yield chunk
        except HttpError as exc:
            raise NetworkError(
                f"the store ended the answer: {exc.error}: {exc.reason}", method=self._method, url=self._url
            ) from None
        finally:
            await _close(body)

    def close(self) -> None:
        # A body's generator holds nothing between chunks (each page is read whole on a worker
        # thread), so dropping it is enough; a feed waiting for changes ends when its task is cancelled.
        self._body = b""


async def _close(body: AsyncIterator[bytes]) -> None:
    aclose = getattr(body, "aclose", None)
    if aclose is not None:
        await aclose()


class StoreRuntime:
    """Requests answered by the store at ``base``; the loop is ``loop``'s (the flavour's runtime)."""

    in_process = True
    """JSON bodies come as ``JsonBody``: a handler may read the caller's value instead of decoding (``_bulk_docs``)."""

    def __init__(self, base: str, store: Store, loop: Runtime) -> None:
        self.base = base
        self.store = store
        self.loop = loop
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        read_timeout: float | None,
    ) -> StoreResponse:
        rest = url[len(self.base) :]
        path, _, query = rest.partition("?")
        request = Request(method, path, query, headers, body, self, url)
        try:
            reply = await dispatch(self.store, request)
        except HttpError as exc:
            reply = error_reply(exc)
        except Exception as exc:
            if self.loop.is_cancellation(exc):
                raise
            log.exception("the embedded store failed to answer %s %s", method, url)
            reply = error_reply(HttpError(f"{type(exc).__name__}: {exc}", status=500, error="unknown_error"))
        return StoreResponse(reply, method, url)

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.loop.to_thread(fn, *args)

    async def sleep(self, seconds: float) -> None:
        await self.loop.sleep(seconds)

    def spawn(self, coro: Coroutine[Any, Any, Any], on_end: Callable[[], None]) -> Task:
        return self.loop.spawn(coro, on_end)

    def new_waiter(self) -> Waiter:
        return self.loop.new_waiter()

    def is_cancellation(self, exc: BaseException) -> bool:
        return self.loop.is_cancellation(exc)

    def is_awaitable(self, value: Any) -> bool:
        return self.loop.is_awaitable(value)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_store(self.store)
        await self.loop.close()
