"""examples/pytest: a user's suite on the library's pytest plugin, run as the user runs it.

With pytest-asyncio and pytest-twisted (default reactor, then the asyncio reactor), on the
session's server through ``COUCHDB_URL``, once on a throwaway PouchDB Server it starts itself, and once
on the embedded store (``--couchdb-url memory://...``), with no server at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pytest"


def _pytest(*args: str, url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COUCHDB_URL"}
    if url:
        env["COUCHDB_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=EXAMPLE,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_example_suite_passes_on_the_sessions_server(couchdb_url: str) -> None:
    done = _pytest(url=couchdb_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_the_twisted_tests_pass_on_the_asyncio_reactor(couchdb_url: str) -> None:
    # pytest-twisted runs the asyncio reactor's loop itself: pytest-asyncio's tests cannot share that run
    done = _pytest("--reactor=asyncio", "test_orders_twisted.py", url=couchdb_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_without_a_url_the_plugin_starts_a_throwaway_server() -> None:
    done = _pytest("test_orders_asyncio.py", "--setup-show", url=None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "couchdb_service" in done.stdout and "3 passed" in done.stdout


def test_the_example_suite_passes_on_the_embedded_store_with_no_server() -> None:
    done = _pytest("--couchdb-url", "memory://example-tests", url=None)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout
