"""The embedded store against PouchDB 9 and raw sqlite3, side by side in one run.

    .venv/bin/python benchmarks/embedded.py [--docs 100000] [--rounds 2] [--attachment-mb 1024] [--no-pouchdb]

On ``--docs`` documents of about 200 bytes (the shape of benchmarks/query_side.py),
each engine on a fresh directory, timed the same way:

- ``bulk_docs``: every document in batches of 1,000 (``db.save({"docs": ...})``),
  each batch built in the timed loop;
- ``new_edits_false``: the same with a given ``_rev`` each, as a replicator writes;
- ``bulk_docs_calls`` and ``new_edits_false_calls``: the same loads, the calls'
  time alone (each batch is built before its call's clock starts, in every
  engine: Python builds documents several times slower than JavaScript);
- ``get``: 10,000 random documents one at a time, each awaited before the next;
- ``all_docs``: ``_all_docs?include_docs=true`` in one call;
- ``changes`` and ``changes_docs``: the changes since 0, without and with the
  documents (the store: ``follow(feed="normal")``, a page of 1,000 per request);
- a point read from SQLite on the loop's thread and through a worker thread
  (the store reads one document on the loop: this says why).

PouchDB 9 (leveldb) runs under Node from ``benchmarks/pouchdb`` (``npm ci``
there on first use); raw sqlite3 is the floor: one table (id, JSON), the
same operations with nothing of CouchDB's. The store runs on a directory
(``file://``) and in memory (``memory://``), in the asyncio flavour. For each
operation: wall time and CPU time (this process; Node's own for PouchDB), and
the ratio to PouchDB by both. The longest wait of the event loop during the
store's bulk load is reported too (and the longest part of one wait the
thread was blocked rather than queued for a CPU), and the peak memory growth of a
``--attachment-mb`` attachment streamed into the store and back out.

Each round runs every engine once; the table shows the median over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from wallaby.backends.couchdb.aio import Server

sys.path.insert(0, str(Path(__file__).parent))
from sample_docs import Ticker, doc  # noqa: E402

HERE = Path(__file__).parent
OPERATIONS = (
    "bulk_docs",
    "bulk_docs_calls",
    "new_edits_false",
    "new_edits_false_calls",
    "get",
    "all_docs",
    "changes",
    "changes_docs",
)
TARGETS = {
    "bulk_docs": 2.0,
    "bulk_docs_calls": 2.0,
    "new_edits_false": 1.5,
    "new_edits_false_calls": 1.5,
    "get": 3.0,
    "all_docs": 3.5,
    "changes": 7.0,
}
GETS = 10_000


def random_ids(count: int) -> list[str]:
    chooser = random.Random(12345)
    return [doc(chooser.randrange(count))["_id"] for _ in range(min(GETS, count))]


async def _timed(result: dict[str, Any], name: str, work: Callable[[], Awaitable[None]]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    await work()
    result[f"{name}_s"] = time.perf_counter() - wall
    result[f"{name}_cpu_s"] = time.process_time() - cpu


@contextlib.asynccontextmanager
async def _call(result: dict[str, Any], name: str) -> AsyncIterator[None]:
    """Add one call's wall and CPU time to ``name`` (the documents are built outside it)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    result[f"{name}_s"] = result.get(f"{name}_s", 0.0) + time.perf_counter() - wall
    result[f"{name}_cpu_s"] = result.get(f"{name}_cpu_s", 0.0) + time.process_time() - cpu


