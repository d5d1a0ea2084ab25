"""One HTTP/1.1 client connection, with no I/O: a request as bytes out, the answer as events in.

Rules kept here:

- One request at a time (no pipelining): a request is made only on an idle
  connection, and the next one waits until its answer has ended.
- A request body in memory goes with ``Content-Length``; a streamed one with
  the ``Content-Length`` the caller gave (and exactly that many bytes), or
  chunked. The connection adds ``Host`` and the framing headers; nothing else.
- The answer is parsed by llhttp (httptools): ``Content-Length``, chunked
  (trailers are dropped; chunked wins over a ``Content-Length`` sent with
  it) or, with neither, read until the server closes.
- ``1xx`` answers are skipped; the answer to ``HEAD``, a ``204`` and a ``304``
  have no body whatever their headers say.
- Events, in order: one ``Head`` (status and headers), body pieces
  (``bytes``, never empty; the pieces of one ``receive`` are joined into
  one), then ``END``. A continuous feed may never reach ``END``.
- The connection can carry another request only if the answer said
  keep-alive (HTTP/1.1 without ``Connection: close``), the request body went
  out whole, the answer was read to its end, and nothing came after it.
- The server closing the connection (``receive_eof``) in the middle of an
  answer is ``IncompleteAnswer``; before the first byte of the answer it is
  ``NoAnswer``, which a caller may send again elsewhere when that is safe.
- Header values are read as UTF-8 (bytes that are not stay as surrogate
  escapes); a request with CR or LF in a header or target is refused, so no
  caller's value can add a header; a response head over 1 MiB is refused.
- A connection keeps the header lines of its last request, rendered and
  checked, for the next one with the same headers (a client sends the same
  set again and again). They live as long as the connection, never longer:
  they may hold credentials (``Authorization``, ``Cookie``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from httptools import HttpParserError, HttpResponseParser

__all__ = [
    "END",
    "Connection",
    "Head",
    "IncompleteAnswer",
    "MalformedAnswer",
    "NoAnswer",
    "WireError",
]

MAX_HEAD = 1 << 20
"""Bytes received without a complete status line and headers past which an answer is refused."""


class WireError(Exception):
    """The answer cannot be read: the connection is closed and not used again."""


class MalformedAnswer(WireError):
    """The bytes received are not an HTTP/1.1 answer to the request."""


class IncompleteAnswer(WireError):
    """The server closed the connection before the answer ended."""


class NoAnswer(IncompleteAnswer):
    """The server closed the connection before the first byte of the answer."""


class _End:
    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


END: Final = _End()
"""The event after the last body piece."""


class Head:
    """An answer's status and headers, read from the raw head only when a header is asked for."""

    __slots__ = ("status", "block", "_index")

    def __init__(self, status: int, block: bytes) -> None:
        self.status = status
        self.block = block
        """The status line and header lines as received (llhttp has checked their syntax)."""
        self._index: dict[str, list[str]] | None = None

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """``(name, value)`` of every header, in order, names in their case, repeats kept."""
        pairs = []
        for line in self.block.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            pairs.append((name, value.strip(b" \t")))
        return pairs

    def _lookup(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name, value in self.raw:
            index.setdefault(name.decode("latin-1").lower(), []).append(value.decode("utf-8", "surrogateescape"))
        self._index = index
        return index

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        values = (self._index or self._lookup()).get(name.lower())
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order (``Set-Cookie`` comes once per cookie)."""
        return list((self._index or self._lookup()).get(name.lower(), ()))

    def __repr__(self) -> str:
        return f"<Head {self.status}>"


# What the connection is doing (one request at a time).
IDLE: Final = "idle"  # ready for a request
SENT: Final = "sent"  # a request went out; its answer has not ended
DONE: Final = "done"  # the answer ended; recycle() says whether another request may follow
CLOSED: Final = "closed"  # never to be used again

_NO_BODY_STATUS = (204, 304)
_BODILESS = frozenset(("GET", "HEAD", "DELETE", "OPTIONS"))


def _parser(connection: Connection) -> Any:
    parser = HttpResponseParser(connection)
    # both framings in one answer (PouchDB Server's list functions): chunked wins, as RFC 9112 says
    parser.set_dangerous_leniencies(lenient_chunked_length=True)
    return parser


def _header_block(headers: tuple[tuple[str, str], ...]) -> tuple[str, bool]:
    """The header lines of ``headers``, and whether they ask to close the connection after the answer."""
    text = "".join([f"{name}: {value}\r\n" for name, value in headers])
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):
        raise ValueError("a header name or value holds a line break")
    close_asked = any(name.lower() == "connection" and value.lower() == "close" for name, value in headers)
    return text, close_asked


class Connection:
    """The state of one HTTP/1.1 client connection; the caller moves the bytes.

    ::

        conn = Connection("localhost:5984")
        sock.sendall(conn.request("GET", "/db/doc", {"Accept": "application/json"}, None))
        for event in conn.receive(sock.recv(65536)): ...   # Head, bytes..., END
        conn.recycle()                                   # True: another request may follow
    """

    __slots__ = (
        "host",
        "state",
        "served",
        "_parser",
        "_events",
        "_pieces",
        "_head_data",
        "_answer_head",
        "_method",
        "_received",
        "_close_asked",
        "_body_left",
        "_chunked",
        "_body_sent",
        "_keep_alive",
        "_after_end",
        "_last_headers",
        "_last_block",
    )

    def __init__(self, host: str) -> None:
        self.host = host
        """The ``Host`` header: ``host`` or ``host:port``."""
        self.state: str = IDLE
        self.served = 0
        """How many answers this connection has carried to their end."""
        self._parser: Any = None
        self._events: list[Any] = []
        self._pieces: list[bytes] = []
        self._after_end = False
        self._last_headers: tuple[tuple[str, str], ...] | None = None
        self._last_block = ("", False)

    def __repr__(self) -> str:
        return f"<Connection {self.host} {self.state}, {self.served} served>"

    # --- the request ----------------------------------------------------------------

    def request(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
        """The bytes of a request whose body (if any) is in memory."""
        if body is None:
            # a PUT or POST says its empty body is empty; a GET, HEAD or DELETE has none
            framing = "" if method in _BODILESS else "Content-Length: 0\r\n"
            data = self._start(method, target, headers, framing)
        else:
            data = self._start(method, target, headers, f"Content-Length: {len(body)}\r\n") + body
        self._body_sent = True
        return data

    def request_head(self, method: str, target: str, headers: Mapping[str, str]) -> bytes:
        """The head of a request whose body follows in ``body_piece()`` calls, then ``end_of_body()``.

        With a ``Content-Length`` header the body must be exactly that long;
        without one it is sent chunked.
        """
        length = None
        others = {}
        for name, value in headers.items():
            if name.lower() == "content-length":
                if not value.isdigit():
                    raise ValueError(f"Content-Length must be a whole number of bytes, not {value!r}")
                length = int(value)
            else:
                others[name] = value
        framing = "Transfer-Encoding: chunked\r\n" if length is None else f"Content-Length: {length}\r\n"
        data = self._start(method, target, others, framing)
        self._chunked = length is None
        self._body_left = length
        self._body_sent = False
        return data

    def body_piece(self, data: bytes) -> bytes:
        """A piece of a streamed request body, framed for the wire."""
        if not data:
            return b""
        if self._chunked:
            return b"%x\r\n%s\r\n" % (len(data), data)
        left = self._body_left or 0
        if len(data) > left:
            raise ValueError(f"the body is longer than its Content-Length ({len(data) - left} bytes more)")
        self._body_left = left - len(data)
        return data

    def end_of_body(self) -> bytes:
        """The end of a streamed request body."""
        if self._chunked:
            self._body_sent = True
            return b"0\r\n\r\n"
        if self._body_left:
            raise ValueError(f"the body ended {self._body_left} bytes short of its Content-Length")
        self._body_sent = True
        return b""

    def _start(self, method: str, target: str, headers: Mapping[str, str], framing: str) -> bytes:
        if self.state is not IDLE:
            raise RuntimeError(f"a request on a connection that is {self.state}")
        if "\n" in target or "\r" in target:
            raise ValueError("the target holds a line break")
        key = tuple(headers.items())
        if key != self._last_headers:
            self._last_block = _header_block(key)
            self._last_headers = key
        block, close_asked = self._last_block
        text = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n{block}{framing}\r\n"
        self.state = SENT
        self._method = method
        self._close_asked = close_asked
        self._head_data: list[bytes] = []
        self._answer_head: Head | None = None
        self._received = 0
        self._keep_alive = False
        if self._parser is None:
            self._parser = _parser(self)
        return text.encode()

    # --- the answer ------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Any]:
        """Feed bytes from the server; return the events they complete."""
        if not data:
            return []
        if self.state is not SENT:  # nothing may come after an answer
            self._after_end = True
            self.state = CLOSED
            return []
        self._received += len(data)
        if self._answer_head is None:  # its head is read from these bytes once llhttp has checked them
            self._head_data.append(data)
        try:
            self._parser.feed_data(data)
        except HttpParserError as exc:
            self.state = CLOSED
            cause = exc.__context__ if isinstance(exc.__context__, WireError) else None
            raise cause or MalformedAnswer(f"malformed HTTP answer: {exc}") from None
        if self._answer_head is None and self._received > MAX_HEAD:
            self.state = CLOSED
            raise MalformedAnswer(f"the answer's status line and headers are over {MAX_HEAD} bytes")
        if self._pieces:
            self._flush()
        events, self._events = self._events, []
        return events

    def receive_eof(self) -> list[Any]:
        """The server closed the connection: the events that completes, or why the answer is lost."""
        state, self.state = self.state, CLOSED
        if state is not SENT:
            return []
        if not self._received:
            raise NoAnswer("the server closed the connection without answering")
        head = self._answer_head
        if head is None:
            raise IncompleteAnswer("the server closed the connection in the middle of the answer's headers")
        if not self._framed(head):  # the body ends where the connection does
            if self._pieces:
                self._flush()
            events, self._events = self._events, []
            events.append(END)
            return events
        raise IncompleteAnswer("the server closed the connection in the middle of the answer's body")

    def recycle(self) -> bool:
        """After ``END``: ready the connection for another request, if it can carry one."""
        if (
            self.state is DONE
            and self._keep_alive
            and self._body_sent
            and not self._close_asked
            and not self._after_end
        ):
            self.state = IDLE
            return True
        self.state = CLOSED
        return False

    def close(self) -> None:
        """Never use this connection again (the caller closes its socket)."""
        self.state = CLOSED

    def _flush(self) -> None:
        pieces = self._pieces
        self._events.append(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        self._pieces = []

    @staticmethod
    def _framed(head: Head) -> bool:
        """Does the answer say where its body ends (a length, or chunks)?"""
        for name, value in head.raw:
            lowered = name.lower()
            if lowered == b"content-length" or (lowered == b"transfer-encoding" and b"chunked" in value.lower()):
                return True
        return head.status in _NO_BODY_STATUS

    # --- httptools callbacks (no per-header one: the head is read from its bytes when asked) ---------

    def on_message_begin(self) -> None:
        if self.state is not SENT:  # a second answer to one request
            self._after_end = True

    def on_headers_complete(self) -> None:
        if self.state is not SENT:  # a second answer to one request
            self._after_end = True
            return
        data = self._head_data
        received = data[0] if len(data) == 1 else b"".join(data)
        end = received.find(b"\r\n\r\n")
        status = self._parser.get_status_code()
        if status < 200:
            if status == 101:
                raise MalformedAnswer("the server switched protocols, which no request asked for")
            self._head_data = [received[end + 4 :]]  # 100 Continue, 103 Early Hints: the answer follows
            return
        head = self._answer_head = Head(status, received[:end])
        self._events.append(head)
        if self._method == "HEAD":  # llhttp would wait for the body its headers announce
            self._end(self._parser.should_keep_alive())
            self._parser = None  # a fresh one for the next answer

    def on_body(self, data: bytes) -> None:
        if self.state is SENT:
            self._pieces.append(data)
        else:
            self._after_end = True

    def on_message_complete(self) -> None:
        if self.state is SENT and self._answer_head is not None:  # not the end of a 1xx
            self._end(self._parser.should_keep_alive())

    def _end(self, keep_alive: bool) -> None:
        if self._pieces:
            self._flush()
        self._events.append(END)
        self._keep_alive = keep_alive
        self.state = DONE
        self.served += 1
