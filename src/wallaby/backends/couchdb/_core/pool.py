"""Keep-alive HTTP/1.1 connections to a server, and the answers they carry: the Runtime's request.

Written once for both flavours: the bytes go through a flavour's ``Network``
(``transport.py``), the HTTP through ``http1.Connection``.

Rules kept here:

- Per origin (scheme, host, port) at most ``limit`` connections are open or
  opening; a request beyond that waits for one, first come first served.
- A connection goes back to the pool the moment its answer has ended (the
  answer holds its body), so the next request can use it at once.
- A request sent on a connection that had already carried an answer, which
  the server then closes without answering (it closed an idle keep-alive
  connection as the request went out), is sent once more on a new
  connection when that is safe: an idempotent method (GET, HEAD, PUT,
  DELETE, OPTIONS) and a body in memory. Anything else raises NetworkError.
- The read timeout is the longest silence allowed while an answer is
  awaited or read, or while a request body waits for the socket; time the
  socket is paused for a slow consumer does not count. Each connection has
  one timer, moved only when it fires (no timer work per byte).
- A streamed answer holds at most about ``HIGH_WATER`` bytes: past that the
  socket is paused until the consumer has taken them. ``read()`` takes the
  whole body and never pauses.
- A streamed request body is written at the pace the socket takes it.
- Whatever ends a connection in the middle of an answer (the server, a
  failure, a timeout, ``close()``) ends that answer with a NetworkError
  naming the URL; an answer closed unread closes its connection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from time import monotonic

from .errors import InvalidArgument, InvalidType, NetworkError, Timeout
from .http1 import END, IDLE, Connection, Head, NoAnswer, WireError
from .runtime import Waiter
from .transport import Network, Timer, Transport

__all__ = ["Answer", "Pool"]

LIMIT = 100
"""Connections per origin, open or opening."""
HIGH_WATER = 256 * 1024
"""Bytes a streamed answer buffers before its socket is paused."""

_IDEMPOTENT = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))


class _Origin:
    """The connections to one scheme://host:port."""

    __slots__ = ("host", "port", "tls", "authority", "idle", "count", "queue")

    def __init__(self, prefix: str) -> None:
        scheme, _, authority = prefix.partition("://")
        if scheme not in ("http", "https") or not authority or "@" in authority or not authority.isprintable():
            raise InvalidArgument(f"not an http:// or https:// URL without credentials: {prefix!r}")
        self.tls = scheme == "https"
        if authority.startswith("["):  # an IPv6 address
            end = authority.find("]")
            host, port = authority[1:end], authority[end + 2 :]
        else:
            host, _, port = authority.partition(":")
        if port and not port.isdigit():
            raise InvalidArgument(f"not a port number in {prefix!r}")
        self.host = host
        self.port = int(port) if port else 443 if self.tls else 80
        self.authority = authority
        self.idle: list[Channel] = []
        self.count = 0
        self.queue: deque[Waiter] = deque()