async def store(url: str, count: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    async with Server(url) as server:
        db = await server.create("bulk")
        replica = await server.create("replica")
        ticker = Ticker()

        async def bulk() -> None:
            ticker.start()
            for start in range(0, count, 1000):
                docs = [doc(i) for i in range(start, min(count, start + 1000))]
                async with _call(result, "bulk_docs_calls"):
                    await db.save({"docs": docs})
            ticker.stop()

        async def replicated() -> None:
            for start in range(0, count, 1000):
                docs = [doc(i) | {"_rev": f"1-{i + 1:032x}"} for i in range(start, min(count, start + 1000))]
                async with _call(result, "new_edits_false_calls"):
                    await replica.save({"docs": docs}, new_edits=False)

        ids = random_ids(count)

        async def get() -> None:
            for docid in ids:
                await db.get(docid)

        async def all_docs() -> None:
            rows = await db.all_docs(include_docs=True)
            assert len(rows) == count, len(rows)

        async def changes(include_docs: bool) -> None:
            seen = 0
            async for batch in db.follow(feed="normal", include_docs=include_docs).batches():
                seen += len(batch)
            assert seen == count, seen

        await _timed(result, "bulk_docs", bulk)
        result["longest_loop_wait_ms"] = ticker.longest
        if ticker.longest_blocked is not None:
            result["longest_loop_blocked_ms"] = ticker.longest_blocked
        await _timed(result, "new_edits_false", replicated)
        await _timed(result, "get", get)
        await _timed(result, "all_docs", all_docs)
        await _timed(result, "changes", lambda: changes(False))
        await _timed(result, "changes_docs", lambda: changes(True))
        result.update(await point_reads(server, ids))
    return result


def _point(conn: sqlite3.Connection, docid: str) -> Any:
    return conn.execute("SELECT rev, deleted, atts, body FROM docs WHERE id = ?", (docid,)).fetchone()


async def point_reads(server: Any, ids: list[str]) -> dict[str, float]:
    """Microseconds of one document read from SQLite on the loop's thread, and through a worker thread:
    why the store reads one document on the loop (docs/guides/embedded.md)."""
    runtime = server._client.runtime  # the StoreRuntime, from outside the public API: a measurement
    local = runtime.store.get("bulk")
    wall = time.perf_counter()
    for docid in ids:
        local.read_here(_point, docid)
    here = time.perf_counter() - wall
    wall = time.perf_counter()
    for docid in ids:
        await local.read(runtime, _point, docid)
    thread = time.perf_counter() - wall
    return {"point_read_loop_us": here / len(ids) * 1e6, "point_read_thread_us": thread / len(ids) * 1e6}


async def idle_loop_wait(seconds: float) -> float:
    """The longest wait of an idle event loop over ``seconds`` (ms): what the machine alone costs."""
    ticker = Ticker()
    ticker.start()
    await asyncio.sleep(seconds)
    ticker.stop()
    return ticker.longest


def raw_sqlite(directory: str, count: int) -> dict[str, Any]:
    """The floor: one table of (id, JSON), WAL, synchronous=NORMAL, batches of 1,000."""
    conn = sqlite3.connect(os.path.join(directory, "raw.sqlite"), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE docs (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, body BLOB)")
    result: dict[str, Any] = {}

    def timed(name: str, work: Callable[[], None]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        result[f"{name}_s"] = time.perf_counter() - wall
        result[f"{name}_cpu_s"] = time.process_time() - cpu

    def bulk() -> None:
        for start in range(0, count, 1000):
            rows = [(d["_id"], orjson.dumps(d)) for d in (doc(i) for i in range(start, min(count, start + 1000)))]
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO docs(id, body) VALUES (?, ?)", rows)
            conn.execute("COMMIT")

    ids = random_ids(count)

    def get() -> None:
        for docid in ids:
            orjson.loads(conn.execute("SELECT body FROM docs WHERE id = ?", (docid,)).fetchone()[0])

    def scan() -> None:
        rows = [orjson.loads(body) for (body,) in conn.execute("SELECT body FROM docs ORDER BY id")]
        assert len(rows) == count

    def changes() -> None:
        rows = [(seq, docid) for seq, docid in conn.execute("SELECT seq, id FROM docs ORDER BY seq")]
        assert len(rows) == count

    timed("bulk_docs", bulk)
    timed("get", get)
    timed("all_docs", scan)
    timed("changes", changes)
    conn.close()
    return result


def pouchdb(directory: str, count: int) -> dict[str, Any] | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("pouchdb: skipped (no node/npm)", file=sys.stderr)
        return None
    folder = HERE / "pouchdb"
    if not (folder / "node_modules" / "pouchdb").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
    out = subprocess.run(
        ["node", "embedded.js", str(count), directory], cwd=folder, check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def attachment_growth(directory: str, megabytes: int) -> int:
    """Peak memory growth (bytes) of a process streaming an attachment into a file store and out."""
    out = subprocess.run(
        [sys.executable, str(HERE / "attachment_memory.py"), Path(directory).as_uri(), str(megabytes * 1024 * 1024)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout)


def one_round(count: int, with_pouchdb: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("store-file", "store-memory", "sqlite3", "pouchdb"):
        directory = tempfile.mkdtemp(prefix=f"embedded-bench-{name}-")
        try:
            if name == "store-file":
                found[name] = asyncio.run(store(Path(directory).as_uri(), count))
                found[name]["idle_loop_wait_ms"] = asyncio.run(idle_loop_wait(found[name]["bulk_docs_s"]))
            elif name == "store-memory":
                found[name] = asyncio.run(store(f"memory://bench-{os.path.basename(directory)}", count))
            elif name == "sqlite3":
                found[name] = raw_sqlite(directory, count)
            elif with_pouchdb:
                found[name] = pouchdb(directory, count)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        print(f"  {name} done", file=sys.stderr, flush=True)
    return found


def _median(rounds: list[dict[str, Any]], engine: str, key: str) -> float | None:
    values = [r[engine][key] for r in rounds if r.get(engine) and key in r[engine]]
    return statistics.median(values) if values else None


def report(rounds: list[dict[str, Any]], count: int, growth: int | None) -> str:
    lines = [
        f"{count:,} documents, median of {len(rounds)} round(s); rate = items per wall second "
        "(CPU second); `x` = the store's speed over PouchDB's, by wall (CPU) time",
        "",
        "| operation | store (file) | store (memory) | raw sqlite3 | PouchDB 9 | file/PouchDB | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for op in OPERATIONS:
        items = GETS if op == "get" else count
        cells = []
        for engine in ("store-file", "store-memory", "sqlite3", "pouchdb"):
            wall, cpu = _median(rounds, engine, f"{op}_s"), _median(rounds, engine, f"{op}_cpu_s")
            cells.append("–" if wall is None or cpu is None else f"{items / wall:,.0f} ({items / cpu:,.0f})")
        ratio = "–"
        store_wall, pouch_wall = _median(rounds, "store-file", f"{op}_s"), _median(rounds, "pouchdb", f"{op}_s")
        store_cpu, pouch_cpu = _median(rounds, "store-file", f"{op}_cpu_s"), _median(rounds, "pouchdb", f"{op}_cpu_s")
        if store_wall and pouch_wall and store_cpu and pouch_cpu:
            ratio = f"{pouch_wall / store_wall:.1f}x ({pouch_cpu / store_cpu:.1f}x)"
        target = f"≥ {TARGETS[op]}x" if op in TARGETS else ""
        lines.append(f"| {op} | {' | '.join(cells)} | {ratio} | {target} |")
    lag = _median(rounds, "store-file", "longest_loop_wait_ms")
    idle = _median(rounds, "store-file", "idle_loop_wait_ms")
    blocked = _median(rounds, "store-file", "longest_loop_blocked_ms")
    lines.append("")
    if lag is not None and idle is not None:
        lines.append(
            f"Longest event-loop wait during the store's bulk load (file): {lag:.0f} ms "
            f"(an idle loop, as long, on the same machine: {idle:.0f} ms)."
        )
    if blocked is not None:
        lines.append(
            f"Longest part of one wait the loop's thread was blocked, not queued for a CPU "
            f"(the GIL, I/O; on a loaded machine some of the load too): {blocked:.0f} ms."
        )
    here, thread = (
        _median(rounds, "store-file", "point_read_loop_us"),
        _median(rounds, "store-file", "point_read_thread_us"),
    )
    if here is not None and thread is not None:
        lines.append(
            f"One document read from SQLite: {here:.1f} µs on the loop, {thread:.1f} µs through a worker thread."
        )
    if growth is not None:
        lines.append(f"Peak memory growth streaming the attachment in and out: {growth / 2**20:.1f} MiB.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--attachment-mb", type=int, default=1024, help="0: skip the attachment")
    parser.add_argument("--no-pouchdb", action="store_true")
    parser.add_argument("--json", help="also write every round's figures to this file")
    args = parser.parse_args()
    rounds = []
    for n in range(args.rounds):
        print(f"round {n + 1} of {args.rounds}", file=sys.stderr, flush=True)
        rounds.append(one_round(args.docs, not args.no_pouchdb))
    growth = None
    if args.attachment_mb:
        directory = tempfile.mkdtemp(prefix="embedded-bench-attachment-")
        try:
            growth = attachment_growth(directory, args.attachment_mb)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    print(report(rounds, args.docs, growth))
    if args.json:
        Path(args.json).write_text(json.dumps({"docs": args.docs, "rounds": rounds, "attachment_growth": growth}))


if __name__ == "__main__":
    main()
