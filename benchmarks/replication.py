"""Replication benchmark: this library's replicator, the server's own ``_replicate`` and PouchDB 9, in one run.

    ./dev bench-replication [--docs 100000] [--repeat 2] [--no-pouchdb] [--json FILE]

100,000 documents of about 200 bytes sit in a database of the server (a
PouchDB Server started here, or the CouchDB that COUCHDB_URL names; the run
creates and deletes its own ``bench-repl-*`` databases there). Each round
replicates them:

- server to server: this library (the asyncio flavour), the server's own
  ``POST /_replicate``, and PouchDB (http to http);
- pull from the server into the embedded store (``memory://`` and
  ``file://``), and PouchDB into leveldb;
- push from the embedded store to the server, and PouchDB from leveldb;
- embedded store to embedded store, and PouchDB leveldb to leveldb;

then runs each of the library's replications again, when there is nothing
to do (the no-op re-run: its time and its requests). Every run of the
library is a fresh process (its peak resident memory is its own; the
documents of a pushed store are written before the clock starts). PouchDB
9.0.0 with leveldb is installed by this script into ``benchmarks/.pouchdb``
(git-ignored), never into the project's package.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
POUCHDB_DIR = os.path.join(HERE, ".pouchdb")
POUCHDB_VERSION = "9.0.0"
BATCH_SIZE = 500
IN_FLIGHT = 4


def say(text: str = "") -> None:
    print(text, flush=True)


def doc(n: int) -> dict[str, Any]:
    return {"_id": f"doc{n:06}", "n": n, "type": "item", "pad": "x" * 150}


# --- a worker: one replication by this library, in its own process -----------------------------


def resident() -> tuple[int, int]:
    """(peak, current) resident memory of this process, in bytes."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["VmHWM"].split()[0]) * 1024, int(fields["VmRSS"].split()[0]) * 1024


