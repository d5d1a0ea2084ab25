"""On a terminal (a pty, through pexpect): the progress bar shows, and a password is asked for without echo."""

from __future__ import annotations

import re
from pathlib import Path

import pexpect

from .shell import COMMAND, couchdb, env_for, with_db


def _spawn(url: str | None, *args: str, columns: int = 120) -> pexpect.spawn:
    return pexpect.spawn(
        COMMAND, list(args), env=env_for(url, COLUMNS=str(columns)), timeout=60, dimensions=(40, columns)
    )


async def _docs(server, name: str) -> None:
    await server.database(name).save({"docs": [{"_id": f"doc-{n:04}", "n": n} for n in range(2000)]})


def test_dump_and_load_draw_a_progress_bar_on_a_terminal(couchdb_dbname: str, couchdb_url: str, tmp_path: Path) -> None:
    url, dump, copy = couchdb_url, tmp_path / "db.jsonl", f"{couchdb_dbname}-tty"
    with_db(url, lambda server: _docs(server, couchdb_dbname))
    child = _spawn(url, "dump", couchdb_dbname, "-o", str(dump), "--batch", "200")
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before.decode("utf-8", "replace")
    assert child.exitstatus == 0, screen
    assert "dump " + couchdb_dbname in screen and "docs/s" in screen and "ETA" in screen
    assert re.search(r"2,?000/2,?000", screen), screen
    try:
        child = _spawn(url, "load", copy, str(dump), "--create")
        child.expect(pexpect.EOF)
        child.close()
        screen = child.before.decode("utf-8", "replace")
        assert child.exitstatus == 0, screen
        assert "load " + copy in screen and "docs/s" in screen and "loaded 2000 documents" in screen
    finally:
        couchdb(url, "delete-db", copy, "--yes")


def test_replicate_draws_a_progress_bar_on_a_terminal(couchdb_dbname: str, couchdb_url: str) -> None:
    url, copy = couchdb_url, f"{couchdb_dbname}-rep"

    async def refusing_target(server) -> None:
        await _docs(server, couchdb_dbname)
        await server.database(couchdb_dbname).save({"docs": [{"_id": f"bad-{n}", "reject": True} for n in range(3)]})
        guard = "function(doc) { if (doc.reject) { throw({forbidden: 'no'}); } }"
        await server.database(copy).create()
        await server.database(copy).save({"_id": "_design/guard", "validate_doc_update": guard})

    with_db(url, refusing_target)
    try:
        child = _spawn(url, "replicate", couchdb_dbname, copy, columns=200)
        child.expect(pexpect.EOF)
        child.close()
        screen = child.before.decode("utf-8", "replace")
        assert child.exitstatus == 0, screen
        assert f"replicate {couchdb_dbname} -> {copy}" in screen and "docs/s" in screen
        assert "3 failed" in screen, screen
        assert re.search(r"2,?003/2,?003", screen), screen
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
        assert '"doc_write_failures": 3' in plain and "pending" in plain
    finally:
        couchdb(url, "delete-db", copy, "--yes")


def test_a_password_is_prompted_for_and_never_echoed(couchdb_url: str) -> None:
    host = couchdb_url.split("://", 1)[1].rpartition("@")[2]
    child = _spawn(f"http://{host}", "--user", "nobody", "info")
    child.expect("Password for nobody: ")
    child.sendline("s3cret-word")
    child.expect(pexpect.EOF)
    child.close()
    after = child.before.decode("utf-8", "replace")
    assert "s3cret-word" not in after
    assert "not authorized as 'nobody'" in after and child.exitstatus == 1
