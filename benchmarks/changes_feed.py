"""Changes consumed per second from a 100,000-change feed, against raw aiohttp+orjson.

    benchmarks/.venv/bin/python benchmarks/changes_feed.py [--changes 100000] [--repeat 3]

Starts a PouchDB Server in memory (or uses COUCHDB_URL), fills one database,
then reads its whole continuous feed from ``since=0`` in a fresh process per
run, interleaving the clients: raw aiohttp+orjson (readline + loads per line),
this library's asyncio flavour (``async for change in db.follow()``) and its
Twisted flavour (the same, on Twisted's default reactor). It prints the median
rate of each and the ratio to raw within each round, then the memory a
follower holds (tracemalloc peak) while a slow consumer lags far behind.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = ("raw-aiohttp", "aio", "twisted")


# --- one run, in its own process ------------------------------------------------


async def _raw(url: str, db: str, count: int) -> int:
    import aiohttp
    import orjson

    seen = 0
    async with aiohttp.ClientSession(skip_auto_headers=("Accept-Encoding",)) as session:
        target = f"{url}/{db}/_changes?feed=continuous&since=0&heartbeat=10000"
        async with session.get(target, headers={"Accept": "application/json"}) as response:
            async for line in response.content:
                if line.strip():
                    row = orjson.loads(line)
                    if "seq" in row and "id" in row:
                        seen += 1
                        if seen == count:
                            break
    return seen


async def _follow(module, url: str, db: str, count: int) -> int:
    database = module.Database(db, url=url)
    seen = 0
    async with database.follow(since=0, limit=count) as feed:
        async for _change in feed:
            seen += 1
    await database.close()
    return seen


async def _lagging(module, url: str, db: str, count: int, sleep) -> dict:
    """Consume slowly (a pause every 100 changes) and watch what the process holds."""
    import tracemalloc

    database = module.Database(db, url=url)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    seen = 0
    started = time.monotonic()
    async with database.follow(since=0) as feed:
        async for _change in feed:
            seen += 1
            if seen % 100 == 0:
                await sleep(0.01)
            if seen == count or time.monotonic() - started > 5:
                break
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    await database.close()
    return {"consumed": seen, "peak_bytes": peak}


def run_one(client: str, url: str, db: str, count: int, lag: bool) -> dict:
    started_cpu = time.process_time()
    started = time.perf_counter()
    if client == "twisted":
        from twisted.internet import defer, task

        import wallaby.backends.couchdb as module

        result: dict = {}

        async def main(reactor) -> None:
            async def sleep(seconds: float) -> None:
                await task.deferLater(reactor, seconds)

            if lag:
                result.update(await _lagging(module, url, db, count, sleep))
            else:
                result["seen"] = await _follow(module, url, db, count)

        from twisted.internet import reactor

        failures: list = []

        def start() -> None:
            done = defer.Deferred.fromCoroutine(main(reactor))
            done.addErrback(failures.append)
            done.addBoth(lambda _: reactor.stop())

        reactor.callWhenRunning(start)
        reactor.run()
        if failures:
            failures[0].raiseException()
        seen = result.get("seen")
    else:
        import asyncio

        if client == "raw-aiohttp":
            seen = asyncio.run(_raw(url, db, count))
            result = {}
        else:
            import wallaby.backends.couchdb.aio as module

            if lag:
                result = asyncio.run(_lagging(module, url, db, count, asyncio.sleep))
                seen = None
            else:
                seen = asyncio.run(_follow(module, url, db, count))
                result = {}
    elapsed = time.perf_counter() - started
    result.update({"client": client, "seconds": elapsed, "cpu": time.process_time() - started_cpu, "seen": seen})
    return result


# --- the orchestra ----------------------------------------------------------------


def fill(url: str, db: str, count: int) -> None:
    import urllib.request

    import orjson

    def call(method: str, path: str, body: object = None) -> object:
        data = orjson.dumps(body) if body is not None else None
        request = urllib.request.Request(url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=120) as answer:
            return orjson.loads(answer.read())

    call("PUT", f"/{db}")
    for start in range(0, count, 1000):
        docs = [{"_id": f"doc{n:07}", "n": n, "kind": "bench"} for n in range(start, min(count, start + 1000))]
        call("POST", f"/{db}/_bulk_docs", {"docs": docs})


def spawn(client: str, url: str, db: str, count: int, lag: bool = False) -> dict:
    command = [sys.executable, __file__, "--run", client, "--url", url, "--db", db, "--changes", str(count)]
    if lag:
        command.append("--lag")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run", choices=CLIENTS)
    parser.add_argument("--url")
    parser.add_argument("--db")
    parser.add_argument("--lag", action="store_true")
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_one(args.run, args.url, args.db, args.changes, args.lag)))
        return

    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    from wallaby.backends.couchdb.testing import PouchDBServer

    server = None
    url = os.environ.get("COUCHDB_URL")
    if not url:
        server = PouchDBServer()
        url = server.start()
    db = f"bench-changes-{uuid.uuid4().hex[:8]}"
    try:
        started = time.perf_counter()
        fill(url, db, args.changes)
        print(
            f"filled {db} with {args.changes} docs in {time.perf_counter() - started:.1f}s ({url.rpartition('@')[2]})"
        )
        rates: dict[str, list[float]] = {client: [] for client in CLIENTS}
        ratios: dict[str, list[float]] = {client: [] for client in CLIENTS}
        for round_ in range(args.repeat):
            order = CLIENTS[round_ % len(CLIENTS) :] + CLIENTS[: round_ % len(CLIENTS)]
            results = {client: spawn(client, url, db, args.changes) for client in order}
            for client, result in results.items():
                assert result["seen"] == args.changes, result
                rates[client].append(args.changes / result["seconds"])
            for client in CLIENTS:
                ratios[client].append(rates[client][-1] / rates["raw-aiohttp"][-1])
        print(f"\n{'client':<14}{'changes/s (median)':>20}{'ratio to raw (per round)':>34}")
        for client in CLIENTS:
            per_round = ", ".join(f"{r:.2f}" for r in ratios[client])
            print(f"{client:<14}{statistics.median(rates[client]):>20,.0f}{per_round:>34}")
        print("\nslow consumer (a 10 ms pause every 100 changes, 5 s), what the process held at the peak:")
        for client in ("aio", "twisted"):
            result = spawn(client, url, db, args.changes, lag=True)
            print(
                f"  {client:<10} consumed {result['consumed']:>7,}  "
                f"tracemalloc peak {result['peak_bytes'] / 1e6:6.2f} MB"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