class Pool:
    """Connections per origin, for a Runtime: ``request()`` is the Runtime's."""

    def __init__(self, network: Network, connect_timeout: float | None, limit: int = LIMIT) -> None:
        self.network = network
        self.connect_timeout = connect_timeout
        self.limit = limit
        self._origins: dict[str, _Origin] = {}
        self._channels: set[Channel] = set()

    def __repr__(self) -> str:
        return f"<Pool {len(self._channels)} connections>"

    @property
    def open_connections(self) -> int:
        """Connections open now, busy or idle."""
        return len(self._channels)

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        read_timeout: float | None,
    ) -> Answer:
        """Send a request; return once the status and headers are in (``Runtime.request``)."""
        slash = url.find("/", 8)  # past "https://"
        prefix, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        origin = self._origins.get(prefix)
        if origin is None:
            origin = self._origins[prefix] = _Origin(prefix)
        if origin.idle and not origin.queue:
            channel = origin.idle.pop()
        else:
            channel = await self._acquire(origin, method, url)
        reused = channel.conn.served > 0
        answer = await channel.exchange(method, target, headers, body, read_timeout, url)
        if answer.head is not None:
            return answer
        if answer.unanswered and reused and method in _IDEMPOTENT and (body is None or type(body) is bytes):
            channel = await self._acquire(origin, method, url, fresh=True)
            answer = await channel.exchange(method, target, headers, body, read_timeout, url)
            if answer.head is not None:
                return answer
        assert answer.error is not None
        raise answer.error

    async def _acquire(self, origin: _Origin, method: str, url: str, fresh: bool = False) -> Channel:
        """An idle connection (unless ``fresh``), a new one within the limit, or the next one free."""
        while True:
            if origin.idle and not fresh:
                return origin.idle.pop()
            if origin.count < self.limit:
                return await self._open(origin, method, url)
            if fresh and origin.idle:
                origin.idle[0].close()  # the oldest idle one makes room for a new one
                continue
            waiter = self.network.waiter()
            origin.queue.append(waiter)
            try:
                await waiter.wait()
            except BaseException:
                try:
                    origin.queue.remove(waiter)
                except ValueError:  # it had been woken: pass the turn on
                    self._wake(origin)
                raise

    async def _open(self, origin: _Origin, method: str, url: str) -> Channel:
        channel = Channel(self, origin)
        origin.count += 1
        try:
            channel.transport = await self.network.connect(
                origin.host, origin.port, origin.tls, channel, self.connect_timeout, method, url
            )
        except BaseException:
            self._forget(channel)
            raise
        if not channel.alive:
            raise NetworkError("the server closed the connection as it opened", method=method, url=url)
        self._channels.add(channel)
        return channel

    def _release(self, channel: Channel) -> None:
        """``channel`` has ended an answer and can carry another request."""
        origin = channel.origin
        origin.idle.append(channel)
        if origin.queue:
            self._wake(origin)

    def _forget(self, channel: Channel) -> None:
        """``channel`` is closed (or never opened): it no longer counts."""
        if not channel.alive:
            return
        channel.alive = False
        origin = channel.origin
        origin.count -= 1
        if channel in origin.idle:
            origin.idle.remove(channel)
        self._channels.discard(channel)
        if origin.queue:
            self._wake(origin)

    @staticmethod
    def _wake(origin: _Origin) -> None:
        if origin.queue:
            origin.queue.popleft().fire()

    def close(self) -> None:
        """Close every connection; answers still being read end with a NetworkError."""
        for channel in list(self._channels):
            answer = channel.answer
            if answer is not None:
                channel.answer = None
                answer.fail(NetworkError("the connection pool was closed", method=answer.method, url=answer.url))
                channel.abort()
            else:
                channel.close()


