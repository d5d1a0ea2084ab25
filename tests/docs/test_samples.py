"""Every code sample of the docs and the README runs against the test server (rules: samples.py)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from .run_sample import point_at_test_server
from .samples import Sample, read_samples

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SAMPLES = [sample for page in PAGES for sample in read_samples(page, ROOT)]
RUNNER = Path(__file__).with_name("run_sample.py")
COMMAND = str(Path(sys.executable).with_name("wallaby-couchdb"))


def test_the_docs_have_samples_in_both_flavours() -> None:
    assert {sample.flavour for sample in SAMPLES if sample.language == "python"} == {"asyncio", "twisted"}
    assert any(sample.language == "sh" for sample in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_the_sample_runs(sample: Sample, couchdb_url: str, couchdb_service, tmp_path: Path) -> None:
    if sample.couchdb_only and not couchdb_service.is_couchdb:
        pytest.skip("this sample needs Apache CouchDB: set COUCHDB_URL to run it")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUCHDB_")}
    env.update(SAMPLE_URL=couchdb_url, COUCHDB_URL=couchdb_url, PYTHONPATH=str(ROOT / "tests"))
    if sample.language == "sh":
        _run_commands(sample, couchdb_url, env, tmp_path)
        return
    spec = tmp_path / "sample.json"
    spec.write_text(
        json.dumps({**asdict(sample), "path": None, "file": str(ROOT / sample.path), "complete": sample.complete})
    )
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(spec)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{sample.name} ({sample.flavour}) failed:\n{done.stdout}\n{done.stderr}"


def _run_commands(sample: Sample, url: str, env: dict[str, str], cwd: Path) -> None:
    """A shell sample's wallaby-couchdb commands, on a server that has ``mydb`` (a few docs, an attachment).

    Afterwards only what the sample made is deleted: a database that was not
    there before and that the commands name (``mydb`` too when it was made
    here). The server may be shared: a database someone else made meanwhile
    is left alone.
    """
    from wallaby.backends.couchdb.aio import Server

    commands = [
        command for line in point_at_test_server(sample.code, url).splitlines() for command in line.split(" && ")
    ]
    named = {word for command in commands for word in shlex.split(command)[1:]}

    async def prepare(server: Server) -> set[str]:
        before = set(await server.all_dbs())
        if "mydb" not in before:
            db = await server.create("mydb")
            await db.save({"docs": [{"_id": f"doc-{n}", "n": n} for n in range(3)]})
            await db.put_attachment({"_id": "photo"}, "photo.jpg", b"\xff\xd8 not really a photo")
        return before

    async def clean(server: Server, before: set[str]) -> None:
        for name in await server.all_dbs():
            if name not in before and (name in named or name == "mydb"):
                await server.delete(name)

    before = _with_server(url, prepare)
    try:
        for command in commands:
            done = subprocess.run(
                [COMMAND, *shlex.split(command)[1:]], cwd=cwd, env=env, capture_output=True, timeout=120
            )
            assert done.returncode == 0, f"{sample.name}: {command}\n{done.stderr.decode()}"
    finally:
        _with_server(url, lambda server: clean(server, before))


def _with_server(url: str, work):  # type: ignore[no-untyped-def]
    import asyncio

    from wallaby.backends.couchdb.aio import Server

    async def main():  # type: ignore[no-untyped-def]
        async with Server(url) as server:
            return await work(server)

    return asyncio.run(main())
