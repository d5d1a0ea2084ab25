"""A store on disk and the processes around it: killed mid-write, opened by a second process.

Each test drives child Python processes: a write the child reported done is
on disk after ``kill -9``, no document is half-written, the file reopens
cleanly; a second process is refused with ``503 store_locked`` while the
first holds the directory, and gets in once it is gone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from wallaby.backends.couchdb.aio import Server

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from wallaby.backends.couchdb.aio import Server

    async def main(url):
        async with Server(url) as server:
            db = await server.create("crash")
            n = 0
            while True:
                docs = [{"_id": f"doc{i:07d}", "n": i, "pad": "x" * 300} for i in range(n, n + 200)]
                await db.save({"docs": docs})
                updates = [{"_id": d["_id"], "_rev": d["_rev"], "n": d["n"], "second": True, "pad": "y" * 300}
                           for d in docs[::2]]
                await db.save({"docs": updates})
                n += 200
                print(n, flush=True)  # every document below n is acknowledged

    asyncio.run(main(sys.argv[1]))
    """
)

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from wallaby.backends.couchdb.aio import Server, ServerError

    async def main(url):
        async with Server(url) as server:
            try:
                print("dbs", await server.all_dbs(), flush=True)
            except ServerError as exc:
                print("refused", exc.status, exc.error, exc.reason, flush=True)
                return
            if len(sys.argv) > 2:  # hold the store until stdin closes
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main(sys.argv[1]))
    """
)


def _python(script: str, *args: str, **options: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options
    )  # type: ignore[call-overload]


def test_a_process_killed_mid_write_loses_nothing_acknowledged_and_reopens_cleanly(tmp_path: Path) -> None:
    url = tmp_path.as_uri()
    child = _python(WRITER, url)
    acknowledged = 0
    deadline = time.monotonic() + 60
    assert child.stdout is not None
    while acknowledged < 3000 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            raise AssertionError(f"the writer ended: {child.stderr.read() if child.stderr else ''}")
        acknowledged = int(line)
    time.sleep(0.05)  # into the middle of the next writes
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert acknowledged >= 3000

    path = tmp_path / "crash.couch.sqlite"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    async def check() -> None:
        async with Server(url) as server:
            db = server.database("crash")
            rows = await db.all_docs(include_docs=True)
            found = {row["id"]: row["doc"] for row in rows}
            for i in range(acknowledged):
                doc = found[f"doc{i:07d}"]
                assert doc["n"] == i
                if i % 2 == 0:
                    assert doc.get("second") is True and doc["pad"] == "y" * 300 and doc["_rev"].startswith("2-")
            for doc in found.values():  # whatever else is there is whole
                assert doc["pad"] in ("x" * 300, "y" * 300)
                assert doc["_rev"].startswith("2-") == bool(doc.get("second"))
            info = await db.info()
            assert info["doc_count"] == len(found)
            assert info["update_seq"] >= acknowledged + acknowledged // 2
            await db.save({"_id": "after", "ok": True})  # and it takes writes again

    asyncio.run(check())


def test_a_second_process_is_refused_while_the_first_holds_the_store(tmp_path: Path) -> None:
    url = tmp_path.as_uri()
    first = _python(HOLDER, url, "hold", stdin=subprocess.PIPE)
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().startswith("dbs")
    try:
        second = _python(HOLDER, url)
        out, err = second.communicate(timeout=60)
        assert out.startswith("refused 503 store_locked"), err
        assert f"pid {first.pid}" in out
    finally:
        first.stdin.close()
        first.wait(timeout=60)
    third = _python(HOLDER, url)
    out, err = third.communicate(timeout=60)
    assert out.startswith("dbs []"), err
    assert os.path.exists(tmp_path / ".wallaby-store.lock")
