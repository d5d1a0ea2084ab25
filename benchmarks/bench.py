"""The benchmark suite: this library against raw aiohttp+orjson and the other Python clients.

    ./dev bench [--quick] [--clients a,b] [--workloads a,b] [--repeat N] [--requests N] ...

(``./dev bench`` sets up benchmarks/.venv and nginx, then runs this file.)

Every (client, workload) run is a fresh process (worker.py). Each round runs
every workload for every client, the clients in a rotating order; a round's
ratios compare each client with raw aiohttp+orjson measured in that same
round. The table gives medians over rounds and every round's ratio.

Servers: a PouchDB Server started here (or the CouchDB that COUCHDB_URL
names; the suite creates and deletes its own ``bench-*`` databases there) and
an nginx answering a canned ~1 KB document (nginx.conf), on which only the
client's own cost shows.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import profiling  # noqa: E402
from clients import CLIENTS, DESIGN, VIEW, split_url  # noqa: E402
from workloads import BY_NAME, VIEW_MAP, WORKLOADS, doc_1k, small_doc  # noqa: E402

RAW = "raw-aiohttp"
FULL = {"requests": 3000, "docs": 100_000, "attachment_mb": 50, "repeat": 3}
QUICK = {"requests": 400, "docs": 2000, "attachment_mb": 5, "repeat": 1}
GROUPS = {
    "couch": [w.name for w in WORKLOADS if w.server == "couch"],
    "nginx": [w.name for w in WORKLOADS if w.server == "nginx"],
    "getput": ["get-1", "get-32", "put-1", "put-32"],
    "all": [w.name for w in WORKLOADS],
}


def say(text: str = "") -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- servers -------------------------------------------------------------------------------


class Nginx:
    """nginx from nginx.conf on a free loopback port, in the foreground, stopped at the end."""

    def __init__(self) -> None:
        self.binary = shutil.which("nginx") or next(
            (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
        )
        self.process: subprocess.Popen | None = None
        self.prefix: str | None = None

    def start(self) -> str:
        if self.binary is None:
            raise RuntimeError("nginx not found (./dev bench installs it with apt-get)")
        self.port = free_port()
        self.prefix = tempfile.mkdtemp(prefix="bench-nginx-")
        os.chmod(self.prefix, 0o755)  # nginx's workers may run as another user
        os.makedirs(os.path.join(self.prefix, "www"))
        os.makedirs(os.path.join(self.prefix, "tmp"))
        shutil.copy(os.path.join(HERE, "canned.json"), os.path.join(self.prefix, "www", "canned.json"))
        with open(os.path.join(HERE, "nginx.conf")) as template:
            conf = template.read().replace("@PREFIX@", self.prefix).replace("@PORT@", str(self.port))
        conf_path = os.path.join(self.prefix, "nginx.conf")
        with open(conf_path, "w") as out:
            out.write(conf)
        error_log = os.path.join(self.prefix, "error.log")
        self.process = subprocess.Popen(
            [self.binary, "-p", self.prefix, "-e", error_log, "-c", conf_path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode(errors='replace')[-1000:]}")
            try:
                with urllib.request.urlopen(url + "/bench/canned", timeout=1) as answer:
                    answer.read()
                return url
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not answer in 10 s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.prefix:
            shutil.rmtree(self.prefix, ignore_errors=True)


class Couch:
    """Set-up requests to the CouchDB-compatible server, with the standard library (never timed)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.base, user, password = split_url(url)
        self.auth = None
        if user:
            self.auth = "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode()

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> object:
        if body is not None:
            data = json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", content_type)
        request.add_header("Accept", "application/json")
        if self.auth:
            request.add_header("Authorization", self.auth)
        with urllib.request.urlopen(request, timeout=3600) as answer:
            return json.loads(answer.read() or b"null")

    def create(self, db: str) -> None:
        self.call("PUT", f"/{db}")
        self.call("PUT", f"/{db}/warm", {"warm": True})

    def delete(self, db: str) -> None:
        try:
            self.call("DELETE", f"/{db}")
        except (urllib.error.HTTPError, OSError):
            pass

    def bulk(self, db: str, docs: list, batch: int = 1000) -> None:
        for start in range(0, len(docs), batch):
            self.call("POST", f"/{db}/_bulk_docs", {"docs": docs[start : start + batch]})


