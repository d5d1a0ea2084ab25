"""The asyncio side of the connection pool: a ``Protocol`` per connection, and the loop's timers and waiters.

Rules kept here:

- A connection's bytes go straight to the pool's ``Channel``: the protocol's
  callbacks are the channel's own methods, with no call in between.
- ``https://`` connections use ``ssl``: the system's CAs and the host name
  checked by default, or the context that the Server's TLSConfig gives.
- Connections close when their loop stops: ``asyncio.run`` (or anyone who
  calls ``loop.shutdown_asyncgens()``) closes what a Server left open, so a
  program that never calls ``close()`` leaves nothing behind and prints
  nothing.
"""

from __future__ import annotations

import asyncio
import ssl
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any

from .._core.errors import NetworkError, Timeout
from .._core.tls import TLSConfig
from .._core.transport import Receiver, Transport, failure_error
from ._tls import ssl_context, tls_failure

__all__ = ["AioNetwork", "Waiter"]


class Waiter:
    """A one-shot signal on the running loop (``Runtime.new_waiter``).

    It holds a plain future: a task awaiting exactly ``asyncio.Future`` takes
    asyncio's fast path, which a subclass of it would not.
    """

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fire(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    def wait(self) -> asyncio.Future[None]:
        return self._future

    def fire_threadsafe(self) -> None:
        try:
            self._future.get_loop().call_soon_threadsafe(self.fire)
        except RuntimeError:  # the loop is closed: no one waits any more
            pass


class _Protocol(asyncio.Protocol):
    """One connection; its callbacks are the receiver's methods."""

    def __init__(self, receiver: Receiver) -> None:
        self.data_received = receiver.data_received  # type: ignore[method-assign]
        self.connection_lost = receiver.connection_lost  # type: ignore[method-assign]
        self.pause_writing = receiver.pause_writing  # type: ignore[method-assign]
        self.resume_writing = receiver.resume_writing  # type: ignore[method-assign]

    def eof_received(self) -> None:
        return None  # the transport closes, and connection_lost follows


# Per loop, the transports opened on it, closed when the loop shuts its async generators down.
_OPEN: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.WeakSet[Any]] = weakref.WeakKeyDictionary()
_KEEPERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = weakref.WeakKeyDictionary()


async def _close_at_shutdown(transports: weakref.WeakSet[Any]) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        for transport in list(transports):
            transport.abort()


def _track(loop: asyncio.AbstractEventLoop, transport: Any) -> None:
    transports = _OPEN.get(loop)
    if transports is None:
        transports = _OPEN[loop] = weakref.WeakSet()
        keeper = _KEEPERS[loop] = _close_at_shutdown(transports)
        try:  # started, so that the loop knows it and closes it at shutdown
            keeper.asend(None).send(None)
        except StopIteration:
            pass
    transports.add(transport)


class AioNetwork:
    """TCP and TLS connections, timers and waiters on the running asyncio loop."""

    def __init__(self, tls: TLSConfig | None) -> None:
        self._tls = tls
        self._context: ssl.SSLContext | None = ssl_context(tls) if tls is not None else None

    async def connect(
        self, host: str, port: int, tls: bool, receiver: Receiver, timeout: float | None, method: str, url: str
    ) -> Transport:
        loop = asyncio.get_running_loop()
        context = None
        if tls:
            context = self._context
            if context is None:
                context = self._context = ssl.create_default_context()
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Protocol(receiver), host, port, ssl=context, server_hostname=host if tls else None
                ),
                timeout,
            )
        except asyncio.TimeoutError:
            raise Timeout(f"no connection in {timeout:g} s", method=method, url=url) from None
        except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
            raise self.failure(exc, method, url) from None
        _track(loop, transport)
        return transport

    def failure(self, exc: BaseException, method: str, url: str) -> NetworkError:
        return failure_error(exc, tls_failure(exc), method, url)

    def call_later(self, seconds: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(seconds, fn)

    waiter = Waiter
