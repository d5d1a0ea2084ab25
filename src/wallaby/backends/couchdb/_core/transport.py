"""What a flavour gives the connection pool: TCP and TLS connections, timers, waiters.

The pool (``pool.py``) and the HTTP/1.1 connection (``http1.py``) are written
once, here in the core; a flavour's ``Network`` is the thin part written once
per framework: it opens a connection and moves bytes between the socket and a
``Receiver``, and it knows its framework's failures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .errors import NetworkError
from .runtime import Waiter
from .tls import tls_error

__all__ = ["Network", "Receiver", "Timer", "Transport", "failure_error"]


def failure_error(exc: BaseException, tls_detail: str | None, method: str, url: str) -> NetworkError:
    """The typed error for a framework's failure: a TLSError when it was the handshake (``tls_detail``)."""
    if tls_detail is not None:
        return tls_error(tls_detail, method, url)
    text = str(exc)
    return NetworkError(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, method=method, url=url)


class Receiver(Protocol):
    """The pool's end of one connection: what the framework's protocol calls."""

    def data_received(self, data: bytes) -> None:
        """Bytes from the server."""

    def connection_lost(self, exc: BaseException | None) -> None:
        """The connection is closed: by the server or us (``None``), or by a failure."""

    def pause_writing(self) -> None:
        """The framework's send buffer is full: stop writing until ``resume_writing``."""

    def resume_writing(self) -> None:
        """The send buffer has drained."""


class Transport(Protocol):
    """The framework's end of one connection: what the pool calls."""

    def write(self, data: bytes) -> None:
        """Send ``data`` (buffered by the framework; ``pause_writing`` says when to wait)."""

    def pause_reading(self) -> None:
        """Stop reading from the socket (the consumer is slow)."""

    def resume_reading(self) -> None:
        """Read again."""

    def close(self) -> None:
        """Close once what was written is sent."""

    def abort(self) -> None:
        """Close now, dropping what was not sent."""


class Timer(Protocol):
    def cancel(self) -> None:
        """Stop the timer before it fires."""


class Network(Protocol):
    """Connections, timers and waiters of one framework."""

    async def connect(
        self, host: str, port: int, tls: bool, receiver: Receiver, timeout: float | None, method: str, url: str
    ) -> Transport:
        """A TCP connection (TLS when ``tls``, checked as the Server's TLSConfig says).

        Failures are NetworkError (Timeout, TLSError) naming ``method`` and ``url``.
        """

    def failure(self, exc: BaseException, method: str, url: str) -> NetworkError:
        """The typed error for a framework's failure on an open connection (TLSError for a TLS one)."""

    def call_later(self, seconds: float, fn: Callable[[], None]) -> Timer:
        """Call ``fn()`` in ``seconds``."""

    @property
    def waiter(self) -> Callable[[], Waiter]:
        """Makes a one-shot signal of this loop (the flavour's Waiter class)."""