# --- runs --------------------------------------------------------------------------------------


def spawn(spec: dict, timeout: float) -> dict:
    python = sys.executable
    try:
        done = subprocess.run(
            [python, os.path.join(HERE, "worker.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result in {timeout:.0f} s", "missing": False}
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {done.returncode}: {' | '.join(tail)}", "missing": False}
    return result


def check_clients(names: list[str], timeout: float) -> dict[str, str | None]:
    """Which clients import here: None, or why not."""
    code = (
        "import importlib, json, sys\n"
        "mods = {'raw-aiohttp': ['aiohttp', 'orjson'], 'wallaby-aio': ['wallaby.backends.couchdb.aio'],\n"
        " 'wallaby-twisted': ['wallaby.backends.couchdb.tx'], 'wallaby-twisted-aio': ['wallaby.backends.couchdb.tx'],\n"
        " 'floor-aio': ['httptools', 'orjson'], 'floor-twisted': ['httptools', 'orjson', 'twisted'],\n"
        " 'floor-twisted-aio': ['httptools', 'orjson', 'twisted'], 'aiocouch': ['aiocouch'],\n"
        " 'ibmcloudant': ['ibmcloudant.cloudant_v1'], 'couchdb-python': ['couchdb']}\n"
        "out = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        [importlib.import_module(m) for m in mods[name]]\n"
        "        out[name] = None\n"
        "    except Exception as exc:\n"
        "        out[name] = f'{type(exc).__name__}: {exc}'\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(names)], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(couch: Couch, workloads: list, args: argparse.Namespace, tag: str) -> dict[str, str]:
    """The shared databases the read workloads need; returns kind -> db name."""
    dbs: dict[str, str] = {}
    kinds = {w.db for w in workloads if w.server == "couch"}
    if "get" in kinds:
        db = dbs["get"] = f"bench-get-{tag}"
        couch.create(db)
        count = max(1, min(args.get_docs, args.requests))
        couch.bulk(db, [doc_1k(f"get{n:06}", n) for n in range(count)])
        say(f"  {db}: {count:,} docs of ~1 KB")
    if "read" in kinds:
        db = dbs["read"] = f"bench-read-{tag}"
        couch.create(db)
        started = time.perf_counter()
        couch.bulk(db, [small_doc(n) for n in range(args.docs)], args.batch)
        couch.call("PUT", f"/{db}/_design/{DESIGN}", {"views": {VIEW: {"map": VIEW_MAP}}})
        couch.call("GET", f"/{db}/_design/{DESIGN}/_view/{VIEW}?limit=1")  # build the index now, untimed
        say(f"  {db}: {args.docs:,} docs and a view, indexed ({time.perf_counter() - started:.1f} s)")
    if "att" in kinds:
        db = dbs["att"] = f"bench-att-{tag}"
        couch.create(db)
        couch.call(
            "PUT",
            f"/{db}/att/blob",
            data=os.urandom(args.attachment_mb * 1_000_000),
            content_type="application/octet-stream",
        )
        say(f"  {db}: a {args.attachment_mb} MB attachment")
    return dbs


def run_all(args: argparse.Namespace, clients: list[str], workloads: list) -> list[dict]:
    tag = uuid.uuid4().hex[:8]
    results: list[dict] = []
    broken: dict[str, str] = {}
    nginx = couch = pouch = None
    shared: dict[str, str] = {}
    try:
        servers = {w.server for w in workloads}
        nginx_url = couch_url = None
        if "nginx" in servers:
            nginx = Nginx()
            try:
                nginx_url = nginx.start()
                say(f"nginx {nginx_url} (canned answers)")
            except (RuntimeError, OSError) as exc:
                say(f"nginx unavailable, its workloads are skipped: {exc}")
                workloads = [w for w in workloads if w.server != "nginx"]
        if "couch" in servers:
            couch_url = os.environ.get("COUCHDB_URL")
            if not couch_url:
                sys.path.insert(0, os.path.join(ROOT, "src"))
                from wallaby.backends.couchdb.testing import PouchDBServer

                os.chdir(ROOT)  # PouchDBServer finds node_modules/.bin from here
                pouch = PouchDBServer()
                couch_url = pouch.start()
                say(f"PouchDB Server {couch_url} (in memory)")
            else:
                say(f"CouchDB from COUCHDB_URL: {split_url(couch_url)[0]}")
            couch = Couch(couch_url)
            shared = prepare(couch, workloads, args, tag)
        run_number = 0
        for round_ in range(args.repeat):
            say(f"round {round_ + 1}/{args.repeat}")
            for index, workload in enumerate(workloads):
                shift = (round_ + index) % len(clients)
                order = clients[shift:] + clients[:shift]
                line = []
                for client in order:
                    if client in broken:
                        continue
                    run_number += 1
                    spec = {
                        "client": client,
                        "workload": workload.name,
                        "count": args.docs if workload.op == "bulk" else args.requests,
                        "get_docs": args.get_docs,
                        "batch": args.batch,
                        "attachment_bytes": args.attachment_mb * 1_000_000,
                        "tag": f"{tag}-{run_number}",
                    }
                    fresh = None
                    if workload.server == "nginx":
                        spec["url"], spec["db"] = nginx_url, "bench"
                    else:
                        spec["url"] = couch_url
                        if workload.db == "fresh":
                            fresh = spec["db"] = f"bench-run-{tag}-{run_number}"
                            couch.create(fresh)
                        else:
                            spec["db"] = shared[workload.db]
                    if args.profile:
                        result, profile = profiling.spawn_profiled(spec, args.timeout)
                        result["profile"] = profile
                    else:
                        result = spawn(spec, args.timeout)
                    if fresh:
                        couch.delete(fresh)
                    if "error" in result:
                        if result.get("missing"):
                            broken[client] = result["error"]
                            say(f"  {client} cannot run here, left out: {result['error']}")
                        else:
                            say(f"  {client} failed on {workload.name}: {result['error']}")
                        continue
                    result["round"] = round_
                    results.append(result)
                    line.append(f"{client} {result['seconds']:.2f}s")
                say(f"  {workload.name:<13} " + ", ".join(line))
        return results
    finally:
        if couch is not None and os.environ.get("COUCHDB_URL"):
            for db in shared.values():
                couch.delete(db)
        if pouch is not None:
            pouch.stop()
        if nginx is not None:
            nginx.stop()


# --- the table ---------------------------------------------------------------------------------


def _rate_unit(unit: str) -> str:
    return {"req": "req/s", "docs": "docs/s", "rows": "rows/s", "changes": "chg/s", "MB": "MB/s"}[unit]


def _cpu_unit(unit: str) -> str:
    return "per GB" if unit == "MB" else f"per 1k {unit}"


def _fmt_cpu(value: float) -> str:
    return f"{value:.3f}" if value >= 0.1 else f"{value:.3g}"


def _fmt_rate(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def summarise(results: list[dict], clients: list[str], workloads: list) -> dict:
    """Per workload and client: medians, and per-round ratios to raw."""
    table: dict = {}
    for workload in workloads:
        rows = {}
        raw_by_round = {r["round"]: r for r in results if r["workload"] == workload.name and r["client"] == RAW}
        for client in clients:
            runs = [r for r in results if r["workload"] == workload.name and r["client"] == client]
            if not runs:
                continue
            rate = [r["units"] / r["seconds"] for r in runs]
            cpu_per_k = [r["cpu"] / r["units"] * 1000 for r in runs]
            rate_ratio, cpu_ratio = [], []
            for r in runs:
                raw = raw_by_round.get(r["round"])
                if raw is not None:
                    rate_ratio.append((r["units"] / r["seconds"]) / (raw["units"] / raw["seconds"]))
                    cpu_ratio.append((r["cpu"] / r["units"]) / (raw["cpu"] / raw["units"]))
            rows[client] = {
                "seconds": statistics.median(r["seconds"] for r in runs),
                "rate": statistics.median(rate),
                "cpu_per_k": statistics.median(cpu_per_k),
                "rate_ratio": rate_ratio,
                "cpu_ratio": cpu_ratio,
                "peak_rss_mb": statistics.median(r["peak_rss_kb"] for r in runs) / 1024,
                "growth_mb": statistics.median(r["rss_growth_kb"] for r in runs) / 1024,
                "units": runs[0]["units"],
            }
        table[workload.name] = rows
    return table


def print_table(table: dict, workloads: list, args: argparse.Namespace) -> None:
    ratio_width = max(14, 6 * args.repeat + 2)
    for workload in workloads:
        rows = table.get(workload.name)
        if not rows:
            continue
        first = next(iter(rows.values()))
        units = first["units"]
        count = f"{units:,.0f} {workload.unit}" if workload.unit != "MB" else f"{units:,.0f} MB"
        say()
        say(
            f"{workload.name}: {workload.about} "
            f"({count}, {'nginx' if workload.server == 'nginx' else 'CouchDB server'})"
        )
        say(
            f"  {'client':<16}{'wall s':>8}{_rate_unit(workload.unit):>11}  {'x raw':<{ratio_width}}"
            f"{'CPU s ' + _cpu_unit(workload.unit):>18}  {'CPU x raw':<{ratio_width}}{'peak RSS':>9}{'growth':>8}"
        )
        for client, row in rows.items():
            rate_ratio = " ".join(f"{r:.2f}" for r in row["rate_ratio"]) or "-"
            cpu_ratio = " ".join(f"{r:.2f}" for r in row["cpu_ratio"]) or "-"
            say(
                f"  {client:<16}{row['seconds']:>8.2f}{_fmt_rate(row['rate']):>11}  {rate_ratio:<{ratio_width}}"
                f"{_fmt_cpu(row['cpu_per_k']):>18}  {cpu_ratio:<{ratio_width}}"
                f"{row['peak_rss_mb']:>7.0f}MB{row['growth_mb']:>6.0f}MB"
            )


def print_floor_markdown(table: dict, results: list[dict], workloads: list) -> None:
    """Each flavour's CPU per request on nginx as a ratio to its framework's protocol floor."""
    nginx = [w for w in workloads if w.server == "nginx" and w.name in table]
    pairs = [(client, floor) for client, floor in FLOORS.items() if any(client in table[w.name] for w in nginx)]
    if not nginx or not pairs:
        return
    say()
    say("Client CPU per request on nginx as a ratio to the floor of its framework (median of the per-round ratios):")
    say()
    say("| workload | " + " | ".join(f"{client} / {floor}" for client, floor in pairs) + " |")
    say("|---|" + "---|" * len(pairs))
    for w in nginx:
        cells = []
        for client, floor in pairs:
            value = _per_round_ratio(table, results, w.name, client, floor)
            cells.append(f"{value:.2f}x" if value is not None else "-")
        say(f"| {w.name} | " + " | ".join(cells) + " |")


def print_markdown(table: dict, clients: list[str], workloads: list) -> None:
    """Medians as Markdown: CPU on nginx, throughput and memory on the CouchDB server."""
    say()
    header = "| workload | " + " | ".join(clients) + " |"
    rule = "|---|" + "---|" * len(clients)

    def cells(workload: str, cell) -> str:
        rows = table.get(workload, {})
        return " | ".join(cell(rows[c]) if c in rows else "-" for c in clients)

    def ratio(values: list[float]) -> str:
        return f"{statistics.median(values):.2f}x" if values else "-"

    nginx = [w for w in workloads if w.server == "nginx" and w.name in table]
    if nginx:
        say("Client CPU seconds per 1,000 requests against nginx's canned answer (median), and its ratio to raw:")
        say()
        say(header)
        say(rule)
        for w in nginx:
            say(f"| {w.name} | " + cells(w.name, lambda r: f"{r['cpu_per_k']:.3f} s ({ratio(r['cpu_ratio'])})") + " |")
        say()
    couch = [w for w in workloads if w.server == "couch" and w.name in table]
    if couch:
        say(
            "Against the CouchDB server: raw's median rate, and each client's rate as a ratio to raw's "
            "(median of the per-round ratios; > 1 is faster):"
        )
        say()
        say(header)
        say(rule)
        for w in couch:

            def cell(r: dict, w=w) -> str:
                if r is table[w.name].get(RAW):
                    return f"{_fmt_rate(r['rate'])} {_rate_unit(w.unit)}"
                return ratio(r["rate_ratio"])

            say(f"| {w.name} | " + cells(w.name, cell) + " |")
        say()
        say("Client CPU per unit, as a ratio to raw's (median of the per-round ratios; < 1 is cheaper):")
        say()
        say(header)
        say(rule)
        for w in couch:
            say(f"| {w.name} | " + cells(w.name, lambda r: ratio(r["cpu_ratio"])) + " |")
        say()
        big = [w for w in couch if w.op in ("bulk", "all_docs", "view", "changes", "put_attachment", "get_attachment")]
        if big:
            say("Resident memory growth during the timed part (median):")
            say()
            say(header)
            say(rule)
            for w in big:
                say(f"| {w.name} | " + cells(w.name, lambda r: f"{r['growth_mb']:.0f} MB") + " |")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# each flavour and reactor, and the protocol floor of its framework (an asyncio or Twisted Protocol + httptools)
FLOORS = {"wallaby-aio": "floor-aio", "wallaby-twisted": "floor-twisted", "wallaby-twisted-aio": "floor-twisted-aio"}


def _per_round_ratio(table: dict, results: list[dict], workload: str, client: str, base: str) -> float | None:
    """Median over rounds of client's CPU per unit / base's CPU per unit in the same round."""
    runs = {r["round"]: r for r in results if r["workload"] == workload and r["client"] == client}
    bases = {r["round"]: r for r in results if r["workload"] == workload and r["client"] == base}
    ratios = [(runs[n]["cpu"] / runs[n]["units"]) / (bases[n]["cpu"] / bases[n]["units"]) for n in runs if n in bases]
    return _median(ratios)


def print_targets(table: dict, results: list[dict], quick: bool) -> None:
    """Issue 13's targets: client CPU on nginx within 1.5x the floor; throughput as before (ratios to raw)."""
    lines = []

    def ratio(workload: str, client: str, key: str) -> float | None:
        row = table.get(workload, {}).get(client)
        return _median(row[key]) if row else None

    for workload in ("nginx-get-1", "nginx-get-32", "nginx-put-1", "nginx-put-32"):
        for client, floor in FLOORS.items():
            value = _per_round_ratio(table, results, workload, client, floor)
            if value is not None:
                lines.append((f"{workload}: {client} CPU/request <= 1.5x {floor}", value, value <= 1.5))
    for workload in ("get-1", "get-32", "put-1", "put-32", "bulk", "all-docs", "view", "changes"):
        for client in FLOORS:
            value = ratio(workload, client, "rate_ratio")
            if value is not None:
                lines.append((f"{workload}: {client} throughput >= 0.95x raw", value, value >= 0.95))
    for workload in ("att-put", "att-get"):
        for client in FLOORS:
            value = ratio(workload, client, "rate_ratio")
            if value is not None:
                lines.append((f"{workload}: {client} throughput >= 0.9x raw", value, value >= 0.9))
    if not lines:
        return
    say()
    say("Targets (issue 13; medians of the per-round ratios):")
    if quick:
        say("  (--quick: runs of a few hundredths of a second and one round; a smoke test, not a verdict)")
    for text, value, met in lines:
        say(f"  {'met ' if met else 'MISS'}  {value:5.2f}  {text}")


def machine() -> str:
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts and one round (about 2 minutes)")
    parser.add_argument("--clients", help=f"comma-separated, from: {', '.join(CLIENTS)} (default: all)")
    parser.add_argument(
        "--workloads",
        help=f"comma-separated names or groups ({', '.join(GROUPS)}); names: {', '.join(BY_NAME)} (default: all)",
    )
    parser.add_argument("--repeat", type=int, help=f"rounds (default {FULL['repeat']}, quick {QUICK['repeat']})")
    parser.add_argument(
        "--requests",
        type=int,
        help=f"requests per GET/PUT run (default {FULL['requests']:,}, quick {QUICK['requests']})",
    )
    parser.add_argument(
        "--docs", type=int, help=f"docs for bulk and the read set (default {FULL['docs']:,}, quick {QUICK['docs']:,})"
    )
    parser.add_argument("--batch", type=int, default=1000, help="docs per _bulk_docs request (default 1,000)")
    parser.add_argument(
        "--get-docs", type=int, default=1000, help="distinct docs the GET runs cycle through (default 1,000)"
    )
    parser.add_argument(
        "--attachment-mb",
        type=int,
        help=f"attachment size (default {FULL['attachment_mb']}, quick {QUICK['attachment_mb']})",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one run may take (default 1800)")
    parser.add_argument("--json", metavar="PATH", help="also write every run's measurements to PATH")
    parser.add_argument("--from-json", metavar="PATH", help="run nothing: report the runs a --json file holds")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the summary as Markdown tables (for docs/benchmarks.md)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the table, profile each client with py-spy (default: the two flavours and raw on "
        "nginx-get-32, 20,000 requests) and print where the CPU goes; stacks land in benchmarks/profiles/",
    )
    parser.add_argument("--list", action="store_true", help="list the clients and workloads and exit")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    if args.profile:
        defaults = {**defaults, "requests": 20_000, "repeat": 1}
        args.clients = args.clients or f"{RAW},wallaby-aio,wallaby-twisted"
        args.workloads = args.workloads or "nginx-get-32"
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.list:
        say("clients:   " + ", ".join(CLIENTS))
        for workload in WORKLOADS:
            say(f"  {workload.name:<14} {workload.about}")
        say("groups:    " + ", ".join(f"{k} = {','.join(v)}" for k, v in GROUPS.items()))
        return 0
    clients = list(CLIENTS) if not args.clients else [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = [c for c in clients if c not in CLIENTS]
    names: list[str] = []
    for item in (args.workloads or "all").split(","):
        item = item.strip()
        names.extend(GROUPS.get(item, [item] if item else []))
    unknown += [n for n in names if n not in BY_NAME]
    if unknown:
        say(f"unknown client or workload: {', '.join(unknown)} (see --list)")
        return 2
    workloads = [BY_NAME[n] for n in dict.fromkeys(names)]
    if RAW not in clients:
        clients.insert(0, RAW)  # every ratio is to raw
    say(f"wallaby-backend-couchdb benchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    say(f"machine: {machine()}")
    say(
        f"counts: {args.requests:,} requests per GET/PUT run, {args.docs:,} docs (batches of {args.batch:,}), "
        f"{args.attachment_mb} MB attachment; {args.repeat} round(s)"
    )
    problems = check_clients(clients, args.timeout)
    for client, problem in problems.items():
        if problem:
            say(f"{client}: not installed or does not import on this Python, left out ({problem})")
    clients = [c for c in clients if not problems.get(c)]
    if RAW not in clients:
        say("raw aiohttp+orjson is needed for the ratios; install aiohttp and orjson")
        return 1
    started = time.perf_counter()
    if args.from_json:
        with open(args.from_json) as saved:
            results = json.load(saved)["results"]
        present = {r["client"] for r in results}
        clients = [c for c in clients if c in present]
        workloads = [w for w in workloads if any(r["workload"] == w.name for r in results)]
        args.repeat = max(r["round"] for r in results) + 1 if results else 1
    else:
        results = run_all(args, clients, workloads)
    versions: dict[str, str] = {}
    for result in results:
        for name, version in result.get("versions", {}).items():
            versions[name] = version or "?"
    reactors = sorted({r["reactor"] for r in results if "reactor" in r})
    say()
    say(
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
        + (f"; Twisted reactor: {', '.join(reactors)}" if reactors else "")
    )
    say(
        "columns: median wall time of the timed part; median rate; "
        "each round's rate / raw's rate (x raw, >1 is faster); "
        "median client CPU per unit; each round's CPU / raw's CPU (CPU x raw, <1 is cheaper); median peak RSS of the "
        "process and its growth during the timed part"
    )
    if args.profile:
        for result in results:
            cpu = result["cpu"] / result["units"] * 1000
            say(
                f"\n{result['client']} on {result['workload']}: "
                f"{cpu:.3f} CPU s per 1k {BY_NAME[result['workload']].unit} "
                f"(under the profiler); {result['profile']}"
            )
            say(profiling.report(result["profile"]))
        return 0
    table = summarise(results, clients, workloads)
    print_table(table, workloads, args)
    print_targets(table, results, args.quick)
    if args.markdown:
        print_markdown(table, clients, workloads)
        print_floor_markdown(table, results, workloads)
    if not args.from_json:
        say(f"\n{len(results)} runs in {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"machine": machine(), "args": vars(args), "results": results, "summary": table}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
