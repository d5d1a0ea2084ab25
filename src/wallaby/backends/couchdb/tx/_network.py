"""The Twisted side of the connection pool: a ``Protocol`` per connection, the reactor's timers, Deferred waiters.

Rules kept here:

- Any reactor: it is looked up at the first connection, so a program can
  install the one it wants (the asyncio reactor, say) before that.
- A connection's bytes go straight to the pool's ``Channel``: the protocol's
  ``dataReceived`` is the channel's own method.
- A write on a plain TCP transport goes to the socket at once when nothing
  is queued before it and it is no longer than one send (``_sender``):
  Twisted's own ``write()`` queues every write until the reactor's next
  turn, which costs each request a poll and two ``epoll_ctl`` calls (a
  quarter of the CPU of a small request). What the socket does not take, a
  bigger write (kept whole, not copied) and any write on a TLS or other
  transport go through ``write()``, so the order of the bytes and the
  producer's pause stay Twisted's.
- The protocol is also a push producer on its own transport, so that the
  pool hears when the send buffer is full (``pause_writing``) and a streamed
  request body is written at the socket's pace.
- ``https://`` connections use ``optionsForClientTLS``: the platform's CAs
  and the host name checked by default, or the policy that the Server's
  TLSConfig gives (``_tls.py``).
- Connections close when the reactor stops (a "before shutdown" trigger), so
  a program that never calls ``close()`` leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from twisted.internet import defer, error, protocol, tcp
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.interfaces import IPushProducer
from twisted.python.failure import Failure
from zope.interface import implementer

from .._core.errors import NetworkError, Timeout
from .._core.tls import TLSConfig
from .._core.transport import Receiver, Transport, failure_error
from ._tls import TLSPolicy, tls_failure

__all__ = ["TwistedNetwork", "Waiter"]


class Waiter(defer.Deferred[None]):
    """A one-shot signal (``Runtime.new_waiter``): a Deferred that fires with None.

    The first of the flavour's own coroutine drivers (``_coroutines.py``) to
    await it does not add a callback: it leaves ``wake``, which ``fire()``
    calls directly (a Deferred's callback chain costs more than the rest of
    a request's bookkeeping). Anyone else awaiting it sees a plain Deferred.
    """

    fired = False
    wake: Callable[[], None] | None = None
    others = False  # someone added a callback: it fires as a Deferred too

    def fire(self) -> None:
        if self.fired:
            return
        self.fired = True
        wake = self.wake
        if wake is not None:
            self.wake = None
            wake()
        if (wake is None or self.others) and not self.called:
            self.callback(None)

    def wait(self) -> Waiter:
        return self

    def fire_threadsafe(self) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self.fire)

    def __await__(self) -> Generator[Any, Any, None]:
        while not (self.fired or self.called):
            yield self


def _noting_others(name: str) -> Callable[..., Any]:
    add = getattr(defer.Deferred, name)

    def noting(self: Waiter, *args: Any, **kwargs: Any) -> Any:
        self.others = True
        return add(self, *args, **kwargs)

    noting.__name__ = name
    return noting


for _name in ("addCallbacks", "addCallback", "addErrback", "addBoth"):
    setattr(Waiter, _name, _noting_others(_name))


# Every open connection, closed before the reactor shuts down.
_OPEN: set[_Protocol] = set()
_trigger_added = False


def _close_all() -> None:
    for connection in list(_OPEN):
        connection.abort()


def _sender(transport: Any) -> Callable[[bytes], None]:
    """``transport.write``; for a plain TCP transport, one that sends at once when nothing waits before it.

    It calls the socket's own ``send`` (Twisted's ``writeSomeData`` adds two calls and a memoryview).
    """
    write: Callable[[bytes], None] = transport.write
    if not isinstance(transport, tcp.Connection) or transport.TLS:
        return write
    send, most = transport.socket.send, transport.SEND_LIMIT

    def send_now(data: bytes) -> None:
        if (
            len(data) <= most
            and transport.connected
            and not (transport.dataBuffer or transport._tempDataLen or transport.disconnecting)
        ):
            try:
                sent = send(data)
            except OSError:  # it would block, or the connection is lost: write() queues, the reactor reports it
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        write(data)

    return send_now


@implementer(IPushProducer)
class _Protocol(protocol.Protocol):
    """One connection; ``dataReceived`` is the receiver's."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.dataReceived = receiver.data_received  # type: ignore[method-assign]

    def connectionMade(self) -> None:
        transport: Any = self.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)
        transport.registerProducer(self, True)
        # the pool pauses and resumes through the transport's own methods; it writes through _sender
        self.write = _sender(transport)  # type: ignore[method-assign,assignment]
        self.pause_reading = transport.pauseProducing  # type: ignore[method-assign]
        self.resume_reading = transport.resumeProducing  # type: ignore[method-assign]
        _OPEN.add(self)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        _OPEN.discard(self)
        self.receiver.connection_lost(None if reason.check(error.ConnectionDone) else reason.value)

    # IPushProducer: what the transport says about its send buffer
    def pauseProducing(self) -> None:
        self.receiver.pause_writing()

    def resumeProducing(self) -> None:
        self.receiver.resume_writing()

    def stopProducing(self) -> None:
        pass

    # Transport: what the pool calls
    def write(self, data: bytes) -> None:
        self._transport().write(data)

    def pause_reading(self) -> None:
        self._transport().pauseProducing()

    def resume_reading(self) -> None:
        self._transport().resumeProducing()

    def close(self) -> None:
        self._transport().loseConnection()

    def abort(self) -> None:
        self._transport().abortConnection()

    def _transport(self) -> Any:
        return self.transport


