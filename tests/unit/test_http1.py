"""The HTTP/1.1 client connection with no I/O (``_core/http1.py``): requests out, answers in at every split."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import wire
from wallaby.backends.couchdb._core.http1 import (
    END,
    MAX_HEAD,
    Connection,
    Head,
    IncompleteAnswer,
    MalformedAnswer,
    NoAnswer,
)

JSON = {"Accept": "application/json"}


class Read:
    """What a connection made of an answer: its head, its body, whether it ended, and whether it can go on."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.head: Head | None = None
        self.body = b""
        self.ended = False
        self.order: list[str] = []

    def take(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, Head):
                assert self.head is None, "two heads for one request"
                self.head = event
                self.order.append("head")
            elif event is END:
                assert not self.ended, "two ends"
                self.ended = True
                self.order.append("end")
            else:
                assert isinstance(event, bytes) and event, "a body piece is non-empty bytes"
                assert self.head is not None and not self.ended
                self.body += event
                if self.order[-1] != "body":
                    self.order.append("body")


def answer(raw: bytes, pieces: list[bytes] | None = None, method: str = "GET", eof: bool = False) -> Read:
    """Send ``method`` on a new connection and feed it ``raw`` (or ``pieces``), then the server's close if ``eof``."""
    conn = Connection("couch.example:5984")
    conn.request(method, "/db/doc", JSON, None)
    read = Read(conn)
    for piece in pieces if pieces is not None else [raw]:
        read.take(conn.receive(piece))
    if eof:
        read.take(conn.receive_eof())
    return read


def splits(raw: bytes) -> list[list[bytes]]:
    """``raw`` cut in two at every point, and byte by byte."""
    return [[raw[:i], raw[i:]] for i in range(len(raw) + 1)] + [[raw[i : i + 1] for i in range(len(raw))]]


def same_at_every_split(raw: bytes, method: str = "GET", eof: bool = False) -> Read:
    """The answer read whole; it reads the same however it is cut."""
    whole = answer(raw, method=method, eof=eof)
    status, headers = (whole.head.status, whole.head.raw) if whole.head else (None, None)
    goes_on = answer(raw, method=method, eof=eof).conn.recycle()
    for pieces in splits(raw):
        read = answer(raw, pieces, method=method, eof=eof)
        assert ((read.head.status, read.head.raw) if read.head else (None, None)) == (status, headers)
        assert (read.body, read.ended, read.order) == (whole.body, whole.ended, whole.order), pieces
        assert read.conn.recycle() == goes_on
    return whole


# --- requests --------------------------------------------------------------------------


def test_a_get_has_no_body_and_no_length():
    conn = Connection("localhost:5984")
    assert conn.request("GET", "/db/doc?rev=1-a", JSON, None) == (
        b"GET /db/doc?rev=1-a HTTP/1.1\r\nHost: localhost:5984\r\nAccept: application/json\r\n\r\n"
    )


def test_a_body_in_memory_goes_with_its_length():
    conn = Connection("localhost")
    sent = conn.request("PUT", "/db/doc", {"Content-Type": "application/json"}, b'{"a":1}')
    head = b"PUT /db/doc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    assert sent == head + b'Content-Length: 7\r\n\r\n{"a":1}'


def test_a_put_or_post_without_a_body_says_its_length_is_zero():
    for method in ("PUT", "POST", "COPY"):
        assert b"Content-Length: 0\r\n" in Connection("h").request(method, "/db", {}, None)
    for method in ("GET", "HEAD", "DELETE"):
        assert b"Content-Length" not in Connection("h").request(method, "/db", {}, None)


