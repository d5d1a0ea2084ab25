"""Instructions per request of a client on the canned nginx, counted by valgrind: a measure the load does not move.

    benchmarks/.venv/bin/python benchmarks/instructions.py --clients floor-twisted,wallaby-twisted \
        --workloads nginx-get-32,nginx-put-32 [--requests 6000] [--base 1000]

Each (client, workload) runs in worker.py (the benchmark's own process, the
same code as in ``./dev bench``) under ``valgrind --tool=cachegrind
--cache-sim=no``, once with ``--base`` requests (default 1,000) and once with
``--requests``; the difference over the difference in requests leaves out the
start (imports, opening the client). Only user-space instructions count: a
system call is one instruction here, whatever the kernel spends on it, so set
these beside ``./dev bench``'s CPU times, not in their place.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench import Nginx  # noqa: E402


def instructions(client: str, workload: str, count: int, url: str) -> int:
    spec = {
        "client": client,
        "workload": workload,
        "count": count,
        "get_docs": 100,
        "batch": 1000,
        "attachment_bytes": 0,
        "tag": f"instructions-{count}",
        "url": url,
        "db": "bench",
    }
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    done = subprocess.run(
        [*command, sys.executable, os.path.join(HERE, "worker.py"), json.dumps(spec)], capture_output=True, text=True
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"{client} {workload}: {done.stdout[-500:]} {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--base", type=int, default=1000)
    parser.add_argument("--clients", required=True, help="comma-separated, as ./dev bench names them")
    parser.add_argument("--workloads", required=True, help="comma-separated nginx workloads")
    args = parser.parse_args()
    nginx = Nginx()
    url = nginx.start()
    try:
        for workload in args.workloads.split(","):
            for client in args.clients.split(","):
                more = instructions(client, workload, args.requests, url)
                less = instructions(client, workload, args.base, url)
                print(f"{workload} {client} {(more - less) / (args.requests - args.base):,.0f}", flush=True)
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
