"""Every script in examples/ runs to completion against the session's server.

A plain (sync) test, so it runs once, not once per flavour: each script picks
its own flavour, and tour.py runs both. The scripts read ``COUCHDB_URL``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# examples/{pytest,scrapy,fastapi,qt} are apps run by their own tests in tests/examples/
EXAMPLES = sorted(
    path for path in (ROOT / "examples").rglob("*.py") if path.parent.name in ("examples", "asyncio", "twisted")
)


def test_there_are_examples_for_both_flavours() -> None:
    names = {path.relative_to(ROOT / "examples").as_posix() for path in EXAMPLES}
    for flavour in ("asyncio", "twisted"):
        for script in ("info", "create_destroy", "documents", "attachments", "views", "changes"):
            assert f"{flavour}/{script}.py" in names
    assert "tour.py" in names


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.relative_to(ROOT / "examples").as_posix())
def test_example_runs(script: Path, server_info) -> None:
    env = {**os.environ, "COUCHDB_URL": server_info.url}
    env.pop("COUCHDB_USER", None)
    env.pop("COUCHDB_PASSWORD", None)
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script.name} did not finish within {exc.timeout}s\n{exc.stdout or ''}\n{exc.stderr or ''}")
    assert done.returncode == 0, f"{script.name} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{script.name} printed nothing"
