"""Housekeeping: ``_compact``, ``_view_cleanup``, ``_ensure_full_commit``, ``_security``.

Rules kept here:

- ``POST /{db}/_compact`` answers 202 at once and compacts on a worker
  thread: the bodies of revisions that are no longer leaves are deleted (so
  ``GET ?rev=`` of them is 404 and ``revs_info`` says ``missing``, as after
  CouchDB's compaction), with the attachment data only they used; then
  SQLite gives the free pages back to the file system (``incremental_vacuum``)
  and the WAL is truncated. It works in transactions of ``_BATCH`` rows, so
  writes go on meanwhile; ``info()["compact_running"]`` says when it runs.
- The POSTs want ``Content-Type: application/json`` (415 otherwise), as
  CouchDB does.
- ``_security`` is kept as given (the store checks no one: it is in admin
  party), ``{"members": {"roles": ["_admin"]}, "admins": {"roles":
  ["_admin"]}}`` for a new database, as CouchDB 3 gives.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import orjson

from . import blobs
from .database import LocalDb, Txn
from .errors import BadRequest, HttpError, NotFound, method_not_allowed
from .extensions import HOOKS, db_endpoint
from .requests import Reply, Request, json_reply
from .revtree import RevTree

__all__ = ["compact", "compact_now"]

log = logging.getLogger("wallaby.backends.couchdb.store")

_BATCH = 500


def _json_post(request: Request) -> None:
    if request.method != "POST":
        raise method_not_allowed("POST")
    content_type = (request.header("content-type") or "").split(";")[0].strip()
    if content_type != "application/json":
        raise HttpError("Content-Type must be application/json", status=415, error="bad_content_type")


def _compact_batch(txn: Txn, after: tuple[str, str]) -> tuple[str, str] | None:
    """Delete the stored bodies of non-leaf revisions among the next rows of ``revs``; where to go on."""
    conn = txn.conn
    rows = conn.execute(
        "SELECT id, rev, atts FROM revs WHERE (id, rev) > (?, ?) ORDER BY id, rev LIMIT ?", (*after, _BATCH)
    ).fetchall()
    if not rows:
        return None
    trees: dict[str, RevTree | None] = {}
    for docid, rev, atts in rows:
        if docid not in trees:
            found = conn.execute("SELECT tree FROM docs WHERE id = ?", (docid,)).fetchone()
            trees[docid] = RevTree.decode(found[0]) if found else None
        tree = trees[docid]
        pos, _, rid = rev.partition("-")
        key = (int(pos), rid)
        if tree is None or not tree.is_leaf(key):
            conn.execute("DELETE FROM revs WHERE id = ? AND rev = ?", (docid, rev))
            blobs.drop_refs(conn, atts)
    return rows[-1][0], rows[-1][1]


def _live(conn: sqlite3.Connection, docid: str) -> bool:
    return conn.execute("SELECT 1 FROM docs WHERE id = ? AND NOT deleted", (docid,)).fetchone() is not None


def compact_now(db: LocalDb) -> None:
    """Compact ``db`` on this (worker) thread."""
    db.compact_running = True
    try:
        position: tuple[str, str] | None = ("", "")
        while position is not None:
            position = db.write_blocking(_compact_batch, position)
        with db.conns.writing() as conn:
            if db.path is not None:
                conn.execute("PRAGMA incremental_vacuum")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                conn.execute("VACUUM")
    finally:
        db.compact_running = False


@db_endpoint("_compact")
async def compact(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_compact`` (``/_compact/{ddoc}``: the query side's indexes of that design document)."""
    _json_post(request)
    runtime = request.runtime
    if rest:
        ddoc = "_design/" + rest[0]
        if not await db.point_read(runtime, _live, ddoc):
            raise NotFound("missing")
        if HOOKS.compact_design is not None:
            await runtime.to_thread(HOOKS.compact_design, db, ddoc)
        return json_reply(202, {"ok": True})
    if not db.compact_running:
        db.compact_running = True

        async def run() -> None:
            try:
                await runtime.to_thread(compact_now, db)
            except Exception:
                log.exception("compaction of %s failed", db.name)

        runtime.spawn(run(), lambda: None)
    return json_reply(202, {"ok": True})


@db_endpoint("_view_cleanup")
async def view_cleanup(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_view_cleanup``: the query side drops the indexes no design document uses."""
    _json_post(request)
    if HOOKS.view_cleanup is not None:
        await request.runtime.to_thread(HOOKS.view_cleanup, db)
    return json_reply(202, {"ok": True})


@db_endpoint("_ensure_full_commit")
async def ensure_full_commit(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_ensure_full_commit``: every write is committed already."""
    _json_post(request)
    return json_reply(201, {"ok": True, "instance_start_time": "0"})


def _set_security(txn: Txn, text: str) -> None:
    txn.set("security", text)


@db_endpoint("_security")
async def security(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|PUT /{db}/_security``."""
    if request.method == "GET":
        return Reply(200, {"Content-Type": "application/json"}, str(db.counters["security"]).encode())
    if request.method != "PUT":
        raise method_not_allowed("GET,PUT")
    body: Any = await request.json()
    if not isinstance(body, dict):
        raise BadRequest("Security object must be a JSON object")
    await db.write(request.runtime, _set_security, orjson.dumps(body).decode())
    return json_reply(200, {"ok": True})
