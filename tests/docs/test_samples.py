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
def test_the_sample_runs(sample: Sample, server_info, tmp_path: Path) -> None:
    if sample.couchdb_only and not server_info.is_couchdb:
        pytest.skip("this sample needs Apache CouchDB: set COUCHDB_URL to run it")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUCHDB_")}
    env.update(SAMPLE_URL=server_info.url, COUCHDB_URL=server_info.url, PYTHONPATH=str(ROOT / "tests"))
    if sample.language == "sh":
        for command in sample.code.splitlines():
            done = subprocess.run(
                [COMMAND, *shlex.split(command)[1:]], cwd=tmp_path, env=env, capture_output=True, timeout=120
            )
            assert done.returncode == 0, f"{command}\n{done.stderr.decode()}"
        return
    spec = tmp_path / "sample.json"
    spec.write_text(json.dumps({**asdict(sample), "path": None, "file": str(ROOT / sample.path), "complete": sample.complete}))
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(spec)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{sample.name} ({sample.flavour}) failed:\n{done.stdout}\n{done.stderr}"
