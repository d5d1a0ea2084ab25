"""``/{db}/_local/{id}``: documents that are never replicated, with no history and no seq.

Rules kept here (CouchDB 3.5's behaviour, checked):

- A local document's rev is ``0-N``. Saving gives ``0-(N+1)`` where ``N`` is
  the number in the ``_rev`` sent (0 without one): the last write wins, no
  conflict is ever reported. Deleting answers ``0-0`` and removes it.
- Attachments are dropped; ``revs=true`` answers ``{"start": 0, "ids": [N]}``.
- Local documents move no seq and appear in no feed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from .bodies import parse_doc, render
from .database import LocalDb, Txn
from .errors import BadRequest, NotFound, method_not_allowed
from .requests import Reply, Request, json_reply

__all__ = ["local_document"]

_LOCAL_REV = re.compile(r"0-([0-9]+)")


def _number(rev: str | None) -> int:
    if rev is None:
        return 0
    match = _LOCAL_REV.fullmatch(rev)
    if match is None:
        raise BadRequest("Invalid rev format")
    return int(match.group(1))


def _read(conn: Any, docid: str) -> tuple[int, bytes]:
    row = conn.execute("SELECT rev, body FROM local WHERE id = ?", (docid,)).fetchone()
    if row is None:
        raise NotFound("missing")
    return row[0], row[1]


def _save(txn: Txn, docid: str, rev: int, body: bytes) -> int:
    txn.conn.execute("INSERT OR REPLACE INTO local(id, rev, body) VALUES (?, ?, ?)", (docid, rev + 1, body))
    return rev + 1


def _remove(txn: Txn, docid: str) -> None:
    if not txn.conn.execute("DELETE FROM local WHERE id = ?", (docid,)).rowcount:
        raise NotFound("missing")


async def local_document(request: Request, db: LocalDb, docid: str) -> Reply:
    method = request.method
    runtime = request.runtime
    if method in ("GET", "HEAD"):
        number, body = await db.point_read(runtime, _read, docid)
        rev = f"0-{number}"
        extra = [("_revisions", {"start": 0, "ids": [str(number)]})] if request.flag("revs") else None
        headers = {"Content-Type": "application/json", "ETag": f'"{rev}"'}
        return Reply(200, headers, render(docid, rev, body, extra=extra) if method == "GET" else b"")
    if method == "PUT":
        raw = await request.json()
        given = raw.get("_rev") if isinstance(raw, dict) else None
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k not in ("_attachments", "_id", "_rev")}
        doc = parse_doc(raw)
        number = _number(request.query.get("rev") or (given if isinstance(given, str) else None))
        saved = await db.write(runtime, _save, docid, number, orjson.dumps(doc.body))
        return json_reply(201, {"ok": True, "id": docid, "rev": f"0-{saved}"}, {"ETag": f'"0-{saved}"'})
    if method == "DELETE":
        await db.write(runtime, _remove, docid)
        return json_reply(200, {"ok": True, "id": docid, "rev": "0-0"})
    raise method_not_allowed("DELETE,GET,HEAD,PUT")
