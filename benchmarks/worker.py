"""One client, one workload, in a fresh process: ``worker.py '<json spec>'``.

bench.py starts it; it prints one JSON line with what it measured, or with
``error`` (and exits 1). Only the workload itself is timed: imports, opening
the client and a short warm-up are not. Measured in this process:

- wall time (``time.perf_counter``) and CPU time (``time.process_time``: all
  threads of the process, so a thread pool's work counts);
- peak RSS of the process, and how far the resident set grew during the
  workload. ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is the peak where
  there is no /proc; on Linux it is not trustworthy in a child process
  (Linux carries it over fork and exec, so it starts at the parent's peak),
  so there the peak is the kernel's VmHWM of this process, read before and
  after the timed part (the timed part's own peak comes from resetting it).

With ``"profile": PATH`` the timed part runs under pyinstrument and its
report is written to PATH.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from clients import CLIENTS  # noqa: E402
from workloads import BY_NAME, doc_1k, small_doc  # noqa: E402

if TYPE_CHECKING:
    from typing_extensions import Self


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM (the peak resident set) to the current RSS
        return True
    except OSError:
        return False


def _hwm_kb() -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Plan:
    """What to run: ``op`` over ``items`` at ``concurrency``, or ``op(*args)`` once."""

    def __init__(self, spec: dict) -> None:
        workload = BY_NAME[spec["workload"]]
        self.workload = workload
        self.op = workload.op
        self.concurrency = workload.concurrency
        self.items: list[Any] | None = None
        self.args: tuple[Any, ...] = ()
        self.warm_items: list[Any] = []
        count = spec["count"]
        tag = spec["tag"]
        warm = min(count, max(2 * self.concurrency, 20))
        if workload.op == "get":
            pool = max(1, min(spec["get_docs"], count))
            self.items = [f"get{n % pool:06}" for n in range(count)]
            self.warm_items = self.items[:warm]
            self.units = count
        elif workload.op == "put":
            self.items = [doc_1k(f"put-{tag}-{n:07}", n) for n in range(count)]
            self.warm_items = [doc_1k(f"warm-{tag}-{n:07}", n) for n in range(warm)]
            self.units = count
        elif workload.op == "bulk":
            batch = spec["batch"]
            self.items = [
                [small_doc(n) for n in range(start, min(count, start + batch))] for start in range(0, count, batch)
            ]
            self.units = count
        elif workload.op in ("put_attachment", "get_attachment"):
            self.units = spec["attachment_bytes"] / 1e6
            if workload.op == "put_attachment":
                self.args = (f"att-{tag}", os.urandom(spec["attachment_bytes"]))
            else:
                self.args = ("att",)
        else:
            self.units = None  # the rows the server returns


def _summary(plan: Plan, client: str, seconds: float, cpu: float, returned: Any, timed: Timed) -> dict:
    rss_before, tracked = timed.rss_before, timed.tracked
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm = _hwm_kb() if tracked else None
    peak = max(hwm, timed.hwm_before or 0) if hwm is not None else maxrss
    units = plan.units
    if units is None:
        units = returned
    requests = len(plan.items) if plan.items is not None else 1
    return {
        "client": client,
        "workload": plan.workload.name,
        "seconds": seconds,
        "cpu": cpu,
        "units": units,
        "requests": requests,
        "peak_rss_kb": peak,
        "ru_maxrss_kb": maxrss,
        "rss_before_kb": rss_before,
        "rss_growth_kb": max(0, (hwm if hwm is not None else peak) - rss_before),
    }


def _versions(client: str) -> dict:
    from importlib import metadata

    names = {
        "raw-aiohttp": ["aiohttp", "orjson"],
        "wallaby-aio": ["wallaby-backend-couchdb", "httptools"],
        "wallaby-twisted": ["wallaby-backend-couchdb", "httptools", "Twisted"],
        "wallaby-twisted-aio": ["wallaby-backend-couchdb", "httptools", "Twisted"],
        "floor-aio": ["httptools", "orjson"],
        "floor-twisted": ["httptools", "orjson", "Twisted"],
        "floor-twisted-aio": ["httptools", "orjson", "Twisted"],
        "aiocouch": ["aiocouch", "aiohttp"],
        "ibmcloudant": ["ibmcloudant", "requests"],
        "couchdb-python": ["CouchDB"],
    }[client]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


class Timed:
    """The measured section: GC'd before, peak reset, optional profiler."""

    def __init__(self, profile_path: str | None) -> None:
        self.profile_path = profile_path
        self.profiler = None

    def __enter__(self) -> Self:
        gc.collect()
        self.rss_before = _rss_kb()
        self.hwm_before = _hwm_kb()  # the peak so far: imports, opening the client, warm-up
        self.tracked = _reset_peak()
        if self.profile_path:
            from pyinstrument import Profiler

            self.profiler = Profiler(interval=0.0002, async_mode="disabled")
            self.profiler.start()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        if self.profiler is not None:
            self.profiler.stop()
            with open(self.profile_path, "w") as out:
                out.write(self.profiler.output_text(unicode=True, color=False, show_all=False, timeline=False))


