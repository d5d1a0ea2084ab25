"""The Runtime for Twisted, on Twisted's HTTP Agent.

Works on any reactor: the reactor is looked up when the first request is
made, so a program can install the reactor it wants before that.
"""

from __future__ import annotations

import inspect
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar

from twisted.internet import defer, error, protocol
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.python.failure import Failure
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool, ResponseDone
from twisted.web.error import SchemeNotSupported
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH, IAgentEndpointFactory, IBodyProducer
from zope.interface import implementer

from .._core.errors import NetworkError, Timeout
from .._core.runtime import Timeouts
from .._core.tls import TLSConfig, tls_error
from ._tls import TLSPolicy, tls_failure

__all__ = ["TwistedRuntime"]

log = logging.getLogger("wallaby.backends.couchdb.twisted")

T = TypeVar("T")

_BODY_DONE = (ResponseDone, PotentialDataLoss)  # how a body that arrived whole ends

# Buffered bytes past which the socket is paused until the consumer catches up.
_HIGH_WATER = 256 * 1024


def _network_error(failure: BaseException, method: str, url: str) -> NetworkError:
    if isinstance(failure, (defer.TimeoutError, error.TimeoutError)):
        return Timeout("no answer in time", method=method, url=url)
    reasons = getattr(failure, "reasons", None)  # ResponseFailed and friends wrap Failures
    if reasons:
        failure = reasons[0].value
    detail = tls_failure(failure)
    if detail is not None:
        return tls_error(detail, method, url)
    text = str(failure)
    return NetworkError(f"{type(failure).__name__}: {text}" if text else type(failure).__name__, method=method, url=url)


def _cancelled(exc: BaseException) -> bool:
    """Did the Agent fail because its Deferred was cancelled (it wraps the CancelledError)."""
    if isinstance(exc, defer.CancelledError):
        return True
    return any(reason.check(defer.CancelledError) for reason in getattr(exc, "reasons", None) or ())


