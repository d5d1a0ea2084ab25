"""``./dev bench --profile``: where a client's CPU goes, sampled by py-spy.

Each (client, workload) run is the same worker.py process as in the table,
recorded by ``py-spy record --format raw`` (collapsed stacks, 1,000 samples a
second, idle samples dropped) into ``benchmarks/profiles/``. The summary is
the share of busy samples by area (the event loop, the HTTP stack, URL
parsing, this library's modules...) and the functions with the most samples
of their own. Where py-spy cannot attach, pyinstrument (inside worker.py,
timed part only) writes a text report instead.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILES = os.path.join(HERE, "profiles")

# Leaf frames that are the loop waiting in epoll, not work.
_IDLE = ("EpollSelector.select", "select (selectors", "untilConcludes", "EPollReactor.doPoll")
# Frames of the untimed start of a run: imports, opening the client.
_SETUP = (
    "_find_and_load (",
    "<module> (",
    "RawAiohttp.open (",
    "Wallaby.open (",
    "Aiocouch.open (",
    "Cloudant.open (",
    "CouchdbPython.open (",
)

_AREAS = [
    ("this library: ", re.compile(r"(?:^|/)couchdb/(_\w+\.py|aio/\w+\.py)$")),
    ("asyncio event loop", re.compile(r"asyncio/")),
    ("aiohttp", re.compile(r"aiohttp/")),
    ("yarl/multidict (URLs, headers)", re.compile(r"yarl/|multidict/")),
    ("twisted Deferreds", re.compile(r"twisted/internet/defer\.py")),
    ("twisted HTTP client (Agent, pool, parser)", re.compile(r"twisted/web/")),
    ("twisted reactor and TCP", re.compile(r"twisted/(internet|python|protocols)/")),
    ("URL parsing (urllib, idna)", re.compile(r"urllib/|idna/")),
    ("requests/urllib3/http.client", re.compile(r"requests/|urllib3/|http/client|ibm_cloud_sdk_core/|ibmcloudant/")),
    ("JSON (json module)", re.compile(r"json/")),
    ("threads", re.compile(r"threading\.py|concurrent/")),
    ("benchmark harness", re.compile(r"benchmarks/|worker\.py|clients\.py")),
]


def _frame_file(frame: str) -> str:
    match = re.search(r"\(([^():]+)(?::\d+)?\)$", frame)
    return match.group(1) if match else frame


def _area(path: str) -> str:
    for name, pattern in _AREAS:
        match = pattern.search(path)
        if match:
            if name.startswith("this library"):
                return name + match.group(1)
            return name
    return "other: " + (path.split("/")[0] if "/" in path else path)


def summarise(path: str, top: int = 14) -> str:
    """Busy samples by area and by function (self), from py-spy's collapsed stacks."""
    areas: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as stacks:
        for line in stacks:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            frames = stack.split(";")
            if not frames[0].startswith("<module> (worker.py"):
                continue  # other threads (an idle pool, a resolver) are not the request path
            leaf = frames[-1]
            if leaf.startswith(_IDLE) or any(frame.startswith(_SETUP) for frame in frames[1:]):
                continue
            n = int(count)
            total += n
            areas[_area(_frame_file(leaf))] += n
            own[re.sub(r":\d+\)$", ")", leaf)] += n
    if not total:
        return "  (no samples)"
    lines = [f"  {total:,} busy samples; by area (self time):"]
    rest = 0
    for name, n in areas.most_common():
        if n / total >= 0.005:
            lines.append(f"    {100 * n / total:5.1f}%  {name}")
        else:
            rest += n
    if rest:
        lines.append(f"    {100 * rest / total:5.1f}%  everything else (under 0.5% each)")
    lines.append("  functions with the most self time:")
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def spawn_profiled(spec: dict, timeout: float) -> tuple[dict, str]:
    """Run worker.py under py-spy (or with pyinstrument inside); returns (result, report path)."""
    os.makedirs(PROFILES, exist_ok=True)
    name = f"{spec['client']}-{spec['workload']}"
    worker = [sys.executable, os.path.join(HERE, "worker.py")]
    py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if os.access(py_spy, os.X_OK):
        out = os.path.join(PROFILES, name + ".pyspy.txt")
        command = [
            py_spy,
            "record",
            "--rate",
            "1000",
            "--format",
            "raw",
            "--output",
            out,
            "--",
            *worker,
            json.dumps(spec),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode == 0 and os.path.exists(out):
            return _result(done.stdout), out
        print(f"  py-spy failed ({done.stderr.strip()[-300:]}); using pyinstrument", flush=True)
    out = os.path.join(PROFILES, name + ".pyinstrument.txt")
    done = subprocess.run(
        [*worker, json.dumps({**spec, "profile": out})], capture_output=True, text=True, timeout=timeout
    )
    return _result(done.stdout), out


def _result(stdout: str) -> dict:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": "the profiled run printed no result", "missing": False}


def report(path: str) -> str:
    if path.endswith(".pyspy.txt"):
        return summarise(path)
    with open(path) as text:
        return text.read()
