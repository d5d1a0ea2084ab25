"""examples/scrapy: a crawl of a page served here, its items saved by the Twisted flavour, on both reactors."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.shell import with_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scrapy"
PAGES = {
    "quotes.html": """<html><body>
      <div class="quote"><span class="text">Relax.</span><small class="author">CouchDB</small>
        <a class="tag">calm</a></div>
      <div class="quote"><span class="text">Time to relax.</span><small class="author">Damien</small>
        <a class="tag">calm</a><a class="tag">time</a></div>
      <ul><li class="next"><a href="page2.html">next</a></li></ul></body></html>""",
    "page2.html": """<html><body>
      <div class="quote"><span class="text">Eventually consistent.</span><small class="author">Anon</small></div>
      </body></html>""",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("site")
    for name, html in PAGES.items():
        (folder / name).write_text(html)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/quotes.html"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("reactor", ["asyncio", "default"])
def test_every_quote_is_saved(site: str, reactor: str, couchdb_dbname: str, couchdb_url: str) -> None:
    env = {**os.environ, "COUCHDB_URL": couchdb_url, "COUCHDB_DATABASE": couchdb_dbname}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "crawl.py"), site, "--reactor", reactor],
        cwd=EXAMPLE,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"saved 3 quotes, reactor {reactor}" in done.stdout

    async def quotes(server):  # type: ignore[no-untyped-def]
        rows = await server.database(couchdb_dbname).all_docs(include_docs=True)
        return sorted((row["doc"]["author"], row["doc"]["text"], row["doc"]["tags"]) for row in rows)

    assert with_db(couchdb_url, quotes) == [
        ("Anon", "Eventually consistent.", []),
        ("CouchDB", "Relax.", ["calm"]),
        ("Damien", "Time to relax.", ["calm", "time"]),
    ]
