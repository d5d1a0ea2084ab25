"""The connection pool and its two transports, against a server that answers byte for byte what each test says.

Each test runs in both flavours (and on Twisted's asyncio reactor): what is
checked is the one pool of ``_core/pool.py`` over an asyncio ``Protocol`` and
over a Twisted ``Protocol``.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from .scripted import Conn, Scripted, keep_alive


async def _awaited(call):
    return await call


def start(couch, call):
    """``call`` (a coroutine, or a Twisted flavour's Deferred) running on its own."""
    return couch.spawn(_awaited(call))


async def gather(couch, calls):
    running = [start(couch, call) for call in calls]
    return [await each for each in running]


def pool(server):
    return server._client.runtime.pool


# --- keep-alive and the bound ------------------------------------------------------------


async def test_requests_one_after_another_share_one_connection(couch):
    with Scripted(keep_alive) as scripted:
        server = couch.server(scripted.url)
        for _ in range(20):
            assert await server.info() == {"ok": True}
        assert scripted.connections == 1
        assert pool(server).open_connections == 1


async def test_concurrent_requests_never_open_more_connections_than_the_bound(couch):
    most = []

    def slow(conn: Conn) -> None:
        while conn.read_request():
            most.append(len(scripted.open))
            time.sleep(0.02)
            conn.answer()

    with Scripted(slow) as scripted:
        server = couch.server(scripted.url)
        pool(server).limit = 4
        answers = await gather(couch, [server.info() for _ in range(24)])
        assert answers == [{"ok": True}] * 24
        assert scripted.connections == 4 and max(most) == 4
        assert pool(server).open_connections == 4


# --- servers that close ----------------------------------------------------------------


async def test_answers_that_say_connection_close_are_each_on_a_new_connection(couch):
    def one_then_close(conn: Conn) -> None:
        if conn.read_request():
            conn.answer(headers="Connection: close\r\n")

    with Scripted(one_then_close) as scripted:
        server = couch.server(scripted.url)
        for _ in range(5):
            assert await server.info() == {"ok": True}
        assert scripted.connections == 5


async def test_a_connection_the_server_closed_while_idle_is_not_used_again(couch):
    def one_then_quietly_close(conn: Conn) -> None:
        if conn.read_request():
            conn.answer()  # keep-alive, says the answer; the server closes all the same

    with Scripted(one_then_quietly_close) as scripted:
        server = couch.server(scripted.url)
        for _ in range(4):
            assert await server.info() == {"ok": True}
            await couch.sleep(0.1)
        assert scripted.connections == 4


def _closes_on_its_second_request(conn: Conn) -> None:
    """The first connection answers once, then closes as the next request arrives; later ones keep alive."""
    first = conn.server.connections == 1
    if not conn.read_request():
        return
    conn.answer()
    if first:
        conn.read_request(body=False)
        return  # closed without an answer: the request and the server's close crossed
    keep_alive(conn)


async def test_a_get_the_server_closed_on_is_sent_again_once_on_a_new_connection(couch):
    with Scripted(_closes_on_its_second_request) as scripted:
        db = couch.server(scripted.url).database("db")
        assert await db.get("a") == {"ok": True}
        assert await db.get("b") == {"ok": True}
        assert [r.target for r in scripted.requests] == ["/db/a", "/db/b", "/db/b"]
        assert scripted.connections == 2


async def test_a_post_the_server_closed_on_is_never_sent_again(couch):
    with Scripted(_closes_on_its_second_request) as scripted:
        db = couch.server(scripted.url).database("db")
        await db.get("a")
        with pytest.raises(couch.module.NetworkError) as caught:
            await db.save({"no": "id"})  # POST /db: CouchDB would make a second document
        assert "without answering" in str(caught.value) and caught.value.url == scripted.url + "/db"
        assert [r.method for r in scripted.requests] == ["GET", "POST"]


async def test_a_streamed_body_the_server_closed_on_is_never_sent_again(couch):
    async def pieces():
        yield b"abc"

    with Scripted(_closes_on_its_second_request) as scripted:
        db = couch.server(scripted.url).database("db")
        await db.get("a")
        with pytest.raises(couch.module.NetworkError):
            await db.put_attachment({"_id": "d", "_rev": "1-a"}, "att", pieces())
        assert [r.method for r in scripted.requests] == ["GET", "PUT"]


# --- what an answer can look like -----------------------------------------------------------


async def test_1xx_answers_before_the_answer_are_skipped(couch):
    def interim(conn: Conn) -> None:
        while conn.read_request():
            conn.send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
            conn.answer()

    with Scripted(interim) as scripted:
        server = couch.server(scripted.url)
        assert await server.info() == {"ok": True}
        assert await server.info() == {"ok": True}
        assert scripted.connections == 1


async def test_large_headers_and_repeated_cookies_come_through(couch):
    big = "v" * 100_000

    def headers(conn: Conn) -> None:
        while conn.read_request():
            conn.answer(headers=f"Set-Cookie: a=1; Path=/\r\nX-Big: {big}\r\nSet-Cookie: b=2\r\n")

    with Scripted(headers) as scripted:
        client = couch.server(scripted.url)._client
        response = await client.send("GET", "/")
        assert response.header_values("set-cookie") == ["a=1; Path=/", "b=2"]
        assert response.header("X-BIG") == big
        assert await response.read() == b'{"ok":true}'


async def test_head_has_no_body_and_the_connection_goes_on(couch):
    def with_head(conn: Conn) -> None:
        while request := conn.read_request():
            if request.method == "HEAD":
                conn.send(b'HTTP/1.1 200 OK\r\nETag: "3-abc"\r\nContent-Length: 5000\r\n\r\n')
            else:
                conn.answer()

    with Scripted(with_head) as scripted:
        db = couch.server(scripted.url).database("db")
        assert await db.head("doc") == "3-abc"
        assert await db.get("doc") == {"ok": True}
        assert await db.head("doc") == "3-abc"
        assert scripted.connections == 1


async def test_an_answer_cut_in_its_body_is_a_network_error_naming_the_url(couch):
    def cut(conn: Conn) -> None:
        if conn.read_request():
            conn.send(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"ok":')

    with Scripted(cut) as scripted:
        db = couch.server(scripted.url).database("db")
        with pytest.raises(couch.module.NetworkError) as caught:
            await db.get("doc")
        assert "middle of the answer's body" in str(caught.value)
        assert caught.value.url == scripted.url + "/db/doc"


async def test_bytes_that_are_not_http_are_a_network_error(couch):
    def garbage(conn: Conn) -> None:
        if conn.read_request():
            conn.send(b"SSH-2.0-OpenSSH_9.6\r\n")
            time.sleep(0.5)

    with Scripted(garbage) as scripted:
        with pytest.raises(couch.module.NetworkError, match="malformed"):
            await couch.server(scripted.url).info()


# --- timeouts ------------------------------------------------------------------------------


async def test_a_server_that_never_answers_is_a_timeout(couch):
    released = threading.Event()

    def silent(conn: Conn) -> None:
        conn.read_request()
        released.wait(10)

    with Scripted(silent) as scripted:
        server = couch.server(scripted.url, read_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(couch.module.Timeout):
            await server.info()
        assert time.monotonic() - started < 3
        released.set()


async def test_a_server_that_never_accepts_is_a_connect_timeout(couch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue: later connections wait for a SYN-ACK that never comes
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        await couch.sleep(0.2)
        server = couch.server(f"http://127.0.0.1:{port}", connect_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(couch.module.Timeout):
            await server.info()
        assert time.monotonic() - started < 3
    finally:
        for each in fillers:
            each.close()
        listener.close()


# --- back-pressure, both ways -------------------------------------------------------------------


async def test_a_slow_reader_pauses_the_socket_so_the_stream_stays_bounded(couch):
    size = 64 * 1024 * 1024
    sent = []

    def fast(conn: Conn) -> None:
        if conn.read_request():
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % size)
            piece = b"x" * 65536
            for n in range(size // len(piece)):
                conn.send(piece)
                sent.append(n)

    with Scripted(fast) as scripted:
        db = couch.server(scripted.url).database("db")
        stream = db.stream_attachment("doc", "big")
        received = len(await stream.__anext__())
        await couch.sleep(0.5)  # a slow consumer: the server soon stops being able to send
        held_back = len(sent) * 65536 - received
        assert held_back < 16 * 1024 * 1024, held_back
        async for chunk in stream:
            received += len(chunk)
        assert received == size


async def test_a_streamed_request_body_is_pulled_at_the_pace_the_socket_takes_it(couch):
    size = 64 * 1024 * 1024
    produced = []
    consumed = []

    def slow_reader(conn: Conn) -> None:
        request = conn.read_request(body=False)
        assert request is not None
        total = len(conn.buffer)
        conn.buffer.clear()
        while total < size:
            time.sleep(0.002)
            data = conn.sock.recv(65536)
            if not data:
                return
            total += len(data)
            consumed.append(total)
        conn.answer(201, b'{"ok":true,"id":"d","rev":"2-b"}')

    async def pieces():
        piece = b"y" * 65536
        for n in range(size // len(piece)):
            produced.append(n)
            if consumed:
                assert (n + 1) * 65536 - consumed[-1] < 16 * 1024 * 1024, "the body ran ahead of the socket"
            yield piece

    with Scripted(slow_reader) as scripted:
        db = couch.server(scripted.url).database("db")
        doc = {"_id": "d", "_rev": "1-a"}
        await db.put_attachment(doc, "big", pieces(), length=size)
        assert doc["_rev"] == "2-b" and len(produced) == size // 65536


async def test_a_body_in_memory_larger_than_the_socket_takes_arrives_whole_and_the_connection_goes_on(couch):
    body = bytes(range(256)) * (8 * 4096)  # 8 MiB: the socket takes part of it, the rest waits its turn

    def slow_reader(conn: Conn) -> None:
        time.sleep(0.2)  # the client's first write fills the socket's buffers
        while request := conn.read_request():
            if request.method == "PUT":
                conn.answer(201, b'{"ok":true,"id":"d","rev":"2-b"}')
            else:
                conn.answer()

    with Scripted(slow_reader) as scripted:
        server = couch.server(scripted.url)
        doc = {"_id": "d", "_rev": "1-a"}
        await server.database("db").put_attachment(doc, "big", body)
        assert doc["_rev"] == "2-b"
        assert await server.info() == {"ok": True}
        assert scripted.connections == 1 and [r.method for r in scripted.requests] == ["PUT", "GET"]
        assert scripted.requests[0].body == body


# --- cancelling and closing ---------------------------------------------------------------------


async def test_a_cancelled_request_closes_its_connection_and_the_pool_goes_on(couch):
    def slow_first(conn: Conn) -> None:
        while request := conn.read_request():
            if request.target == "/slow/doc":
                time.sleep(1)
            conn.answer()

    with Scripted(slow_first) as scripted:
        server = couch.server(scripted.url)
        pending = start(couch, server.database("slow").get("doc"))
        await couch.sleep(0.1)
        pending.cancel()
        with pytest.raises(BaseException) as caught:
            await pending
        assert type(caught.value).__name__ == "CancelledError"
        assert pool(server).open_connections == 0
        assert await server.info() == {"ok": True}
        assert pool(server).open_connections == 1


async def test_closing_the_server_ends_a_stream_being_read_with_a_network_error(couch):
    def endless(conn: Conn) -> None:
        if conn.read_request():
            conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                conn.send(b"2\r\n\n\n\r\n")
                time.sleep(0.05)

    with Scripted(endless) as scripted:
        server = couch.server(scripted.url)
        response = await server._client.send("GET", "/db/_changes", "?feed=continuous")
        chunks = response.chunks()
        assert await chunks.__anext__() == b"\n\n"
        await server.close()
        with pytest.raises(couch.module.NetworkError, match="pool was closed"):
            while True:
                await chunks.__anext__()
        assert pool(server).open_connections == 0
