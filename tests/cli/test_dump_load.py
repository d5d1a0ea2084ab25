"""``dump`` and ``load``: a round trip keeps every doc, rev, conflict, deletion and attachment; both resume."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from .shell import couchdb, text, with_db

BIG = bytes(range(256)) * 4000  # 1,000 KiB: more than one line of the dump
REV_B = "2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


async def _fill(server: Any, name: str) -> None:
    """Every write answered once every copy has it (``w=n`` on a cluster): a dump reads the
    changes feed, one copy of each shard, which may not have a write answered by a majority."""
    db = server.database(name)
    cluster = (await db.info()).get("cluster") or {}
    options = {"w": cluster["n"]} if cluster.get("n", 1) > 1 else {}
    await db.save({"docs": [{"_id": f"doc-{n:03}", "n": n} for n in range(120)]}, **options)
    await db.save(
        {"_id": "_design/app", "views": {"by_n": {"map": "function (doc) { emit(doc.n, null); }"}}}, **options
    )
    photo: dict[str, Any] = {"_id": "photo", "title": "a photo"}
    await db.save(photo, **options)
    for att, data, content_type in (
        ("big.bin", BIG, "application/octet-stream"),
        ("note.txt", b"a small note", "text/plain"),
        ("empty", b"", "text/plain"),
    ):
        photo = await db.get("photo")  # with the stubs of the attachments before
        photo.setdefault("_attachments", {})[att] = {
            "content_type": content_type,
            "data": base64.b64encode(data).decode(),
        }
        await db.save(photo, **options)
    doc = await db.get("doc-001")
    await db.save({**doc, "edited": True}, **options)
    loser = {"_id": "doc-002", "_rev": REV_B, "_revisions": {"start": 2, "ids": [REV_B[2:], "c" * 32]}, "other": 1}
    await db.save({"docs": [loser]}, new_edits=False, **options)
    gone = await db.get("doc-003")
    await db.save({"_id": "doc-003", "_rev": gone["_rev"], "_deleted": True}, **options)


async def _everything(server: Any, name: str, revpos: bool = True) -> dict[str, Any]:
    """Every leaf of every document (deleted ones too), with its history and its attachments' bytes.

    PouchDB Server sets the ``revpos`` of an attachment written with ``new_edits=false``
    to the revision's own position; CouchDB keeps the one given.
    """
    db = server.database(name)
    leaves: dict[str, Any] = {}
    async with db.follow(None, feed="normal", style="all_docs") as changes:
        async for change in changes:
            for leaf in change["changes"]:
                [answer] = (await db.bulk_get([{"id": change["id"], "rev": leaf["rev"]}], revs=True))[0]["docs"]
                doc = answer["ok"]
                for name_, stub in (doc.get("_attachments") or {}).items():
                    stub["data"] = await db.get_attachment(change["id"], name_, rev=doc["_rev"])
                    if not revpos:
                        del stub["revpos"]
                leaves[f"{change['id']} {leaf['rev']}"] = doc
    return leaves


def _read_until(url: str, name: str, revpos: bool, expected: dict[str, Any], seconds: float = 30) -> dict[str, Any]:
    """What ``_everything`` reads of ``name``, read again until it is ``expected`` or ``seconds`` pass.

    ``load`` writes at CouchDB's default ``w`` (a majority of a cluster's
    copies), and the changes feed read here may come from the copy that is
    a moment behind.
    """
    deadline = time.monotonic() + seconds
    while True:
        found = with_db(url, lambda server: _everything(server, name, revpos))
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_dump_then_load_gives_the_same_docs_revs_and_attachments(
    couchdb_dbname: str, couchdb_url: str, couchdb_service, tmp_path: Path
) -> None:
    url, dump, copy = couchdb_url, tmp_path / "db.jsonl", f"{couchdb_dbname}-copy"
    with_db(url, lambda server: _fill(server, couchdb_dbname))
    dumped = couchdb(url, "dump", couchdb_dbname, "-o", str(dump))
    assert dumped.returncode == 0, text(dumped.stderr)
    assert text(dumped.stderr) == ""  # no progress bar on a pipe
    lines = dump.read_text().splitlines()
    assert json.loads(lines[0])["dump"] == 1 and "end" in json.loads(lines[-1])
    assert sum('"att":"big.bin"' in line for line in lines) == 2
    loaded = couchdb(url, "load", copy, str(dump), "--create")
    try:
        assert loaded.returncode == 0, text(loaded.stderr)
        source = with_db(url, lambda server: _everything(server, couchdb_dbname, couchdb_service.is_couchdb))
        target = _read_until(url, copy, couchdb_service.is_couchdb, source)
        assert source == target
        assert len([key for key in target if key.startswith("doc-002 ")]) == 2  # the conflict
        assert "doc-002 " + REV_B in target
        assert target[next(key for key in target if key.startswith("doc-003 "))]["_deleted"] is True
        assert target[next(key for key in target if key.startswith("photo "))]["_attachments"]["big.bin"]["data"] == BIG
    finally:
        couchdb(url, "delete-db", copy, "--yes")


def test_an_interrupted_dump_resumes(couchdb_dbname: str, couchdb_url: str, tmp_path: Path) -> None:
    url, whole, cut = couchdb_url, tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    with_db(url, lambda server: _fill(server, couchdb_dbname))
    assert couchdb(url, "dump", couchdb_dbname, "-o", str(whole), "--batch", "40").returncode == 0
    lines = whole.read_bytes().splitlines(keepends=True)
    seq_lines = [n for n, line in enumerate(lines) if line.startswith(b'{"seq"')]
    # what a dump killed in its second batch leaves: the first batch, part of the next, half a line
    cut.write_bytes(b"".join(lines[: seq_lines[0] + 3]) + lines[seq_lines[0] + 3][:20])
    resumed = couchdb(url, "dump", couchdb_dbname, "-o", str(cut), "--resume", "--batch", "40")
    assert resumed.returncode == 0, text(resumed.stderr)
    records = cut.read_bytes().splitlines()
    # the same leaves (a clustered CouchDB may hand a few changes over again after a resume: load takes them twice)
    assert {line for line in records if line.startswith(b'{"doc"')} == {
        line.rstrip(b"\n") for line in lines if line.startswith(b'{"doc"')
    }
    assert json.loads(records[-1])["end"]["docs"] == sum(line.startswith(b'{"doc"') for line in records)


def test_a_load_run_again_goes_on_where_it_stopped(
    couchdb_dbname: str, couchdb_url: str, couchdb_service, tmp_path: Path
) -> None:
    url, dump, part, copy = couchdb_url, tmp_path / "db.jsonl", tmp_path / "part.jsonl", f"{couchdb_dbname}-2"
    with_db(url, lambda server: _fill(server, couchdb_dbname))
    assert couchdb(url, "dump", couchdb_dbname, "-o", str(dump), "--batch", "50").returncode == 0
    lines = dump.read_bytes().splitlines(keepends=True)
    second_seq = [n for n, line in enumerate(lines) if line.startswith(b'{"seq"')][1]
    part.write_bytes(b"".join(lines[: second_seq + 1]))  # as if the load had died after two batches
    try:
        first = couchdb(url, "load", copy, str(part), "--create")
        assert first.returncode == 0, text(first.stderr)
        again = couchdb(url, "load", copy, str(dump))
        assert again.returncode == 0, text(again.stderr)
        total = sum(line.startswith(b'{"doc"') for line in lines)
        assert f"loaded {total} documents" in text(again.stderr)
        source = with_db(url, lambda server: _everything(server, couchdb_dbname, couchdb_service.is_couchdb))
        assert _read_until(url, copy, couchdb_service.is_couchdb, source) == source
    finally:
        couchdb(url, "delete-db", copy, "--yes")


def test_load_refuses_what_is_not_a_dump(couchdb_dbname: str, couchdb_url: str) -> None:
    done = couchdb(couchdb_url, "load", couchdb_dbname, input=b'{"_id": "x"}\n')
    assert done.returncode == 2 and "not a dump" in text(done.stderr)
