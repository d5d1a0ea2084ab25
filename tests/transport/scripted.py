"""A loopback HTTP/1.1 server whose answers a test writes byte for byte, for the connection pool's tests.

Each accepted connection runs ``script(conn)`` on a thread of its own::

    def script(conn):
        while conn.read_request():                     # None once the client closes
            conn.send(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")

    with Scripted(script) as server:
        server.url          # http://127.0.0.1:PORT
        server.connections  # how many were accepted
        server.requests     # every request read: (method, target, headers, body)

It runs on threads of its own, so it works under any event loop or reactor.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self


class Request:
    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target} {len(self.body)} bytes>"


class Conn:
    """One accepted connection, as a script sees it."""

    def __init__(self, sock: socket.socket, server: Scripted) -> None:
        self.sock = sock
        self.server = server
        self.buffer = bytearray()  # grown in place: a large body arrives in linear time

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except OSError:
            return False
        self.buffer += data
        return bool(data)

    def _line(self) -> bytes | None:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                return None
        end = self.buffer.index(b"\r\n")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def _exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not self._fill():
                return None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_request(self, body: bool = True) -> Request | None:
        """The next request (its body too, unless ``body=False``), or None when the client closed."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        end = self.buffer.index(b"\r\n\r\n")
        lines = self.buffer[:end].decode("utf-8").split("\r\n")
        del self.buffer[: end + 4]
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        data = b""
        if body:
            data = self.read_body(headers) or b""
        request = Request(method, target, headers, data)
        self.server.requests.append(request)
        return request

    def read_body(self, headers: dict[str, str]) -> bytes | None:
        if "content-length" in headers:
            return self._exactly(int(headers["content-length"]))
        if headers.get("transfer-encoding") == "chunked":
            pieces = []
            while True:
                size_line = self._line()
                if size_line is None:
                    return None
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self._line()
                    return b"".join(pieces)
                piece = self._exactly(size + 2)
                if piece is None:
                    return None
                pieces.append(piece[:-2])
        return b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self, status: int = 200, body: bytes = b'{"ok":true}', headers: str = "") -> None:
        self.send(
            b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
            % (status, headers.encode(), len(body), body)
        )

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Scripted:
    def __init__(self, script: Callable[[Conn], Any]) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[Request] = []
        self.open: set[Conn] = set()
        self._closed = False

    def __enter__(self) -> Self:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self.listener.close()
        for conn in list(self.open):
            conn.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            conn = Conn(sock, self)
            self.open.add(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: Conn) -> None:
        try:
            self.script(conn)
        except OSError:
            pass
        finally:
            conn.close()
            self.open.discard(conn)


def keep_alive(conn: Conn) -> None:
    """Answer every request with a small JSON body, on one connection for as long as the client likes."""
    while conn.read_request():
        conn.answer()
