"""The embedded store's query side against PouchDB 9 and Apache CouchDB 3.5, side by side in one run.

    .venv/bin/python benchmarks/query_side.py [--docs 100000] [--couchdb URL] [--no-pouchdb]

What is timed, on ``--docs`` documents of about 200 bytes (the same in every
engine), each engine loaded first and the load not counted:

- view build: the first query of a new view ``emit(doc.type, 1)`` (limit=1);
- Mango: ``_index`` on one field, then the first ``_find`` that uses it;
- incremental view update: 1,000 documents changed, then the query (the
  store only; median of three rounds).

PouchDB 9 (leveldb) runs under Node from ``benchmarks/pouchdb`` (``npm ci``
there on first use); Apache CouchDB is ``--couchdb`` (default: the
``COUCHDB_URL`` environment variable), skipped when unreachable. The store
runs on a directory (``file://``) and reports wall and CPU seconds, and the
longest the event loop waited during the view build (and the longest part of
one wait it was blocked rather than queueing for a CPU: the GIL, I/O).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from wallaby.backends.couchdb.aio import Server

sys.path.insert(0, str(Path(__file__).parent))
from sample_docs import Ticker, doc, load  # noqa: E402

HERE = Path(__file__).parent
MAP = "function (doc) { emit(doc.type, 1); }"


async def timed(coro: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await coro
    return time.perf_counter() - wall, time.process_time() - cpu


async def store(count: int) -> dict[str, Any]:
    directory = tempfile.mkdtemp(prefix="query-bench-")
    server = Server(f"file://{directory}")
    try:
        views = server.database("views")
        await views.create()
        await load(views, count)
        await views.save({"_id": "_design/d", "views": {"by_type": {"map": MAP}}})
        ticker = Ticker()
        ticker.start()
        wall, cpu = await timed(views.view("d/by_type", limit=1))
        ticker.stop()
        rounds = []
        for r in range(3):
            changed = [doc(i) | {"n": -i - r} for i in range(r * 1000, (r + 1) * 1000)]
            current = await views.all_docs(keys=[d["_id"] for d in changed])
            for d, row in zip(changed, current, strict=True):
                d["_rev"] = row["value"]["rev"]
            await views.save({"docs": changed})
            rounds.append((await timed(views.view("d/by_type", limit=1)))[0])
        mango = server.database("mango")
        await mango.create()
        await load(mango, count)

        async def index_and_find() -> None:
            await mango.create_index(["type"])
            await mango.find({"type": "type3"}, limit=1)

        mango_wall, mango_cpu = await timed(index_and_find())
        return {
            "view_build_s": wall,
            "view_build_cpu_s": cpu,
            "longest_loop_wait_ms": ticker.longest,
            "longest_loop_blocked_ms": ticker.longest_blocked,
            "incremental_1000_s": statistics.median(rounds),
            "mango_index_and_find_s": mango_wall,
            "mango_index_and_find_cpu_s": mango_cpu,
        }
    finally:
        await server.close()
        shutil.rmtree(directory, ignore_errors=True)


def couchdb_cpu() -> float | None:
    """CPU seconds used so far by the local CouchDB (its Erlang VM and JavaScript processes), if found.

    The server may be shared: others' requests count too, so read it as an upper bound.
    """
    total = 0.0
    found = False
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if b"couchdb_5984@" in cmdline or b"couchjs" in cmdline:
            found = True
            total += (int(stat[11]) + int(stat[12])) / tick
    return total if found else None


async def couchdb(url: str, count: int) -> dict[str, Any] | None:
    server = Server(url)
    try:
        await server.info()
    except Exception as exc:  # not there: the comparison is skipped
        print(f"couchdb: skipped ({exc})", file=sys.stderr)
        await server.close()
        return None
    name = f"query-bench-{uuid.uuid4().hex[:8]}"
    views = server.database(name)
    mango = server.database(name + "-mango")
    try:
        await views.create()
        await load(views, count)
        await views.save({"_id": "_design/d", "views": {"by_type": {"map": MAP}}})
        before = couchdb_cpu()
        wall, _ = await timed(views.view("d/by_type", limit=1))
        after = couchdb_cpu()
        await mango.create()
        await load(mango, count)

        async def index_and_find() -> None:
            await mango.create_index(["type"])
            await mango.find({"type": "type3"}, limit=1)

        mango_before = couchdb_cpu()
        mango_wall, _ = await timed(index_and_find())
        mango_after = couchdb_cpu()
        result: dict[str, Any] = {"view_build_s": wall, "mango_index_and_find_s": mango_wall}
        if before is not None and after is not None and mango_before is not None and mango_after is not None:
            result["view_build_cpu_s"] = after - before
            result["mango_index_and_find_cpu_s"] = mango_after - mango_before
        return result
    finally:
        for db in (views, mango):
            try:
                await db.destroy()
            except Exception:
                pass
        await server.close()


def pouchdb(count: int) -> dict[str, Any] | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("pouchdb: skipped (no node/npm)", file=sys.stderr)
        return None
    folder = HERE / "pouchdb"
    if not (folder / "node_modules" / "pouchdb").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
    directory = tempfile.mkdtemp(prefix="pouch-bench-")
    try:
        out = subprocess.run(
            ["node", "query_side.js", str(count), directory], cwd=folder, check=True, capture_output=True, text=True
        )
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--couchdb", default=os.environ.get("COUCHDB_URL", "http://admin:pass@127.0.0.1:5984"))
    parser.add_argument("--no-pouchdb", action="store_true")
    parser.add_argument("--no-couchdb", action="store_true")
    args = parser.parse_args()
    count = args.docs
    results: dict[str, Any] = {"docs": count, "store": asyncio.run(store(count))}
    if not args.no_couchdb:
        results["couchdb"] = asyncio.run(couchdb(args.couchdb, count))
    if not args.no_pouchdb:
        results["pouchdb"] = pouchdb(count)
    s = results["store"]
    print(f"docs: {count}")
    print(
        f"store   view build {s['view_build_s']:.2f} s ({count / s['view_build_s']:,.0f} docs/s, "
        f"cpu {s['view_build_cpu_s']:.2f} s, loop waited at most {s['longest_loop_wait_ms']:.0f} ms, "
        f"blocked at most {s['longest_loop_blocked_ms'] or 0:.0f} ms); "
        f"Mango index+find {s['mango_index_and_find_s']:.2f} s ({count / s['mango_index_and_find_s']:,.0f} docs/s); "
        f"1,000 changes then query {s['incremental_1000_s'] * 1000:.0f} ms"
    )
    for name in ("couchdb", "pouchdb"):
        other = results.get(name)
        if not other:
            continue
        line = (
            f"{name:7} view build {other['view_build_s']:.2f} s ({count / other['view_build_s']:,.0f} docs/s), "
            f"store is {other['view_build_s'] / s['view_build_s']:.1f}x; Mango index+find "
            f"{other['mango_index_and_find_s']:.2f} s, store is "
            f"{other['mango_index_and_find_s'] / s['mango_index_and_find_s']:.1f}x"
        )
        if "view_build_cpu_s" in other:
            line += (
                f"; by CPU time: view {other['view_build_cpu_s'] / s['view_build_cpu_s']:.1f}x, "
                f"Mango {other['mango_index_and_find_cpu_s'] / s['mango_index_and_find_cpu_s']:.1f}x"
            )
        print(line)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
