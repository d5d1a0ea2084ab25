"""``/{db}/_changes``: every feed (normal, longpoll, continuous) with CouchDB's options.

Rules kept here (checked against CouchDB 3.5 and the core's Follower):

- Seqs are integers: one per change, increasing, a document listed once at
  the seq of its latest change. ``since`` is a whole number (or its text),
  or ``now``; anything else is ``400 Malformed sequence``.
- A row is ``{"seq", "id", "changes": [{"rev"}...], "deleted": true?, "doc"?}``:
  the winner only, or every leaf winner first with ``style=all_docs``.
  ``include_docs`` adds the winner (``conflicts`` its ``_conflicts``).
- ``limit`` ends the answer after that many rows; ``last_seq`` is the seq
  of the last row sent, or (nothing left) how far the scan went;
  ``pending`` counts the changes after ``last_seq``.
- Filters: ``_doc_ids`` (ids in the POST body or ``doc_ids=`` JSON),
  ``_design``; ``_selector``, ``_view`` and ``ddoc/name`` go to the query
  side's hook (``extensions.HOOKS.changes_filter``). Any other name is
  ``400``; a filter the hook cannot find is its 404.
- ``normal`` answers what is there (``descending``: newest first, from the
  newest, whatever ``since`` says, as CouchDB does). ``longpoll`` answers at
  once when there are changes, else waits for the first one (or ``timeout``).
  ``continuous`` sends one row per line as they happen; ``heartbeat`` (ms)
  sends an empty line when idle and keeps the feed open for ever,
  otherwise ``timeout`` (default 60 s) of silence ends it with the
  ``{"last_seq", "pending"}`` line.
- A feed waits on the database's waiters: a write (in any thread, on any
  loop) wakes it; it reads on a worker thread a page at a time and holds
  nothing between pages.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from .bodies import render
from .database import LocalDb
from .errors import BadRequest, method_not_allowed
from .extensions import HOOKS, db_endpoint
from .reads import DocRow, ReadOptions, render_revision
from .requests import JSON_HEADERS, Reply, Request
from .revs import format_rev
from .revtree import RevTree

__all__ = ["ChangesQuery", "changes"]

_PAGE = 1000
_IN_LIMIT = 500  # doc_ids given to SQLite as parameters, up to this many
_DEFAULT_TIMEOUT_MS = 60_000


def parse_since(value: str | None, db: LocalDb) -> int:
    if value is None:
        return 0
    if value == "now":
        return db.update_seq
    try:
        since = int(value)
    except ValueError:
        raise BadRequest("Malformed sequence supplied in 'since' parameter.") from None
    if since < 0:
        raise BadRequest("Malformed sequence supplied in 'since' parameter.")
    return since


class ChangesQuery:
    """What to list: options, filter, and how rows are made."""

    def __init__(self, request: Request, db: LocalDb, body: dict[str, Any]) -> None:
        self.db = db
        self.include_docs = request.flag("include_docs")
        self.conflicts = request.flag("conflicts")
        self.attachments = request.flag("attachments")
        self.all_docs = request.query.get("style") == "all_docs"
        self.descending = request.flag("descending")
        self.doc_ids: list[str] | None = None
        self.design_only = False
        self.filter: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
        name = request.query.get("filter")
        if name == "_doc_ids":
            ids = body.get("doc_ids") if "doc_ids" in body else request.json_option("doc_ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise BadRequest("`doc_ids` filter parameter is not a list of doc ids.")
            self.doc_ids = list(dict.fromkeys(ids))
        elif name == "_design":
            self.design_only = True
        elif name is not None:
            if not name.startswith("_") and name.count("/") != 1:
                raise BadRequest("`filter` must be of the form `designname/filtername`")
            if name not in ("_selector", "_view") and name.startswith("_"):
                raise BadRequest(f"unknown builtin filter name: {name}")
            hook = HOOKS.changes_filter
            if hook is None:
                raise BadRequest(f"filter {name} needs the query side of the embedded store, not installed")
            self.filter = hook(request, db)
        self.need_tree = self.all_docs or self.conflicts
        self.need_body = self.include_docs or self.filter is not None

    # --- reading a page (worker thread) -----------------------------------------------

    def page(self, conn: sqlite3.Connection, since: int, limit: int) -> tuple[list[bytes], int, bool]:
        """(rows, seq scanned up to, whether the scan reached the end)."""
        columns = (
            "seq, id, rev, deleted, tree, atts, body"
            if self.need_body or self.need_tree
            else "seq, id, rev, deleted, NULL, NULL, NULL"
        )
        order = "DESC" if self.descending else "ASC"
        where = "seq < ?" if self.descending else "seq > ?"
        args: list[Any] = [since]
        wanted: set[str] | None = None
        if self.doc_ids is not None:
            if len(self.doc_ids) <= _IN_LIMIT:
                where += f" AND id IN ({','.join('?' * len(self.doc_ids))})"
                args.extend(self.doc_ids)
            else:  # more than SQLite takes as parameters: filtered here
                wanted = set(self.doc_ids)
        elif self.design_only:
            where += " AND id >= '_design/' AND id < '_design0'"
        scan = limit if self.filter is None else max(limit, _PAGE)
        found = conn.execute(
            f"SELECT {columns} FROM docs WHERE {where} ORDER BY seq {order} LIMIT ?", (*args, scan)
        ).fetchall()
        reached_end = len(found) < scan
        if wanted is not None:
            last_scanned = found[-1][0] if found else since
            found = [row for row in found if row[1] in wanted]
            rows = [self._row(conn, *row) for row in found]
            return rows, last_scanned, reached_end
        if self.filter is not None:
            return self._filtered(conn, found, limit, since, reached_end)
        rows = [self._row(conn, *row) for row in found]
        last = found[-1][0] if found else since
        return rows, last, reached_end

    def _filtered(
        self, conn: sqlite3.Connection, found: list[Any], limit: int, since: int, reached_end: bool
    ) -> tuple[list[bytes], int, bool]:
        assert self.filter is not None
        candidates = []
        for seq, docid, rev, deleted, tree, atts, body in found:
            row = orjson.loads(self._row(conn, seq, docid, rev, deleted, tree, atts, body, with_doc=True))
            candidates.append(row)
        passed = self.filter(candidates)
        if len(passed) > limit:  # the scan went past the limit: resume after the last row sent
            passed = passed[:limit]
            last, reached_end = passed[-1]["seq"], False
        else:
            last = found[-1][0] if found else since
        out: list[bytes] = []
        for row in passed:
            if not self.include_docs:
                row.pop("doc", None)
            out.append(orjson.dumps(row))
        return out, last, reached_end

    def _row(
        self,
        conn: sqlite3.Connection,
        seq: int,
        docid: str,
        rev: str,
        deleted: int,
        tree: bytes | None,
        atts: bytes | None,
        body: bytes | None,
        with_doc: bool = False,
    ) -> bytes:
        if self.all_docs and tree is not None:
            leaves = RevTree.decode(tree).sorted_leaves()
            changes = b",".join(b'{"rev":' + orjson.dumps(format_rev(leaf)) + b"}" for leaf in leaves)
        else:
            changes = b'{"rev":' + orjson.dumps(rev) + b"}"
        row = b'{"seq":%d,"id":%s,"changes":[%s]%s' % (
            seq,
            orjson.dumps(docid),
            changes,
            b',"deleted":true' if deleted else b"",
        )
        if self.include_docs or with_doc:
            assert body is not None
            if deleted and not self.include_docs:
                doc = render(docid, rev, body, deleted=True)
            elif atts or self.conflicts:
                stored = DocRow(docid, (seq, rev, deleted, tree, atts, body))
                options = ReadOptions()
                options.conflicts = self.conflicts
                options.attachments = self.attachments
                doc = render_revision(conn, stored, stored.rev, (bool(deleted), atts, body), options)
            else:
                doc = render(docid, rev, body, deleted=bool(deleted))
            row += b',"doc":' + doc
        return row + b"}"


def _pending(conn: sqlite3.Connection, db: LocalDb, after: int) -> int:
    """How many changes come after ``after``: counted once, then kept up by difference while nothing is written."""
    seq = db.update_seq
    memo = db.pending_memo
    if memo is not None and memo[0] == seq and memo[1] <= after:
        between = conn.execute("SELECT count(*) FROM docs WHERE seq > ? AND seq <= ?", (memo[1], after)).fetchone()[0]
        count = memo[2] - between
    else:
        count = conn.execute("SELECT count(*) FROM docs WHERE seq > ?", (after,)).fetchone()[0]
    db.pending_memo = (seq, after, count)
    return int(count)


def _older(conn: sqlite3.Connection, before: int) -> int:
    """How many changes a descending feed has left below ``before``."""
    return int(conn.execute("SELECT count(*) FROM docs WHERE seq < ?", (before,)).fetchone()[0])


def _last(last_seq: int, pending: int) -> bytes:
    return b'"last_seq":' + str(last_seq).encode() + b',"pending":' + str(pending).encode()


async def _wait(request: Request, db: LocalDb, since: int, seconds: float) -> bool:
    """Wait for a change after ``since`` for at most ``seconds``; True when one came."""
    runtime = request.runtime
    waiter = runtime.new_waiter()
    db.listen(waiter)
    if db.update_seq > since or db.closed:
        db.forget(waiter)
        return True

    async def alarm() -> None:
        await runtime.sleep(seconds)
        waiter.fire()

    timer = runtime.spawn(alarm(), lambda: None)
    try:
        await waiter.wait()
    finally:
        timer.cancel()
        db.forget(waiter)
    return db.update_seq > since or db.closed


@db_endpoint("_changes")
async def changes(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_changes``."""
    if request.method not in ("GET", "POST", "HEAD"):
        raise method_not_allowed("GET,POST,HEAD")
    body: dict[str, Any] = {}
    if request.method == "POST":
        raw = await request.read_body()
        if raw:
            body = await request.json_object()
    feed = request.query.get("feed", "normal")
    if feed not in ("normal", "longpoll", "continuous", "eventsource"):
        raise BadRequest(f"Supported `feed` types: normal, continuous, live, longpoll, eventsource, not {feed}")
    since = parse_since(request.query.get("since"), db)
    limit = request.number("limit")
    if limit is not None and limit < 0:
        raise BadRequest("Invalid value for limit", error="query_parse_error")
    heartbeat = _heartbeat(request)
    timeout_ms = request.number("timeout", _DEFAULT_TIMEOUT_MS) or 0
    query = ChangesQuery(request, db, body)
    runtime = request.runtime
    if query.descending:  # newest first, from the newest: CouchDB ignores since then
        return Reply(200, JSON_HEADERS, _normal(request, db, query, db.update_seq + 1, limit))
    if feed == "longpoll":
        first, _, _ = await db.read(runtime, query.page, since, 1)
        if not first:
            await _wait_longpoll(request, db, since, heartbeat, timeout_ms)
    if feed in ("normal", "longpoll"):
        return Reply(200, JSON_HEADERS, _normal(request, db, query, since, limit))
    return Reply(200, JSON_HEADERS, _continuous(request, db, query, since, limit, heartbeat, timeout_ms))


def _heartbeat(request: Request) -> int | None:
    value = request.query.get("heartbeat")
    if value is None:
        return None
    if value == "true":
        return _DEFAULT_TIMEOUT_MS
    try:
        beat = int(value)
    except ValueError:
        raise BadRequest("Invalid heartbeat value. Expecting a positive integer value.") from None
    if beat <= 0:
        raise BadRequest("The heartbeat value should be a positive integer (in milliseconds).")
    return beat


async def _wait_longpoll(request: Request, db: LocalDb, since: int, heartbeat: int | None, timeout_ms: int) -> None:
    deadline = None if heartbeat is not None else time.monotonic() + timeout_ms / 1000
    step = (heartbeat or timeout_ms) / 1000
    while True:
        left = step if deadline is None else min(step, deadline - time.monotonic())
        if left <= 0 or await _wait(request, db, since, left):
            return


async def _normal(
    request: Request, db: LocalDb, query: ChangesQuery, since: int, limit: int | None
) -> AsyncIterator[bytes]:
    runtime = request.runtime
    yield b'{"results":[\n'
    sent = 0
    position = since
    first = True
    while limit is None or sent < limit:
        count = _PAGE if limit is None else min(_PAGE, limit - sent)
        rows, position, ended = await db.read(runtime, query.page, position, count)
        if rows:
            yield (b"" if first else b",\n") + b",\n".join(rows)
            first = False
            sent += len(rows)
        if ended:
            break
    if query.descending:
        if first:  # nothing at all
            position = since - 1
        pending = await db.read(runtime, _older, position)
    else:
        if limit is None or sent < limit:
            position = max(position, since)
        pending = await db.read(runtime, _pending, db, position)
    yield b"\n],\n" + _last(position, pending) + b"}\n"


async def _continuous(
    request: Request,
    db: LocalDb,
    query: ChangesQuery,
    since: int,
    limit: int | None,
    heartbeat: int | None,
    timeout_ms: int,
) -> AsyncIterator[bytes]:
    runtime = request.runtime
    sent = 0
    position = since
    idle_since = time.monotonic()
    while True:
        if limit is not None and sent >= limit:
            break
        count = _PAGE if limit is None else min(_PAGE, limit - sent)
        rows, position, ended = await db.read(runtime, query.page, position, count)
        if rows:
            yield b"\n".join(rows) + b"\n"
            sent += len(rows)
            idle_since = time.monotonic()
        if not ended or (limit is not None and sent >= limit):
            continue
        if db.closed:
            break
        if heartbeat is not None:
            if not await _wait(request, db, position, heartbeat / 1000):
                yield b"\n"
            continue
        left = timeout_ms / 1000 - (time.monotonic() - idle_since)
        if left <= 0 or not await _wait(request, db, position, left):
            break
    pending = await db.read(runtime, _pending, db, position)
    yield b"{" + _last(position, pending) + b"}\n"