class Counting:
    """A Runtime that counts the requests it sends."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self.requests = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        self.requests += 1
        return await self._runtime.request(*args, **kwargs)


async def fill(db: Any, count: int) -> None:
    for start in range(0, count, 5000):
        await db.save({"docs": [doc(n) for n in range(start, min(count, start + 5000))]})


async def worker(options: argparse.Namespace) -> dict[str, Any]:
    from wallaby.backends.couchdb.aio import Database, replicate

    source = Database(options.source, url=options.source_url)
    target = Database(options.target, url=options.target_url)
    if options.fill:  # a store to push from, or to replicate between stores: written before the clock starts
        await source.create()
        await fill(source, options.fill)
    await target.create()
    await source.info()
    await target.info()
    rss_before = resident()[1]
    started = time.perf_counter()
    cpu = time.process_time()
    result = await replicate(source, target, batch_size=options.batch_size, batches_in_flight=options.in_flight)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = resident()[0]
    counters = [Counting(db._client.runtime) for db in (source, target)]
    for db, counter in zip((source, target), counters, strict=True):
        db._client.runtime = counter
    again = time.perf_counter()
    rerun = await replicate(source, target, batch_size=options.batch_size)
    noop = time.perf_counter() - again
    requests = counters[0].requests + counters[1].requests
    if options.fill:
        await source.destroy()
    if options.target_url.startswith(("memory:", "file:")):
        await target.destroy()
    await source.close()
    await target.close()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "docs_written": result.docs_written,
        "rss_growth": peak - rss_before,
        "noop_seconds": noop,
        "noop_requests": requests,
        "noop_docs_read": rerun.docs_read,
    }


def run_worker(**given: Any) -> dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--worker"]
    for name, value in given.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"worker failed: {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


# --- the server, its own _replicate, PouchDB -----------------------------------------------------


def http(method: str, url: str, body: Any = None, timeout: float = 3600) -> Any:
    """A JSON request with urllib (the server's _replicate is measured without this library in the way)."""
    import base64
    import urllib.request
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    request = urllib.request.Request(
        urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")),
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if parts.username:
        token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


def fill_server(url: str, name: str, count: int) -> None:
    http("PUT", f"{url}/{name}")
    for start in range(0, count, 5000):
        http("POST", f"{url}/{name}/_bulk_docs", {"docs": [doc(n) for n in range(start, min(count, start + 5000))]})


def server_replicate(url: str, source: str, target: str) -> dict[str, Any]:
    http("PUT", f"{url}/{target}")
    started = time.perf_counter()
    answer = http("POST", f"{url}/_replicate", {"source": f"{url}/{source}", "target": f"{url}/{target}"})
    seconds = time.perf_counter() - started
    history = (answer.get("history") or [{}])[0]
    again = time.perf_counter()
    http("POST", f"{url}/_replicate", {"source": f"{url}/{source}", "target": f"{url}/{target}"})
    return {
        "seconds": seconds,
        "docs_written": history.get("docs_written"),
        "noop_seconds": time.perf_counter() - again,
    }


def install_pouchdb() -> str | None:
    """``node_modules`` of PouchDB 9 in benchmarks/.pouchdb, installed on first use; None without npm."""
    modules = os.path.join(POUCHDB_DIR, "node_modules")
    if os.path.isdir(os.path.join(modules, "pouchdb")):
        return modules
    if shutil.which("npm") is None:
        return None
    say(f"installing PouchDB {POUCHDB_VERSION} into {POUCHDB_DIR}")
    os.makedirs(POUCHDB_DIR, exist_ok=True)
    with open(os.path.join(POUCHDB_DIR, "package.json"), "w") as file:
        json.dump({"private": True, "dependencies": {"pouchdb": POUCHDB_VERSION}}, file)
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=POUCHDB_DIR)
    return modules if done.returncode == 0 else None


def pouchdb(modules: str, mode: str, source: str, target: str, batch_size: int, fill_count: int) -> dict[str, Any]:
    script = os.path.join(HERE, "pouchdb_replicate.js")
    command = ["node", script, mode, source, target, str(batch_size), str(fill_count)]
    environment = {**os.environ, "NODE_PATH": modules}
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(command, capture_output=True, text=True, cwd=folder, env=environment)
    if done.returncode != 0:
        raise RuntimeError(f"pouchdb {mode} failed: {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


# --- the run ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--in-flight", type=int, default=IN_FLIGHT)
    parser.add_argument("--no-pouchdb", action="store_true", help="leave PouchDB out")
    parser.add_argument(
        "--pouchdb-batches", default="100,1000", help="PouchDB's batch sizes to run (comma-separated; 100,1000)"
    )
    parser.add_argument("--json", help="write every measurement to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("source", "source-url", "target", "target-url"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--fill", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(asyncio.run(worker(options))))
        return

    sys.path.insert(0, os.path.join(ROOT, "src"))
    from wallaby.backends.couchdb.testing import PouchDBServer

    process = None
    url = os.environ.get("COUCHDB_URL", "").rstrip("/")
    if not url:
        process = PouchDBServer()
        url = process.start()
    kind = "Apache CouchDB" if "couchdb" in http("GET", url + "/") else "PouchDB Server"
    version = http("GET", url + "/").get("version")
    modules = None if options.no_pouchdb else install_pouchdb()
    run = uuid.uuid4().hex[:8]
    source = f"bench-repl-src-{run}"
    say(f"server: {kind} {version}; {options.docs:,} documents of ~200 bytes; {options.repeat} rounds")
    say(f"machine: {machine()}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    fill_server(url, source, options.docs)
    folder = tempfile.mkdtemp(prefix="bench-repl-")
    results: dict[str, list[dict[str, Any]]] = {}
    pace = {"batch_size": options.batch_size, "in_flight": options.in_flight}

    def record(name: str, measured: dict[str, Any]) -> None:
        results.setdefault(name, []).append(measured)
        rate = options.docs / measured["seconds"]
        extra = f", {measured['rss_growth'] / 2**20:.0f} MiB" if "rss_growth" in measured else ""
        if "cpu_seconds" in measured:
            extra += f", client CPU {measured['cpu_seconds']:.2f} s"
        say(f"  {name:<44} {measured['seconds']:7.2f} s {rate:9,.0f} docs/s{extra}")

    try:
        for round_number in range(options.repeat):
            say(f"round {round_number + 1}")
            target = f"bench-repl-tgt-{uuid.uuid4().hex[:8]}"
            record(
                "wallaby: server -> server",
                run_worker(source=source, source_url=url, target=target, target_url=url, **pace),
            )
            http("DELETE", f"{url}/{target}")
            target = f"bench-repl-tgt-{uuid.uuid4().hex[:8]}"
            record("server's own _replicate", server_replicate(url, source, target))
            http("DELETE", f"{url}/{target}")
            for store in ("memory://bench", f"file://{folder}"):
                label = store.split(":", 1)[0]
                record(
                    f"wallaby: pull server -> store ({label})",
                    run_worker(source=source, source_url=url, target="pulled", target_url=store, **pace),
                )
            target = f"bench-repl-tgt-{uuid.uuid4().hex[:8]}"
            record(
                "wallaby: push store (memory) -> server",
                run_worker(
                    source="local",
                    source_url="memory://bench",
                    target=target,
                    target_url=url,
                    fill=options.docs,
                    **pace,
                ),
            )
            http("DELETE", f"{url}/{target}")
            for store in ("memory://bench", f"file://{folder}"):
                label = store.split(":", 1)[0]
                record(
                    f"wallaby: store -> store ({label})",
                    run_worker(source="a", source_url=store, target="b", target_url=store, fill=options.docs, **pace),
                )
            if modules is not None:
                for batch in (int(size) for size in options.pouchdb_batches.split(",")):
                    target = f"bench-repl-tgt-{uuid.uuid4().hex[:8]}"
                    http("PUT", f"{url}/{target}")
                    record(
                        f"PouchDB: server -> server (batch {batch})",
                        pouchdb(modules, "remote", f"{url}/{source}", f"{url}/{target}", batch, 0),
                    )
                    http("DELETE", f"{url}/{target}")
                    record(
                        f"PouchDB: pull server -> leveldb (batch {batch})",
                        pouchdb(modules, "pull", f"{url}/{source}", "pulled", batch, 0),
                    )
                    target = f"bench-repl-tgt-{uuid.uuid4().hex[:8]}"
                    http("PUT", f"{url}/{target}")
                    record(
                        f"PouchDB: push leveldb -> server (batch {batch})",
                        pouchdb(modules, "push", "local", f"{url}/{target}", batch, options.docs),
                    )
                    http("DELETE", f"{url}/{target}")
                    record(
                        f"PouchDB: leveldb -> leveldb (batch {batch})",
                        pouchdb(modules, "local", "a", "b", batch, options.docs),
                    )
    finally:
        try:
            http("DELETE", f"{url}/{source}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if process is not None:
                process.stop()
    report(results, options.docs)
    if options.json:
        with open(options.json, "w") as file:
            json.dump({"docs": options.docs, "server": f"{kind} {version}", "results": results}, file, indent=1)


def report(results: dict[str, list[dict[str, Any]]], docs: int) -> None:
    reference = results.get("server's own _replicate")
    base = statistics.median(m["seconds"] for m in reference) if reference else None
    say()
    say(
        "| replication | docs/s (median) | each round | vs server's _replicate | client CPU (docs per CPU s)"
        " | peak RSS growth | no-op re-run |"
    )
    say("|---|---:|---|---:|---:|---:|---|")
    for name, runs in results.items():
        seconds = statistics.median(m["seconds"] for m in runs)
        rounds = ", ".join(f"{docs / m['seconds'] / 1000:.1f}k" for m in runs)
        ratio = f"{base / seconds:.1f}x" if base else ""
        memory = (
            f"{statistics.median(m['rss_growth'] for m in runs) / 2**20:.0f} MiB" if "rss_growth" in runs[0] else ""
        )
        cpu = ""
        if "cpu_seconds" in runs[0]:
            cpu_seconds = statistics.median(m["cpu_seconds"] for m in runs)
            cpu = f"{cpu_seconds:.2f} s ({docs / cpu_seconds / 1000:.0f}k/s)"
        noop = f"{statistics.median(m['noop_seconds'] for m in runs) * 1000:.0f} ms"
        if "noop_requests" in runs[0]:
            noop += f", {max(m['noop_requests'] for m in runs)} requests"
        say(f"| {name} | {docs / seconds:,.0f} | {rounds} | {ratio} | {cpu} | {memory} | {noop} |")


if __name__ == "__main__":
    main()
