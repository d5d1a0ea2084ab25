"""StoreRuntime: the core's Runtime, answering requests from the embedded store instead of a socket.

``request()`` hands the request to the engine (``router.dispatch``) and wraps
its reply as a Response; everything that touches the loop (sleep, spawn,
waiters, worker threads) is the flavour's own runtime, which this one wraps.
So the Database, Follower, Stream and every ``_api`` module run unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar

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

    __slots__ = ("status", "_headers", "_body")

    def __init__(self, reply: Reply) -> None:
        self.status = reply.status
        self._headers = reply.headers
        self._body = reply.body

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
        self._body = b""
        parts = []
        try:
            async for chunk in body:
                parts.append(chunk)
        finally:
            await _close(body)
        return b"".join(parts)

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
        return StoreResponse(reply)

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
