"""The package as users get it: a wheel and an sdist built here, installed into a fresh venv per Python.

Each Python from 3.10 to 3.13 that this machine has (on PATH, or under pyenv)
gets a new venv with the wheel and its dependencies from the index; there both
flavours are imported (neither importing the other's framework) and talk to
the session's server. A Python the machine lacks is skipped, and says so.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ["3.10", "3.11", "3.12", "3.13"]

SMOKE = """
import asyncio, sys
import wallaby.backends.couchdb.aio as aio
assert "twisted" not in sys.modules, "the asyncio flavour imported Twisted"
url, name = sys.argv[1], sys.argv[2]

async def main():
    async with aio.Database(name, url=url) as db:
        await db.create()
        await db.save({"_id": "from-aio"})
asyncio.run(main())

from twisted.internet import task
import wallaby.backends.couchdb as tx

async def twisted(reactor):
    db = tx.Database(name, url=url)
    assert (await db.get("from-aio"))["_id"] == "from-aio"
    await db.destroy()
    await db.close()
task.react(lambda reactor: __import__("twisted.internet.defer").internet.defer.ensureDeferred(twisted(reactor)))
"""


def find_python(version: str) -> str | None:
    for candidate in (
        shutil.which(f"python{version}"),
        *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}"))),
    ):
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_the_wheel_holds_the_package_its_types_and_its_entry_points(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    for path in ("py.typed", "tx/__init__.pyi", "aio/__init__.py", "cli/app.py", "pytest_plugin.py", "testing.py"):
        assert f"wallaby/backends/couchdb/{path}" in names
    assert "wallaby-couchdb = wallaby.backends.couchdb.cli:main" in entry_points
    assert "[pytest11]" in entry_points
    for version in VERSIONS:
        assert f"Programming Language :: Python :: {version}" in metadata
    for extra in ("cli", "docs", "examples"):
        assert f"Provides-Extra: {extra}" in metadata
    assert not any(
        "click" in line for line in metadata.splitlines() if line.startswith("Requires-Dist") and "extra" not in line
    )


def test_the_sdist_holds_the_sources(dist: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "src/wallaby/backends/couchdb/py.typed"} <= names


@pytest.mark.parametrize("version", VERSIONS)
def test_the_wheel_installs_and_both_flavours_work(version: str, dist: Path, tmp_path: Path, couchdb_url: str) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    [wheel] = dist.glob("*.whl")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    installed = subprocess.run(
        [*pip, "--disable-pip-version-check", f"{wheel}[cli]"], capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    name = f"wheel-{version.replace('.', '')}-{os.getpid()}"
    smoke = subprocess.run(
        [str(venv / "bin" / "python"), "-c", SMOKE, couchdb_url, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    cli = subprocess.run(
        [str(venv / "bin" / "wallaby-couchdb"), "--url", couchdb_url, "dbs"], capture_output=True, timeout=60
    )
    assert cli.returncode == 0, cli.stderr