class TwistedNetwork:
    """TCP and TLS connections, timers and waiters on the running reactor."""

    def __init__(self, tls: TLSConfig | None) -> None:
        self._policy = TLSPolicy(tls) if tls is not None else None
        self._reactor: Any = None
        self._endpoints: dict[tuple[str, int, bool, float | None], Any] = {}

    def _setup(self) -> Any:
        global _trigger_added
        from twisted.internet import reactor as installed

        reactor: Any = installed
        self._reactor = reactor
        if not _trigger_added:
            _trigger_added = True
            reactor.addSystemEventTrigger("before", "shutdown", _close_all)
        return reactor

    def _endpoint(self, host: str, port: int, tls: bool, timeout: float | None) -> Any:
        key = (host, port, tls, timeout)
        endpoint: Any = self._endpoints.get(key)
        if endpoint is None:
            reactor = self._reactor or self._setup()
            endpoint = HostnameEndpoint(reactor, host, port, timeout if timeout is not None else 30)
            if tls:
                if self._policy is not None:
                    creator = self._policy.creatorForNetloc(host.encode("idna"), port)
                else:
                    from twisted.internet.ssl import optionsForClientTLS

                    creator = optionsForClientTLS(host)
                endpoint = wrapClientTLS(creator, endpoint)
            self._endpoints[key] = endpoint
        return endpoint

    async def connect(
        self, host: str, port: int, tls: bool, receiver: Receiver, timeout: float | None, method: str, url: str
    ) -> Transport:
        connection = _Protocol(receiver)
        try:
            await connectProtocol(self._endpoint(host, port, tls, timeout), connection)
        except defer.CancelledError:
            raise
        except (error.TimeoutError, defer.TimeoutError):
            raise Timeout(f"no connection in {timeout:g} s", method=method, url=url) from None
        except Exception as exc:
            raise self.failure(exc, method, url) from None
        return connection

    def failure(self, exc: BaseException, method: str, url: str) -> NetworkError:
        return failure_error(exc, tls_failure(exc), method, url)

    def call_later(self, seconds: float, fn: Callable[[], None]) -> Any:
        return (self._reactor or self._setup()).callLater(seconds, fn)

    waiter = Waiter
