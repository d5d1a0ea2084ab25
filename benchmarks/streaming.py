"""Streamed reads in bounded memory: a 1,000,000-row _all_docs and a 1 GB attachment.

    benchmarks/.venv/bin/python benchmarks/streaming.py [--rows 1000000] [--attachment-mb 1024] [--repeat 3]

Starts a PouchDB Server on disk (in memory it cannot hold a 1 GB attachment),
or uses COUCHDB_URL; fills one database; then in a fresh process per run,
interleaved:

- rows: this library's ``stream_all_docs()`` in both flavours against raw
  aiohttp+orjson reading the same answer whole (``orjson.loads(await
  response.read())``, what a client without a streaming parser does);
- attachment down: ``stream_attachment()`` in both flavours against raw
  aiohttp reading the same body in 64 KiB chunks;
- attachment up: ``put_attachment()`` from an async generator of 64 KiB
  chunks, both flavours, against raw aiohttp posting the same generator.

For each it prints the median rate, the ratio to raw per round, and the
growth of the process's peak RSS over its size before the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 64 * 1024


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): a child's ru_maxrss starts at its parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _chunks(total: int):
    block = os.urandom(CHUNK)
    sent = 0
    while sent < total:
        piece = block[: min(CHUNK, total - sent)]
        sent += len(piece)
        yield piece


# --- one run, in its own process ------------------------------------------------


async def raw_run(workload: str, url: str, db: str, size: int) -> int:
    import aiohttp
    import orjson

    async with aiohttp.ClientSession(skip_auto_headers=("Accept-Encoding",)) as session:
        if workload == "rows":
            async with session.get(f"{url}/{db}/_all_docs", headers={"Accept": "application/json"}) as response:
                return len(orjson.loads(await response.read())["rows"])
        if workload == "down":
            seen = 0
            async with session.get(f"{url}/{db}/blob/big.bin") as response:
                async for chunk in response.content.iter_chunked(CHUNK):
                    seen += len(chunk)
            return seen
        async with session.get(f"{url}/{db}/up-raw") as response:
            rev = (await response.json(content_type=None)).get("_rev") if response.status == 200 else None
        target = f"{url}/{db}/up-raw/big.bin" + (f"?rev={rev}" if rev else "")
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        async with session.put(target, data=_chunks(size), headers=headers) as response:
            assert response.status in (200, 201), await response.text()
        return size


async def library_run(module, workload: str, url: str, db: str, size: int) -> int:
    async with module.Database(db, url=url) as database:
        if workload == "rows":
            count = 0
            async with database.stream_all_docs() as rows:
                async for _row in rows:
                    count += 1
            return count
        if workload == "down":
            seen = 0
            async with database.stream_attachment("blob", "big.bin") as chunks:
                async for chunk in chunks:
                    seen += len(chunk)
            return seen
        docid = f"up-{module.__name__.rsplit('.', 1)[-1]}"
        try:
            doc = await database.get(docid)
        except module.NotFound:
            doc = {"_id": docid}
        await database.put_attachment(doc, "big.bin", _chunks(size), length=size)
        return size


def run_one(client: str, workload: str, url: str, db: str, size: int) -> dict:
    import asyncio

    base = peak_rss_mb()
    started_cpu = time.process_time()
    started = time.perf_counter()
    if client == "raw-aiohttp":
        result = asyncio.run(raw_run(workload, url, db, size))
    elif client == "aio":
        import wallaby.backends.couchdb.aio as module

        result = asyncio.run(library_run(module, workload, url, db, size))
    else:
        from twisted.internet import defer, reactor

        import wallaby.backends.couchdb as module

        box: list = []

        def start() -> None:
            done = defer.Deferred.fromCoroutine(library_run(module, workload, url, db, size))
            done.addBoth(box.append)
            done.addBoth(lambda _: reactor.stop())

        reactor.callWhenRunning(start)
        reactor.run()
        result = box[0]
        if not isinstance(result, int):
            result.raiseException()
    return {
        "result": result,
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - started_cpu,
        "rss_growth_mb": peak_rss_mb() - base,
    }


# --- the orchestra ----------------------------------------------------------------


def fill(url: str, db: str, rows: int, attachment: int) -> None:
    import asyncio

    import wallaby.backends.couchdb.aio as module

    async def go() -> None:
        async with module.Server(url) as server:
            database = await server.create(db)
            # the attachment first: PouchDB Server holds a whole attachment in its JS heap
            # and runs out of it past ~100 MB (1 GB needs Apache CouchDB: COUCHDB_URL)
            await database.put_attachment({"_id": "blob"}, "big.bin", _chunks(attachment), length=attachment)
            for start in range(0, rows, 5000):
                await database.save(
                    {"docs": [{"_id": f"r{n:08}", "n": n} for n in range(start, min(rows, start + 5000))]}
                )

    asyncio.run(go())


def spawn(client: str, workload: str, url: str, db: str, size: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--run",
        client,
        "--workload",
        workload,
        "--url",
        url,
        "--db",
        db,
        "--size",
        str(size),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{client} {workload} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--attachment-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run")
    parser.add_argument("--workload")
    parser.add_argument("--url")
    parser.add_argument("--db")
    parser.add_argument("--size", type=int)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(args.run, args.workload, args.url, args.db, args.size)))
        return

    from wallaby.backends.couchdb.testing import PouchDBServer

    attachment = args.attachment_mb * 1024 * 1024
    server = None
    url = os.environ.get("COUCHDB_URL")
    data_dir = tempfile.mkdtemp(prefix="bench-pouchdb-")
    if not url:
        server = PouchDBServer(data_dir=data_dir, start_timeout=60)
        url = server.start()
    db = f"bench-stream-{uuid.uuid4().hex[:8]}"
    try:
        started = time.perf_counter()
        fill(url, db, args.rows, attachment)
        print(
            f"filled {db}: {args.rows:,} docs and a {args.attachment_mb} MB attachment "
            f"in {time.perf_counter() - started:.0f}s"
        )
        clients = ("raw-aiohttp", "aio", "twisted")
        plans = (("rows", args.rows, "rows/s"), ("down", attachment, "MB/s"), ("up", attachment, "MB/s"))
        for workload, size, unit in plans:
            rates: dict[str, list[float]] = {c: [] for c in clients}
            growth: dict[str, list[float]] = {c: [] for c in clients}
            for round_ in range(args.repeat):
                order = clients[round_ % 3 :] + clients[: round_ % 3]
                for client in order:
                    result = spawn(client, workload, url, db, size)
                    amount = result["result"] / (1024 * 1024) if unit == "MB/s" else result["result"]
                    rates[client].append(amount / result["seconds"])
                    growth[client].append(result["rss_growth_mb"])
            print(f"\n{workload} ({size:,} {'rows' if unit == 'rows/s' else 'bytes'})")
            print(f"  {'client':<12}{unit + ' (median)':>18}{'ratio to raw per round':>30}{'peak RSS growth MB':>22}")
            for client in clients:
                ratios = ", ".join(f"{a / b:.2f}" for a, b in zip(rates[client], rates["raw-aiohttp"], strict=False))
                print(
                    f"  {client:<12}{statistics.median(rates[client]):>18,.1f}{ratios:>30}"
                    f"{statistics.median(growth[client]):>22,.1f}"
                )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
