"""A TCP proxy that breaks connections on command, for fault tests.

One thread of its own runs every socket (so it works under any event loop,
and a reset really sends RST: no other thread is blocked on the socket)::

    proxy = FaultProxy.to("http://127.0.0.1:5984").start()
    proxy.url         # point the client here
    proxy.cut()       # close every connection (FIN)
    proxy.reset()     # abort every connection (RST)
    proxy.stall()     # keep connections open but forward nothing ...
    proxy.resume()    # ... until this
    proxy.refuse()    # stop listening (new connections are refused) ...
    proxy.accept()    # ... and listen again on the same port
"""

from __future__ import annotations

import queue
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wallaby.backends.couchdb.testing import free_port

if TYPE_CHECKING:
    from typing_extensions import Self

_MAX_BUFFER = 1 << 20


class _Side:
    __slots__ = ("sock", "peer", "out")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.peer: _Side | None = None
        self.out = bytearray()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections_made = 0
        self.bytes_forwarded = 0
        self._selector = selectors.DefaultSelector()
        self._commands: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._listener: socket.socket | None = None
        self._sides: set[_Side] = set()
        self._flowing = True
        self._running = False
        self._thread: threading.Thread | None = None

    @classmethod
    def to(cls, url: str) -> FaultProxy:
        parts = urlsplit(url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 5984)

    # --- commands (any thread) -------------------------------------------------------

    def _call(self, fn: Callable[[], Any]) -> Any:
        answer: queue.Queue[Any] = queue.Queue()
        self._commands.put((fn, answer))
        self._wake_w.send(b"x")
        ok, value = answer.get(timeout=10)
        if not ok:
            raise value
        return value

    def start(self) -> FaultProxy:
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        self.accept()
        return self

    def accept(self) -> None:
        self._call(self._listen)

    def refuse(self) -> None:
        self._call(self._unlisten)

    def cut(self) -> int:
        return self._call(lambda: self._close_all(reset=False))

    def reset(self) -> int:
        return self._call(lambda: self._close_all(reset=True))

    def stall(self) -> None:
        self._call(lambda: self._set_flowing(False))

    def resume(self) -> None:
        self._call(lambda: self._set_flowing(True))

    @property
    def open_connections(self) -> int:
        return self._call(lambda: len(self._sides) // 2)

    def stop(self) -> None:
        if not self._running:
            return
        self._call(self._shutdown)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the loop thread -------------------------------------------------------------

    def _listen(self) -> None:
        if self._listener is None:
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            listener.setblocking(False)
            self._selector.register(listener, selectors.EVENT_READ, "listen")
            self._listener = listener

    def _unlisten(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _shutdown(self) -> None:
        self._unlisten()
        self._close_all(reset=False)
        self._running = False

    def _set_flowing(self, flowing: bool) -> None:
        self._flowing = flowing
        for side in self._sides:
            self._update(side)

    def _close_all(self, reset: bool) -> int:
        pairs = len(self._sides) // 2
        for side in list(self._sides):
            self._close(side, reset)
        return pairs

    def _close(self, side: _Side, reset: bool = False) -> None:
        for each in (side, side.peer):
            if each is None or each not in self._sides:
                continue
            self._sides.discard(each)
            if each.sock in self._selector.get_map():
                self._selector.unregister(each.sock)
            try:
                if reset:
                    each.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    each.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            each.sock.close()

    def _update(self, side: _Side) -> None:
        """Read while flowing and the peer is not backed up; write while there is output."""
        events = 0
        if self._flowing and side.peer is not None and len(side.peer.out) < _MAX_BUFFER:
            events |= selectors.EVENT_READ
        if self._flowing and side.out:
            events |= selectors.EVENT_WRITE
        registered = side.sock in self._selector.get_map()
        if not events:
            if registered:
                self._selector.unregister(side.sock)
        elif registered:
            self._selector.modify(side.sock, events, side)
        else:
            self._selector.register(side.sock, events, side)

    def _accept_one(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self.connections_made += 1
        a, b = _Side(client), _Side(upstream)
        a.peer, b.peer = b, a
        for side in (a, b):
            side.sock.setblocking(False)
            side.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sides.add(side)
        for side in (a, b):
            self._update(side)

    def _loop(self) -> None:
        while self._running:
            for key, mask in self._selector.select(0.5):
                tag = key.data
                if tag == "wake":
                    self._wake_r.recv(4096)
                    while not self._commands.empty():
                        fn, answer = self._commands.get()
                        try:
                            answer.put((True, fn()))
                        except Exception as exc:  # handed to the caller
                            answer.put((False, exc))
                elif tag == "listen":
                    self._accept_one()
                else:
                    self._service(tag, mask)
        self._selector.close()

    def _service(self, side: _Side, mask: int) -> None:
        if side not in self._sides:
            return
        peer = side.peer
        assert peer is not None
        if mask & selectors.EVENT_READ and self._flowing:
            try:
                data = side.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._close(side)
                return
            peer.out += data
            self.bytes_forwarded += len(data)
            self._update(peer)
        if mask & selectors.EVENT_WRITE and side.out and self._flowing:
            try:
                sent = side.sock.send(side.out)
            except OSError:
                self._close(side)
                return
            del side.out[:sent]
        if side in self._sides:
            self._update(side)
