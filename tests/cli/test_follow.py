"""``follow``: a feed as JSON Lines, its filters, a checkpoint file, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from .shell import COMMAND, couchdb, env_for, text


def _put(url: str, db: str, *ids: str) -> None:
    for docid in ids:
        assert couchdb(url, "put", db, "-d", json.dumps({"_id": docid, "kind": docid[0]})).returncode == 0


def test_a_normal_feed_prints_every_change_and_ends(couchdb_dbname: str, couchdb_url: str) -> None:
    _put(couchdb_url, couchdb_dbname, "a1", "a2", "b1")
    done = couchdb(couchdb_url, "follow", couchdb_dbname, "--feed", "normal", "--include-docs")
    assert done.returncode == 0, text(done.stderr)
    changes = [json.loads(line) for line in text(done.stdout).splitlines()]
    # in the feed's order, which is not write order on a sharded database
    assert {change["id"]: change["doc"]["kind"] for change in changes} == {"a1": "a", "a2": "a", "b1": "b"}
    assert len(changes) == 3


def test_the_feed_filters(couchdb_dbname: str, couchdb_url: str) -> None:
    url = couchdb_url
    _put(url, couchdb_dbname, "a1", "a2", "b1")
    by_id = couchdb(url, "follow", couchdb_dbname, "--feed", "normal", "--doc-id", "a2", "--doc-id", "b1")
    # in the order of the changes feed, which a sharded CouchDB database does not keep in write order
    assert sorted(json.loads(line)["id"] for line in text(by_id.stdout).splitlines()) == ["a2", "b1"]
    design = {"_id": "_design/f", "filters": {"kind": "function (doc, req) { return doc.kind === req.query.kind; }"}}
    assert couchdb(url, "put", couchdb_dbname, "-d", json.dumps(design)).returncode == 0
    filtered = couchdb(url, "follow", couchdb_dbname, "--feed=normal", "--filter=f/kind", "--filter-param=kind=b")
    assert [json.loads(line)["id"] for line in text(filtered.stdout).splitlines()] == ["b1"]
    limited = couchdb(url, "follow", couchdb_dbname, "--limit", "2")
    assert len(text(limited.stdout).splitlines()) == 2


def test_ctrl_c_stops_cleanly_and_the_checkpoint_resumes(couchdb_dbname: str, couchdb_url: str, tmp_path: Path) -> None:
    url, checkpoint = couchdb_url, tmp_path / "feed.seq"
    _put(url, couchdb_dbname, "a1", "a2")
    feed = subprocess.Popen(
        [COMMAND, "follow", couchdb_dbname, "--checkpoint", str(checkpoint)],
        env=env_for(url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert feed.stdout is not None
        first = [json.loads(feed.stdout.readline())["id"] for _ in range(2)]
        _put(url, couchdb_dbname, "a3")
        first.append(json.loads(feed.stdout.readline())["id"])
        deadline = time.monotonic() + 10
        while not checkpoint.exists() or json.loads(checkpoint.read_text()) is None:
            assert time.monotonic() < deadline, "no checkpoint written"
            time.sleep(0.05)
        feed.send_signal(signal.SIGINT)
        _, stderr = feed.communicate(timeout=20)
    finally:
        feed.kill()
    assert sorted(first[:2]) == ["a1", "a2"] and first[2] == "a3"  # a sharded database's changes interleave
    assert feed.returncode == 0, text(stderr)
    assert "Traceback" not in text(stderr) and "stopped after 3 changes" in text(stderr)
    _put(url, couchdb_dbname, "a4")
    resumed = couchdb(url, "follow", couchdb_dbname, "--checkpoint", str(checkpoint), "--feed", "normal")
    ids = [json.loads(line)["id"] for line in text(resumed.stdout).splitlines()]
    assert ids.count("a4") == 1 and set(ids) <= {"a1", "a2", "a3", "a4"}  # a cluster may hand earlier ones again