@implementer(IBodyProducer)
class _BytesProducer:
    """A request body already in memory, written in one go."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> defer.Deferred[None]:
        consumer.write(self._body)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


@implementer(IBodyProducer)
class _StreamProducer:
    """A request body from an async iterable, written as the transport takes it."""

    def __init__(self, chunks: AsyncIterable[bytes], length: int | None) -> None:
        self._chunks = chunks
        self.length = UNKNOWN_LENGTH if length is None else length
        self._resumed: defer.Deferred[None] | None = None
        self._paused = False
        self._pump: defer.Deferred[None] | None = None

    def startProducing(self, consumer: Any) -> defer.Deferred[None]:
        self._pump = defer.Deferred.fromCoroutine(self._write(consumer))
        return self._pump

    async def _write(self, consumer: Any) -> None:
        async for chunk in self._chunks:
            while self._paused:
                self._resumed = defer.Deferred()
                await self._resumed
            consumer.write(chunk)

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        resumed, self._resumed = self._resumed, None
        if resumed is not None:
            resumed.callback(None)

    def stopProducing(self) -> None:
        if self._pump is not None:
            self._pump.cancel()


class _BodyProtocol(protocol.Protocol):
    """A protocol that receives a response body from the Agent (which connects it first)."""

    def _transport(self) -> Any:
        return self.transport


class _BodyReader(_BodyProtocol):
    """Receives a response body; pauses the socket when too much is buffered."""

    def __init__(self, reactor: Any, read_timeout: float | None) -> None:
        self.reactor = reactor
        self.read_timeout = read_timeout
        self.buffer: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self.finished: Failure | None = None
        self.done = False
        self.waiter: defer.Deferred[None] | None = None
        self.timer: Any = None

    def connectionMade(self) -> None:
        self._arm()

    def _arm(self) -> None:
        if self.read_timeout is None or self.done:
            return
        if self.timer is not None and self.timer.active():
            self.timer.reset(self.read_timeout)
        else:
            self.timer = self.reactor.callLater(self.read_timeout, self._timed_out)

    def _timed_out(self) -> None:
        self.timer = None
        if self.paused:  # the consumer is slow, not the server
            self._arm()
            return
        self.finished = Failure(defer.TimeoutError())
        self._transport().stopProducing()
        self._wake()

    def dataReceived(self, data: bytes) -> None:
        self.buffer.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.paused:
            self.paused = True
            self._transport().pauseProducing()
        self._arm()
        self._wake()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.done = True
        if self.finished is None and not isinstance(reason.value, _BODY_DONE):
            self.finished = reason
        self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            waiter.callback(None)

    def take(self) -> bytes | None:
        """The next buffered piece, resuming the socket when the buffer drains."""
        if not self.buffer:
            return None
        data = self.buffer.popleft()
        self.buffered -= len(data)
        if self.paused and self.buffered <= _HIGH_WATER // 4:
            self.paused = False
            self._transport().resumeProducing()
            self._arm()
        return data

    def wait(self) -> defer.Deferred[None]:
        def cancel(waiter: defer.Deferred[None]) -> None:
            # let Deferred.cancel fail the waiter: aborting must not fire it with a result
            if self.waiter is waiter:
                self.waiter = None
            self.abort()

        self.waiter = defer.Deferred(cancel)
        return self.waiter

    def abort(self) -> None:
        if not self.done:
            self.done = True
            if self.timer is not None and self.timer.active():
                self.timer.cancel()
            self._transport().stopProducing()


class TwistedResponse:
    __slots__ = ("_response", "_reactor", "_read_timeout", "_method", "_url", "_reader", "status")

    def __init__(self, response: Any, reactor: Any, read_timeout: float | None, method: str, url: str) -> None:
        self._response = response
        self._reactor = reactor
        self._read_timeout = read_timeout
        self._method = method
        self._url = url
        self._reader: _BodyReader | None = None
        self.status = response.code

    def header(self, name: str) -> str | None:
        values = self._response.headers.getRawHeaders(name)
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return self._response.headers.getRawHeaders(name) or []

    def _start(self) -> _BodyReader:
        reader = self._reader = _BodyReader(self._reactor, self._read_timeout)
        self._response.deliverBody(reader)
        return reader

    async def chunks(self) -> AsyncIterator[bytes]:
        reader = self._start()
        try:
            while True:
                data = reader.take()
                if data is not None:
                    yield data
                elif reader.finished is not None:
                    raise _network_error(reader.finished.value or Exception(), self._method, self._url)
                elif reader.done:
                    return
                else:
                    await reader.wait()
        finally:
            reader.abort()

    async def read(self) -> bytes:
        """The whole body, gathered by one protocol and one Deferred (the hot path)."""
        collector = _Collector(self._reactor, self._read_timeout)
        self._reader = collector  # type: ignore[assignment]
        self._response.deliverBody(collector)
        try:
            return await collector.done
        except defer.CancelledError:
            raise
        except Exception as exc:
            if collector.timed_out:
                raise Timeout("no answer in time", method=self._method, url=self._url) from None
            raise _network_error(exc, self._method, self._url) from None

    def close(self) -> None:
        if self._reader is None:
            if self._response.length is UNKNOWN_LENGTH or self._response.length:
                self._start().abort()
        else:
            self._reader.abort()


class _Collector(_BodyProtocol):
    """Gathers a whole body into one bytes; the read timeout restarts with each piece."""

    def __init__(self, reactor: Any, read_timeout: float | None) -> None:
        self.parts: list[bytes] = []
        self.read_timeout = read_timeout
        self.timed_out = False
        self.done: defer.Deferred[bytes] = defer.Deferred(lambda _: self.abort())
        self.timer = reactor.callLater(read_timeout, self._timed_out) if read_timeout is not None else None

    def dataReceived(self, data: bytes) -> None:
        self.parts.append(data)
        if self.timer is not None:
            self.timer.reset(self.read_timeout)

    def _timed_out(self) -> None:
        self.timer = None
        self.timed_out = True
        self._transport().stopProducing()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.done.called:  # cancelled
            return
        if isinstance(reason.value, _BODY_DONE):
            self.done.callback(b"".join(self.parts))
        else:
            self.done.errback(reason)

    def abort(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.transport is not None:
            self._transport().stopProducing()


class _Task:
    __slots__ = ("_deferred", "_ended")

    def __init__(self, deferred: defer.Deferred[Any]) -> None:
        self._deferred = deferred
        self._ended: defer.Deferred[None] = defer.Deferred()

    def cancel(self) -> None:
        self._deferred.cancel()

    def ended(self, _: object = None) -> None:
        if not self._ended.called:
            self._ended.callback(None)

    def wait(self) -> defer.Deferred[None]:
        waiter: defer.Deferred[None] = defer.Deferred()
        self._ended.addCallback(lambda _: waiter.callback(None))
        return waiter


class _Waiter:
    __slots__ = ("_deferred",)

    def __init__(self) -> None:
        self._deferred: defer.Deferred[None] = defer.Deferred()

    def fire(self) -> None:
        if not self._deferred.called:
            self._deferred.callback(None)

    def wait(self) -> defer.Deferred[None]:
        return self._deferred

    def fire_threadsafe(self) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.fire)


def _log_failure(failure: Failure) -> None:
    if not failure.check(defer.CancelledError):
        log.error("background task failed", exc_info=failure.value)


@implementer(IAgentEndpointFactory)
class _Endpoints:
    """One endpoint per (scheme, host, port), made once.

    Agent's own factory builds a new endpoint, IDNA-encoding the host again,
    for every request: about a tenth of the Twisted flavour's CPU per request.
    """

    def __init__(self, reactor: Any, policy: Any, connect_timeout: float | None) -> None:
        self._reactor = reactor
        self._policy = policy
        self._timeout: dict[str, Any] = {"timeout": connect_timeout} if connect_timeout is not None else {}
        self._cache: dict[tuple[bytes, bytes, int], Any] = {}

    def endpointForURI(self, uri: Any) -> Any:
        key = (uri.scheme, uri.host, uri.port)
        endpoint: Any = self._cache.get(key)
        if endpoint is None:
            endpoint = HostnameEndpoint(self._reactor, uri.host.decode("ascii"), uri.port, **self._timeout)
            if uri.scheme == b"https":
                endpoint = wrapClientTLS(self._policy.creatorForNetloc(uri.host, uri.port), endpoint)
            elif uri.scheme != b"http":
                raise SchemeNotSupported(f"unsupported scheme: {uri.scheme!r}")
            self._cache[key] = endpoint
        return endpoint


class TwistedRuntime:
    """Requests through one Agent and one persistent connection pool."""

    pool_size = 32

    def __init__(self, timeouts: Timeouts, tls: TLSConfig | None = None) -> None:
        self._timeouts = timeouts
        self._tls_policy = TLSPolicy(tls) if tls is not None else None
        self._agent: Agent | None = None
        self._pool: HTTPConnectionPool | None = None
        self._reactor: Any = None

    def _setup(self) -> Agent:
        from twisted.internet import reactor

        self._reactor = reactor
        self._pool = HTTPConnectionPool(reactor, persistent=True)
        self._pool.maxPersistentPerHost = self.pool_size
        policy = self._tls_policy if self._tls_policy is not None else BrowserLikePolicyForHTTPS()
        endpoints = _Endpoints(reactor, policy, self._timeouts.connect)
        self._agent = Agent.usingEndpointFactory(reactor, endpoints, pool=self._pool)
        return self._agent

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | AsyncIterable[bytes] | None,
        read_timeout: float | None,
    ) -> TwistedResponse:
        agent = self._agent or self._setup()
        raw_headers = Headers({name: [value] for name, value in headers.items()})
        producer: Any
        if body is None:
            producer = None
        elif isinstance(body, bytes):
            producer = _BytesProducer(body)
        else:  # the Agent writes Content-Length from the producer's length (chunked without one)
            length = headers.get("Content-Length")
            producer = _StreamProducer(body, int(length) if length else None)
            raw_headers.removeHeader("Content-Length")
        deferred = agent.request(method.encode("ascii"), url.encode("ascii"), raw_headers, producer)
        timer = None
        if read_timeout is not None:
            timer = self._reactor.callLater(read_timeout, deferred.cancel)
        try:
            response = await deferred
        except Exception as exc:
            if timer is not None and not timer.active():
                raise Timeout("no answer in time", method=method, url=url) from None
            if _cancelled(exc):
                raise defer.CancelledError() from None
            raise _network_error(exc, method, url) from None
        finally:
            if timer is not None and timer.active():
                timer.cancel()
        return TwistedResponse(response, self._reactor, read_timeout, method, url)

    async def sleep(self, seconds: float) -> None:
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        await deferLater(reactor, seconds)

    def spawn(self, coro: Coroutine[Any, Any, Any], on_end: Callable[[], None]) -> _Task:
        deferred = defer.Deferred.fromCoroutine(coro)
        task = _Task(deferred)
        deferred.addErrback(_log_failure)
        deferred.addBoth(lambda _: on_end())
        deferred.addBoth(task.ended)
        return task

    async def to_thread(self, fn: Callable[..., T], *args: Any) -> T:
        from twisted.internet import reactor, threads

        return await threads.deferToThreadPool(reactor, reactor.getThreadPool(), fn, *args)

    def new_waiter(self) -> _Waiter:
        return _Waiter()

    def is_awaitable(self, value: Any) -> bool:
        return isinstance(value, defer.Deferred) or inspect.isawaitable(value)

    def is_cancellation(self, exc: BaseException) -> bool:
        return isinstance(exc, defer.CancelledError)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool, self._agent = self._pool, None, None
            await pool.closeCachedConnections()