# --- asyncio and Twisted: the same coroutine, two ways to gather -----------------------------


async def _many_async(op: Callable[[Any], Any], items: list, concurrency: int, gather: Callable) -> None:
    source = iter(items)

    async def lane() -> None:
        for item in source:
            await op(item)

    if concurrency == 1:
        await lane()
    else:
        await gather([lane() for _ in range(concurrency)])


async def _run_async(client: Any, spec: dict, plan: Plan, gather: Callable) -> dict:
    await client.open(spec["url"], spec["db"], plan.concurrency)
    op = getattr(client, plan.op)
    if plan.items is not None and plan.warm_items:
        await _many_async(op, plan.warm_items, plan.concurrency, gather)
    else:
        for _ in range(3):
            await client.get("warm")
    returned = None
    with Timed(spec.get("profile")) as timed:
        if plan.items is not None:
            await _many_async(op, plan.items, plan.concurrency, gather)
        else:
            returned = await op(*plan.args)
    await client.close()
    return _summary(plan, spec["client"], timed.seconds, timed.cpu, returned, timed)


def run_asyncio(client: Any, spec: dict, plan: Plan) -> dict:
    import asyncio

    async def gather(coros: list) -> None:
        await asyncio.gather(*coros)

    return asyncio.run(_run_async(client, spec, plan, gather))


def run_twisted(client: Any, spec: dict, plan: Plan) -> dict:
    if getattr(client, "reactor", None) == "asyncio":
        import asyncio

        from twisted.internet import asyncioreactor

        asyncioreactor.install(asyncio.new_event_loop())
    from twisted.internet import defer, reactor  # the default reactor (epoll on Linux) unless installed above

    def gather(coros: list) -> defer.Deferred:
        return defer.gatherResults([defer.Deferred.fromCoroutine(c) for c in coros], consumeErrors=True)

    outcome: dict = {}

    def start() -> None:
        done = defer.Deferred.fromCoroutine(_run_async(client, spec, plan, gather))
        done.addCallbacks(lambda result: outcome.update(result=result), lambda failure: outcome.update(failure=failure))
        done.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if "failure" in outcome:
        outcome["failure"].raiseException()
    result = outcome["result"]
    result["reactor"] = type(reactor).__name__
    return result


# --- synchronous clients, on a thread pool -------------------------------------------------


def run_threads(client: Any, spec: dict, plan: Plan) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    client.open(spec["url"], spec["db"], plan.concurrency)
    op = getattr(client, plan.op)
    pool = ThreadPoolExecutor(plan.concurrency) if plan.concurrency > 1 else None

    def many(items: list) -> None:
        if pool is None:
            for item in items:
                op(item)
        else:
            for _ in pool.map(op, items):
                pass

    if plan.items is not None and plan.warm_items:
        many(plan.warm_items)
    else:
        for _ in range(3):
            client.get("warm")
    returned = None
    with Timed(spec.get("profile")) as timed:
        if plan.items is not None:
            many(plan.items)
        else:
            returned = op(*plan.args)
    if pool is not None:
        pool.shutdown()
    client.close()
    return _summary(plan, spec["client"], timed.seconds, timed.cpu, returned, timed)


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        client = CLIENTS[spec["client"]]()
        plan = Plan(spec)
        runner = {"asyncio": run_asyncio, "twisted": run_twisted, "threads": run_threads}[client.flavour]
        result = runner(client, spec, plan)
        result["versions"] = _versions(spec["client"])
    except BaseException as exc:  # noqa: BLE001 - reported to bench.py, which goes on without this run
        import traceback

        traceback.print_exc()
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}", "missing": isinstance(exc, ImportError)}))
        sys.stdout.flush()
        os._exit(1)
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: nothing left to measure


if __name__ == "__main__":
    main()
