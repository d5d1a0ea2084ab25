"""The pool against nginx, a server that closes keep-alive connections on its own terms.

nginx here closes each connection after 3 requests (``keepalive_requests``)
and any that is idle for half a second (``keepalive_timeout``), answering
without ``Connection: close`` on the last request of a connection only as it
sees fit: the client must cope with both. Skipped where nginx is not
installed (``./dev bench`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest

from wallaby.backends.couchdb.testing import free_port

CONF = """
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    default_type application/json;
    keepalive_requests 3;
    keepalive_timeout 500ms;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        location = /big {{ default_type application/octet-stream; }}
        location / {{
            if ($request_method ~ ^(PUT|POST|DELETE)$) {{
                return 201 '{{"ok":true,"id":"canned","rev":"2-a"}}';
            }}
            try_files /doc.json =404;
        }}
    }}
}}
"""

BIG = os.urandom(4 * 1024 * 1024)


def _nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )


@pytest.fixture(scope="module")
def nginx():
    binary = _nginx()
    if binary is None:
        pytest.skip("nginx is not installed (./dev bench installs it)")
    prefix = tempfile.mkdtemp(prefix="wallaby-nginx-")
    os.chmod(prefix, 0o755)
    os.makedirs(os.path.join(prefix, "www"))
    with open(os.path.join(prefix, "www", "doc.json"), "w") as doc:
        doc.write('{"_id":"doc","_rev":"1-a","n":1}')
    with open(os.path.join(prefix, "www", "big"), "wb") as big:
        big.write(BIG)
    port = free_port()
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as out:
        out.write(CONF.format(prefix=prefix, port=port))
    process = subprocess.Popen(
        [binary, "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", conf],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(url + "/db/doc", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.skip("nginx did not start here")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(prefix, ignore_errors=True)


async def test_requests_go_on_across_the_connections_nginx_closes(couch, nginx):
    db = couch.server(nginx).database("db")
    for n in range(30):  # nginx ends a connection every third request
        if n % 2:
            assert (await db.get("doc"))["_rev"] == "1-a"
        else:
            assert (await db.save({"_id": f"d{n}"}))["ok"]


async def test_a_connection_nginx_closed_for_idleness_is_replaced(couch, nginx):
    db = couch.server(nginx).database("db")
    for _ in range(3):
        assert (await db.get("doc"))["n"] == 1
        await couch.sleep(0.7)  # past keepalive_timeout: nginx has closed it


async def test_many_at_once_through_a_server_that_keeps_closing(couch, nginx):
    db = couch.server(nginx).database("db")

    async def one(n):
        return (await db.get("doc")) if n % 3 else (await db.save({"_id": f"d{n}"}))

    async def lane(start):
        return [await one(n) for n in range(start, start + 10)]

    running = [couch.spawn(lane(start)) for start in range(0, 320, 10)]
    results = [answer for each in running for answer in await each]
    assert len(results) == 320 and all(answer.get("ok") or answer.get("n") == 1 for answer in results)


async def test_head_and_a_streamed_body_from_nginx(couch, nginx):
    client = couch.server(nginx)._client
    for _ in range(4):
        head = await client.send("HEAD", "/db/doc")
        assert head.header("Content-Length") == "32" and await head.read() == b""
    received = b"".join([chunk async for chunk in client.stream(_chunks(client))])
    assert received == BIG


async def _chunks(client):
    response = await client.send("GET", "/big")
    try:
        async for chunk in response.chunks():
            yield chunk
    finally:
        response.close()
