"""The Runtime for asyncio, on aiohttp."""

from __future__ import annotations

import asyncio
import inspect
import logging
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from .._core.errors import NetworkError, Timeout
from .._core.runtime import Timeouts
from .._core.tls import TLSConfig, tls_error
from ._tls import ssl_context, tls_failure

__all__ = ["AioRuntime"]

log = logging.getLogger("wallaby.backends.couchdb.asyncio")

T = TypeVar("T")

_CHUNK = 64 * 1024


def _network_error(exc: BaseException, method: str, url: str) -> NetworkError:
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return Timeout(f"no answer in time ({type(exc).__name__})", method=method, url=url)
    detail = tls_failure(exc)
    if detail is not None:
        return tls_error(detail, method, url)
    return NetworkError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, method=method, url=url)


_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class AioResponse:
    __slots__ = ("_response", "_method", "_url", "status")

    def __init__(self, response: aiohttp.ClientResponse, method: str, url: str) -> None:
        self._response = response
        self._method = method
        self._url = url
        self.status = response.status

    def header(self, name: str) -> str | None:
        return self._response.headers.get(name)

    def header_values(self, name: str) -> list[str]:
        return self._response.headers.getall(name, [])

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except _FAILURES as exc:
            self._response.close()
            raise _network_error(exc, self._method, self._url) from None

    async def chunks(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                data = await content.read(_CHUNK)  # readany() could hand over all it buffered
                if not data:
                    break
                yield data
        except _FAILURES as exc:
            self._response.close()
            raise _network_error(exc, self._method, self._url) from None
        finally:
            self._response.release()

    def close(self) -> None:
        self._response.close()


class _Task:
    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    def cancel(self) -> None:
        self._task.cancel()

    async def wait(self) -> None:
        await asyncio.wait([self._task])


class _Waiter:
    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fire(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    def wait(self) -> asyncio.Future[None]:
        return self._future

    def fire_threadsafe(self) -> None:
        loop = self._future.get_loop()
        if not loop.is_closed():
            loop.call_soon_threadsafe(self.fire)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())


class AioRuntime:
    """Requests through one aiohttp ClientSession, made on first use."""

    def __init__(self, timeouts: Timeouts, tls: TLSConfig | None = None) -> None:
        self._timeouts = timeouts
        self._ssl: ssl.SSLContext | bool = ssl_context(tls) if tls is not None else True
        self._session: aiohttp.ClientSession | None = None
        self._client_timeouts: dict[float | None, aiohttp.ClientTimeout] = {}

    def _client_timeout(self, read: float | None) -> aiohttp.ClientTimeout:
        timeout = self._client_timeouts.get(read)
        if timeout is None:
            timeout = self._client_timeouts[read] = aiohttp.ClientTimeout(
                total=None, sock_connect=self._timeouts.connect, sock_read=read
            )
        return timeout

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=100, limit_per_host=0, ttl_dns_cache=300, ssl=self._ssl)
        return aiohttp.ClientSession(
            connector=connector,
            timeout=self._client_timeout(self._timeouts.read),
            # no Accept-Encoding: a gzipped continuous feed arrives in bursts, not per change
            skip_auto_headers=("Accept-Encoding",),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        read_timeout: float | None,
    ) -> AioResponse:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._new_session()
        try:
            response = await session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body,
                timeout=self._client_timeout(read_timeout),
                allow_redirects=False,
            )
        except _FAILURES as exc:
            raise _network_error(exc, method, url) from None
        return AioResponse(response, method, url)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def spawn(self, coro: Coroutine[Any, Any, Any], on_end: Callable[[], None]) -> _Task:
        task = asyncio.get_running_loop().create_task(coro)
        task.add_done_callback(_log_failure)
        task.add_done_callback(lambda _: on_end())
        return _Task(task)

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def new_waiter(self) -> _Waiter:
        return _Waiter()

    def is_awaitable(self, value: Any) -> bool:
        return inspect.isawaitable(value)

    def is_cancellation(self, exc: BaseException) -> bool:
        return isinstance(exc, asyncio.CancelledError)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
