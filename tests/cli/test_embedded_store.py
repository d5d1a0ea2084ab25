"""The command on an embedded store's URL (``file:///dir``): the same commands as on a server, no server."""

from __future__ import annotations

import json
from pathlib import Path

from .shell import couchdb, text


def test_the_commands_work_on_a_store_directory(tmp_path: Path) -> None:
    store = (tmp_path / "couch").as_uri()
    assert couchdb(store, "create-db", "notes").returncode == 0
    saved = couchdb(store, "put", "notes", "-d", '{"_id": "n1", "type": "note", "text": "hello"}')
    assert saved.returncode == 0, text(saved.stderr)
    assert json.loads(couchdb(store, "get", "notes", "n1").stdout)["text"] == "hello"
    found = couchdb(store, "find", "notes", '{"type": "note"}', "--fields", "_id")
    assert [json.loads(line) for line in found.stdout.splitlines()] == [{"_id": "n1"}]
    assert json.loads(couchdb(store, "info", "notes").stdout)["doc_count"] == 1
    assert "notes" in json.loads(couchdb(store, "dbs").stdout)


def test_a_server_database_is_dumped_and_loaded_into_a_store(
    tmp_path: Path, couchdb_dbname: str, couchdb_url: str
) -> None:
    for n in range(3):
        couchdb(couchdb_url, "put", couchdb_dbname, "-d", json.dumps({"_id": f"d{n}", "n": n}))
    dump = tmp_path / "dump.jsonl"
    assert couchdb(couchdb_url, "dump", couchdb_dbname, "-o", str(dump)).returncode == 0
    store = (tmp_path / "couch").as_uri()
    loaded = couchdb(store, "load", "copy", str(dump), "--create")
    assert loaded.returncode == 0, text(loaded.stderr)
    assert json.loads(couchdb(store, "get", "copy", "d2").stdout)["n"] == 2
    assert json.loads(couchdb(store, "info", "copy").stdout)["doc_count"] == 3


def test_a_missing_store_database_is_one_clear_line(tmp_path: Path) -> None:
    missing = couchdb((tmp_path / "couch").as_uri(), "get", "nodb", "x")
    assert missing.returncode == 1
    assert "Traceback" not in text(missing.stderr) and len(text(missing.stderr).strip().splitlines()) == 1
