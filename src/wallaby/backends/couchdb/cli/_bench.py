"""``bench``: the benchmark suite (``benchmarks/bench.py`` of a source checkout), on the chosen server.

The suite compares this library with raw aiohttp+orjson and the other Python
clients; those are installed into ``benchmarks/.venv`` by ``./dev bench``.
This command runs the suite with that environment's Python when it exists
(else with this one: the clients missing are skipped) and passes every
argument after ``bench`` on to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from ._commands import CONTEXT
from ._session import EXIT_USAGE, fail

__all__ = ["COMMANDS", "find_suite"]


def find_suite() -> Path | None:
    """``benchmarks/bench.py`` of the checkout this package or the working directory is in."""
    here = Path(__file__).resolve()
    for folder in (Path.cwd().resolve(), *Path.cwd().resolve().parents, *here.parents):
        candidate = folder / "benchmarks" / "bench.py"
        if candidate.is_file():
            return candidate
    return None


@click.command(context_settings={**CONTEXT, "ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def bench(obj: Any, args: tuple[str, ...]) -> None:
    """Run the benchmark suite against the server (--url, $COUCHDB_URL, else a throwaway PouchDB Server).

    Arguments go to benchmarks/bench.py: --quick, --clients, --workloads, --list, ...
    It needs a source checkout; `./dev bench` there also installs nginx and the clients compared.

    \b
    Example:
      wallaby-couchdb bench --list
      wallaby-couchdb bench --quick --clients wallaby-aio,raw-aiohttp
    """
    suite = find_suite()
    if suite is None:
        fail("bench runs the suite of a source checkout (benchmarks/bench.py): run it there", EXIT_USAGE)
    venv_python = suite.parent / ".venv" / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    env = dict(os.environ)
    url = obj.explicit_url()
    if url:
        env["COUCHDB_URL"] = url
    sys.exit(subprocess.call([python, str(suite), *args], env=env))


COMMANDS = [bench]