class Channel:
    """One connection: the framework's transport on one side, an ``http1.Connection`` on the other."""

    __slots__ = (
        "pool",
        "origin",
        "network",
        "conn",
        "transport",
        "answer",
        "alive",
        "reading_paused",
        "writing_paused",
        "_drained",
        "_timer",
        "_timer_due",
        "_timeout",
        "_last",
    )

    def __init__(self, pool: Pool, origin: _Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.network = pool.network
        self.conn = Connection(origin.authority)
        self.transport: Transport = _NOT_CONNECTED
        self.answer: Answer | None = None
        self.alive = True
        self.reading_paused = False
        self.writing_paused = False
        self._drained: Waiter | None = None
        self._timer: Timer | None = None
        self._timer_due = 0.0
        self._timeout: float | None = None
        self._last = 0.0

    def __repr__(self) -> str:
        return f"<Channel {self.conn!r}>"

    # --- a request and its answer ----------------------------------------------------

    async def exchange(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        read_timeout: float | None,
        url: str,
    ) -> Answer:
        """Send one request; return its answer once the head is in, or with ``error`` set."""
        answer = self.answer = Answer(self, method, url)
        if read_timeout is not None:
            self._watch(read_timeout)
        else:
            self._timeout = None
        try:
            if body is None or isinstance(body, bytes):
                self.transport.write(self.conn.request(method, target, headers, body))
            else:
                await self._upload(answer, method, target, headers, body)
        except ValueError as exc:  # a header with a line break, a body not as long as it said
            if self.conn.state is IDLE:  # nothing was sent
                self.answer = None
                self.pool._release(self)
            else:
                self.abort()
            raise InvalidArgument(str(exc), method=method, url=url) from None
        except BaseException:
            self.abort()
            raise
        while answer.head is None and not answer.done:  # answer.wait(), without a coroutine of its own
            waiter = answer.waiter = self.network.waiter()
            try:
                await waiter.wait()
            except BaseException:
                answer.close()
                raise
        return answer

    async def _upload(
        self, answer: Answer, method: str, target: str, headers: Mapping[str, str], body: AsyncIterable[bytes]
    ) -> None:
        conn = self.conn
        transport = self.transport
        transport.write(conn.request_head(method, target, headers))
        pieces = aiter(body)
        try:
            async for piece in pieces:
                if answer.done or answer.head is not None:  # the server answered (or failed) early
                    return
                if not isinstance(piece, (bytes, bytearray, memoryview)):
                    raise InvalidType(f"a request body yields bytes, not {type(piece).__name__}")
                transport.write(conn.body_piece(bytes(piece)))
                while self.writing_paused and self.alive and not answer.done:
                    waiter = self._drained = self.network.waiter()
                    await waiter.wait()
                    self._last = monotonic()
            if not answer.done and answer.head is None:
                transport.write(conn.end_of_body())
        finally:
            aclose = getattr(pieces, "aclose", None)
            if aclose is not None:
                await aclose()

    # --- the read timeout --------------------------------------------------------------

    def _watch(self, timeout: float) -> None:
        self._timeout = timeout
        now = self._last = monotonic()
        due = now + timeout
        timer = self._timer
        if timer is not None:
            if self._timer_due <= due:
                return  # it fires first and moves itself on
            timer.cancel()
        self._timer = self.network.call_later(timeout, self._check)
        self._timer_due = due

    def _check(self) -> None:
        self._timer = None
        answer, timeout = self.answer, self._timeout
        if answer is None or timeout is None or answer.done:
            return
        now = monotonic()
        if self.reading_paused:  # the consumer is slow, not the server
            self._last = now
        silent = now - self._last
        if silent < timeout:
            self._timer = self.network.call_later(timeout - silent, self._check)
            self._timer_due = now + timeout - silent
            return
        self.answer = None
        answer.fail(Timeout(f"no answer in {timeout:g} s", method=answer.method, url=answer.url))
        self.abort()

    # --- what the transport calls (Receiver) ------------------------------------------------

    def data_received(self, data: bytes) -> None:
        answer = self.answer
        if answer is None:  # bytes while idle: the server broke the protocol; drop the connection
            self.close()
            return
        self._last = monotonic()
        try:
            events = self.conn.receive(data)
        except WireError as exc:
            self.answer = None
            answer.fail(NetworkError(str(exc), method=answer.method, url=answer.url))
            self.abort()
            return
        for event in events:
            if event.__class__ is bytes:
                answer.feed(event)
            elif event is END:
                self._ended(answer)
            else:
                answer.head = event
                answer.status = event.status
        waiter = answer.waiter
        if waiter is not None:
            answer.waiter = None
            waiter.fire()

    def _ended(self, answer: Answer) -> None:
        answer.done = True
        self.answer = None
        if self.reading_paused:
            self.resume_reading()
        if self.conn.recycle():
            self.pool._release(self)
        else:
            self.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.pool._forget(self)
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        answer, self.answer = self.answer, None
        if answer is not None:
            self._lost(answer, exc)
        self.writing_paused = False
        drained, self._drained = self._drained, None
        if drained is not None:  # after the answer has its end: an upload waiting here sees it
            drained.fire()

    def _lost(self, answer: Answer, exc: BaseException | None) -> None:
        try:
            events = self.conn.receive_eof()
        except WireError as cut:
            answer.unanswered = isinstance(cut, NoAnswer)
            if exc is None:
                answer.fail(NetworkError(str(cut), method=answer.method, url=answer.url))
            else:
                answer.fail(self.network.failure(exc, answer.method, answer.url))
            return
        if exc is not None:
            answer.fail(self.network.failure(exc, answer.method, answer.url))
            return
        for event in events:  # the end of a body that ends where the connection does
            if event.__class__ is bytes:
                answer.feed(event)
            elif event is END:
                answer.done = True
        answer.wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        drained, self._drained = self._drained, None
        if drained is not None:
            drained.fire()

    # --- back-pressure and closing ---------------------------------------------------------

    def pause_reading(self) -> None:
        if not self.reading_paused and self.alive:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused:
            self.reading_paused = False
            self._last = monotonic()
            if self.alive:
                self.transport.resume_reading()

    def close(self) -> None:
        """Close once what was written is sent; the connection is not used again."""
        self.conn.close()
        self.pool._forget(self)
        if self.transport is not _NOT_CONNECTED:
            self.transport.close()

    def abort(self) -> None:
        """Close now."""
        self.conn.close()
        self.pool._forget(self)
        if self.transport is not _NOT_CONNECTED:
            self.transport.abort()


class Answer:
    """An answer whose head has arrived (``Runtime``'s Response); the body is read once."""

    __slots__ = (
        "status",
        "head",
        "method",
        "url",
        "done",
        "error",
        "unanswered",
        "waiter",
        "_channel",
        "_parts",
        "_buffered",
        "_whole",
    )

    def __init__(self, channel: Channel, method: str, url: str) -> None:
        self._channel = channel
        self.method = method
        self.url = url
        self.status = 0
        self.head: Head | None = None
        self.done = False
        """The body has ended, or the answer failed (``error``)."""
        self.error: NetworkError | None = None
        self.unanswered = False
        """The server closed the connection before a byte of this answer."""
        self.waiter: Waiter | None = None
        self._parts: list[bytes] = []
        self._buffered = 0
        self._whole = False

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.method} {self.url}>"

    def header(self, name: str) -> str | None:
        return self.head.header(name) if self.head is not None else None

    def header_values(self, name: str) -> list[str]:
        return self.head.header_values(name) if self.head is not None else []

    async def read(self) -> bytes:
        if not self.done:
            self._whole = True
            self._channel.resume_reading()
            while not self.done:
                await self.wait()
        if self.error is not None:
            raise self.error
        parts, self._parts = self._parts, []
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            parts = self._parts
            if parts:
                self._parts = []
                self._buffered = 0
                self._channel.resume_reading()
                for part in parts:
                    yield part
            elif not self.done:
                await self.wait()
            elif self.error is not None:
                raise self.error
            else:
                return

    def close(self) -> None:
        self._parts = []
        if not self.done:
            self.done = True
            channel = self._channel
            if channel.answer is self:
                channel.answer = None
                channel.abort()

    # --- what the channel does -------------------------------------------------------------

    async def wait(self) -> None:
        """Wait for the channel's next news; a cancellation closes the connection."""
        waiter = self.waiter = self._channel.network.waiter()
        try:
            await waiter.wait()
        except BaseException:
            self.close()
            raise

    def feed(self, data: bytes) -> None:
        self._parts.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._whole:
            self._channel.pause_reading()

    def fail(self, error: NetworkError) -> None:
        if not self.done:
            self.done = True
            self.error = error
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.fire()


class _NotConnected:
    """The transport of a channel whose connection is still being opened."""

    def write(self, data: bytes) -> None:
        raise RuntimeError("not connected")

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


_NOT_CONNECTED: Transport = _NotConnected()