def test_a_streamed_body_of_unknown_length_is_chunked():
    conn = Connection("h")
    head = conn.request_head("PUT", "/db/doc/att", {"Content-Type": "text/plain"})
    assert head.endswith(b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert conn.body_piece(b"hello") == b"5\r\nhello\r\n"
    assert conn.body_piece(b"") == b""  # an empty piece would end the body
    assert conn.body_piece(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"
    assert conn.end_of_body() == b"0\r\n\r\n"


def test_a_streamed_body_of_known_length_goes_as_it_is_and_must_be_that_long():
    conn = Connection("h")
    head = conn.request_head("PUT", "/db/doc/att", {"Content-Length": "10", "Content-Type": "text/plain"})
    assert b"Content-Length: 10\r\n" in head and b"chunked" not in head and head.count(b"Content-Length") == 1
    assert conn.body_piece(b"12345") == b"12345"
    with pytest.raises(ValueError, match="short"):
        conn.end_of_body()
    assert conn.body_piece(b"67890") == b"67890"
    with pytest.raises(ValueError, match="longer"):
        conn.body_piece(b"!")
    assert conn.end_of_body() == b""


def test_a_line_break_in_a_header_or_the_target_is_refused_before_anything_is_sent():
    for headers, target in (({"X-A": "1\r\nX-Injected: 1"}, "/"), ({"X-A\n": "1"}, "/"), ({}, "/a\r\nX: 1")):
        conn = Connection("h")
        with pytest.raises(ValueError, match="line break"):
            conn.request("GET", target, headers, None)
        assert conn.request("GET", "/", {}, None)  # still idle: the refused request was never started


def test_each_request_carries_its_own_headers_on_a_reused_connection():
    conn = Connection("h")
    sent = []
    for headers in ({"Accept": "a"}, {"Accept": "a"}, {"Accept": "b", "connection": "Close"}):
        sent.append(conn.request("GET", "/", headers, None))
        conn.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        if headers["Accept"] == "a":
            assert conn.recycle()
            with pytest.raises(ValueError, match="line break"):  # a new set is checked, even after good ones
                conn.request("GET", "/", {"Accept": "a\r\nX: 1"}, None)
    assert sent[0] == sent[1] and b"Accept: a\r\n" in sent[0]
    assert b"Accept: b\r\nconnection: Close\r\n" in sent[2] and b"Accept: a" not in sent[2]
    assert not conn.recycle()  # "connection: close", in any case, closes it after the answer


def test_one_request_at_a_time():
    conn = Connection("h")
    conn.request("GET", "/", {}, None)
    with pytest.raises(RuntimeError, match="sent"):
        conn.request("GET", "/", {}, None)


# --- answers, at every split ------------------------------------------------------------


OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


def test_an_answer_with_a_length_reads_the_same_at_every_split():
    read = same_at_every_split(OK)
    assert read.head is not None and read.head.status == 200
    assert read.head.header("content-type") == "application/json"
    assert read.body == b'{"ok":true}' and read.ended and read.conn.recycle()


def test_content_length_zero_ends_at_the_head():
    read = same_at_every_split(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert read.order == ["head", "end"] and read.body == b"" and read.conn.recycle()


def test_a_chunked_answer_joins_its_chunks_and_drops_its_trailers():
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: dropped\r\n\r\n"
    )
    read = same_at_every_split(raw)
    assert read.body == b"hello world" and read.ended and read.conn.recycle()
    assert read.head is not None and read.head.header("X-Trailer") is None


def test_chunked_wins_over_a_content_length_sent_with_it():
    # PouchDB Server's _list answers: chunked, with the length of the unchunked body
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n4\r\n1=a\n\r\n0\r\n\r\n"
    assert same_at_every_split(raw).body == b"1=a\n"


@pytest.mark.parametrize(
    "interim", [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"]
)
def test_1xx_answers_are_skipped(interim):
    read = same_at_every_split(interim + interim + OK)
    assert read.head is not None and read.head.status == 200 and read.head.header("Link") is None
    assert read.body == b'{"ok":true}' and read.conn.recycle()


def test_a_101_is_refused():
    with pytest.raises(MalformedAnswer, match="switched protocols"):
        answer(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body_whatever_their_headers_say(status):
    raw = b'HTTP/1.1 %d X\r\nContent-Length: 12\r\nETag: "1-a"\r\n\r\n' % status
    read = same_at_every_split(raw)
    assert read.order == ["head", "end"] and read.conn.recycle()


def test_the_answer_to_head_has_no_body_and_the_connection_goes_on():
    conn = Connection("h")
    conn.request("HEAD", "/db/doc", {}, None)
    read = Read(conn)
    read.take(conn.receive(b'HTTP/1.1 200 OK\r\nETag: "1-a"\r\nContent-Length: 1234\r\n\r\n'))
    assert read.order == ["head", "end"] and read.head is not None and read.head.header("etag") == '"1-a"'
    assert conn.recycle()
    conn.request("GET", "/db/doc", {}, None)  # a fresh parser reads the next answer
    read = Read(conn)
    read.take(conn.receive(OK))
    assert read.body == b'{"ok":true}' and conn.recycle()


def test_a_head_answer_chunked_has_no_body_either():
    read = same_at_every_split(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", method="HEAD")
    assert read.order == ["head", "end"]


def test_connection_close_ends_the_connection_after_the_answer():
    read = same_at_every_split(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
    assert read.body == b"ok" and read.ended and not read.conn.recycle()


def test_an_http_1_0_answer_ends_the_connection():
    read = same_at_every_split(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert read.ended and not read.conn.recycle()


def test_a_request_that_asked_to_close_is_not_followed_by_another():
    conn = Connection("h")
    conn.request("GET", "/", {"Connection": "close"}, None)
    conn.receive(OK)
    assert not conn.recycle()


def test_a_body_without_length_or_chunks_ends_where_the_connection_does():
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"
    read = same_at_every_split(raw, eof=True)
    assert read.body == b"until the close" and read.ended and not read.conn.recycle()


def test_set_cookie_sent_twice_is_kept_twice_in_order():
    raw = (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: AuthSession=abc; Path=/; HttpOnly\r\n"
        b"set-cookie: other=1\r\nSet-Cookie:  third=x \r\nContent-Length: 0\r\n\r\n"
    )
    head = same_at_every_split(raw).head
    assert head is not None
    assert head.header_values("Set-Cookie") == ["AuthSession=abc; Path=/; HttpOnly", "other=1", "third=x"]
    assert head.header("SET-COOKIE") == "AuthSession=abc; Path=/; HttpOnly"
    assert head.header_values("X-Missing") == []


def test_large_headers_are_read_and_a_head_over_the_limit_is_refused():
    big = b"x" * 200_000
    raw = b"HTTP/1.1 200 OK\r\nX-Big: " + big + b"\r\nContent-Length: 2\r\n\r\nok"
    for pieces in ([raw], [raw[i : i + 1000] for i in range(0, len(raw), 1000)]):
        read = answer(raw, pieces)
        assert read.head is not None and read.head.header("x-big") == big.decode() and read.body == b"ok"
    endless = b"HTTP/1.1 200 OK\r\n" + b"X-Many: header\r\n" * (MAX_HEAD // 16 + 1)
    with pytest.raises(MalformedAnswer, match="over"):
        answer(endless, [endless[i : i + 65536] for i in range(0, len(endless), 65536)])


def test_header_values_are_utf8_and_bytes_that_are_not_stay_escaped():
    raw = "HTTP/1.1 201 Created\r\nX-Couch-Id: caf\u00e9\r\nX-Odd: \xff\r\nContent-Length: 0\r\n\r\n".encode("latin-1")
    head = answer(raw.replace("caf\u00e9".encode("latin-1"), "caf\u00e9".encode())).head
    assert head is not None and head.header("X-Couch-Id") == "caf\u00e9"
    assert head.header("X-Odd") == "\udcff"


def test_a_continuous_feed_hands_out_each_piece_and_never_ends():
    conn = Connection("h")
    conn.request("GET", "/db/_changes?feed=continuous", {}, None)
    read = Read(conn)
    read.take(conn.receive(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
    assert read.order == ["head"]
    for n in range(1000):
        line = b'{"seq":%d}\n' % n
        events = conn.receive(b"%x\r\n%s\r\n" % (len(line), line))
        assert events == [line]
        events = conn.receive(b"1\r\n\n\r\n")  # a heartbeat
        assert events == [b"\n"]
    assert not read.ended and not conn.recycle()


def test_the_pieces_of_one_receive_come_out_as_one():
    conn = Connection("h")
    conn.request("GET", "/", {}, None)
    rows = b"".join(b"%x\r\n%s\r\n" % (len(row), row) for row in (b'{"id":"a"},\r\n', b'{"id":"b"}') * 500)
    events = conn.receive(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + rows)
    assert len(events) == 2 and events[1] == b'{"id":"a"},\r\n{"id":"b"}' * 500


# --- answers cut short, and bytes that are not HTTP -----------------------------------------------


def test_a_close_before_any_byte_is_no_answer():
    conn = Connection("h")
    conn.request("GET", "/", {}, None)
    with pytest.raises(NoAnswer):
        conn.receive_eof()
    assert not conn.recycle()


@pytest.mark.parametrize(
    "cut",
    [
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok"',
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ],
    ids=["in-the-headers", "before-the-body", "mid-body", "mid-chunk", "before-the-last-chunk"],
)
def test_a_close_in_the_middle_of_an_answer_is_an_incomplete_answer(cut):
    for pieces in splits(cut):
        conn = Connection("h")
        conn.request("GET", "/", {}, None)
        for piece in pieces:
            conn.receive(piece)
        with pytest.raises(IncompleteAnswer) as caught:
            conn.receive_eof()
        assert not isinstance(caught.value, NoAnswer)
        assert not conn.recycle()


@pytest.mark.parametrize(
    "raw",
    [b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.1 2OO OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"],
    ids=["not-http", "bad-status", "bad-length"],
)
def test_bytes_that_are_not_an_answer_are_malformed(raw):
    conn = Connection("h")
    conn.request("GET", "/", {}, None)
    with pytest.raises(MalformedAnswer):
        conn.receive(raw)
    assert not conn.recycle()


def test_bytes_after_the_answer_end_the_connection():
    conn = Connection("h")
    conn.request("GET", "/", {}, None)
    assert conn.receive(OK + b"HTTP/1.1 200 OK\r\n")[-1] is END
    assert not conn.recycle()
    conn = Connection("h")
    conn.request("GET", "/", {}, None)
    conn.receive(OK)
    assert conn.recycle()
    assert conn.receive(b"HTTP/1.1 408 Request Timeout\r\n\r\n") == []  # while idle: the connection is done for
    with pytest.raises(RuntimeError):
        conn.request("GET", "/", {}, None)


# --- any body, any framing, any split ---------------------------------------------------------


def _chunked(body: bytes, sizes: list[int]) -> bytes:
    out, at = [], 0
    for size in sizes:
        piece = body[at : at + size]
        if piece:
            out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        at += size
    if at < len(body):
        out.append(b"%x\r\n%s\r\n" % (len(body) - at, body[at:]))
    return b"".join(out) + b"0\r\n\r\n"


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=3000),
    chunked=st.booleans(),
    sizes=st.lists(st.integers(1, 500), max_size=20),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
    status=st.sampled_from([200, 201, 202, 400, 404, 409, 500]),
)
def test_any_body_in_any_framing_cut_anywhere_arrives_whole(body, chunked, sizes, cuts, status):
    head = b"HTTP/1.1 %d X\r\nContent-Type: application/octet-stream\r\n" % status
    if chunked:
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(body, sizes)
    else:
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    points = sorted({cut % (len(raw) + 1) for cut in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    read = answer(raw, pieces)
    assert read.head is not None and read.head.status == status
    assert read.body == body and read.ended and read.conn.recycle()


@settings(max_examples=100, deadline=None)
@given(bodies=st.lists(st.binary(max_size=200), min_size=1, max_size=6))
def test_one_connection_carries_answer_after_answer(bodies):
    conn = Connection("h")
    for body in bodies:
        conn.request("GET", "/", {}, None)
        read = Read(conn)
        read.take(conn.receive(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)))
        assert read.body == body and read.ended
        assert conn.recycle()
    assert conn.served == len(bodies)


# --- the recorded CouchDB and PouchDB Server answers, framed as they came -----------------------------


def _recorded_body(response: dict[str, Any]) -> bytes:
    if response.get("body_encoding") == "base64":
        return base64.b64decode(response["body"])
    return wire.raw_body(response)


def _recorded() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rows = []
    for file, exchange, server, response in wire.answers(*sorted(p.name for p in wire.CORPUS.glob("*.json"))):
        if response["status"] < 200 or "chunks" in response.get("stream", {}) and not response["stream"]["chunks"]:
            continue
        rows.append((f"{file[:-5]}-{exchange['name']}-{server}", wire.request(exchange, server), response))
    return rows


@wire.parametrize("request_, response", _recorded)
def test_every_recorded_answer_reads_back_as_it_came(request_, response):
    method = request_["method"]
    headers = [
        (name, value)
        for name, values in response["headers"].items()
        if name.lower() not in ("content-length", "transfer-encoding")
        for value in (values if isinstance(values, list) else [values])
    ]
    stream = response.get("stream")
    body = (
        b""
        if method == "HEAD"
        else ("".join(text for _, text in stream["chunks"]).encode() if stream else _recorded_body(response))
    )
    head = b"HTTP/1.1 %d X\r\n" % response["status"] + b"".join(
        f"{name}: {value}\r\n".encode() for name, value in headers
    )
    if stream:  # as it came: one HTTP chunk per recorded chunk, and the feed may still be open
        framed = b"".join(b"%x\r\n%s\r\n" % (len(text.encode()), text.encode()) for _, text in stream["chunks"] if text)
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + framed
    else:
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    conn = Connection("h")
    conn.request(method, request_["target"], {}, None)
    read = Read(conn)
    step = max(1, len(raw) // 7)
    for at in range(0, len(raw), step):
        read.take(conn.receive(raw[at : at + step]))
    assert read.head is not None and read.head.status == response["status"]
    for name, _ in headers:
        expected = response["headers"][name]
        assert read.head.header_values(name) == (expected if isinstance(expected, list) else [expected])
    if response["status"] in (204, 304) or method == "HEAD":
        assert read.body == b""
    else:
        assert read.body == body
    assert read.ended == (not stream)
