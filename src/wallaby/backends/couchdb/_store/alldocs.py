"""``_all_docs``, ``_design_docs``, ``_local_docs``: every document by id, with the view options.

Rules kept here (checked against CouchDB 3.5):

- Ids are ordered by code point (CouchDB's raw order for ``_all_docs``, not
  the ICU collation of views: ``"B" < "a"``); a key that is not a string
  sorts before every id, as Erlang orders terms.
- Deleted documents are left out, except when asked for by ``keys``: then
  ``{"id", "key", "value": {"rev", "deleted": true}, "doc": null}``. A key
  with no document is ``{"key": k, "error": "not_found"}``.
- ``total_rows`` counts the live documents (the design documents for
  ``_design_docs``; null for ``_local_docs``); ``offset`` the rows before
  the first one answered (null with ``keys``); ``update_seq`` comes before
  the rows.
- ``reduce=true`` or ``group`` is ``400 query_parse_error``: there is no
  reduce. ``include_docs`` adds each document (with ``conflicts=true`` its
  ``_conflicts``, with ``attachments=true`` the data).
- Rows are read a page at a time on a worker thread and sent as they are
  read, so memory holds one page, whatever the size of the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from .bodies import render
from .database import LocalDb
from .errors import BadRequest, NotFound, method_not_allowed
from .extensions import db_endpoint
from .reads import DocRow, ReadOptions, render_revision
from .requests import JSON_HEADERS, Reply, Request, collect, json_reply
from .viewopts import MISSING, ViewOptions, each_query

__all__ = ["all_docs", "design_docs", "local_docs", "rows_reply"]

_PAGE = 1000
_DESIGN = ("_design/", "_design0")  # "0" follows "/"
_HIGH = "\U0010ffff"


class _Range:
    """The ids a query covers, as SQL bounds, and the direction."""

    def __init__(self, options: ViewOptions, floor: str | None = None, ceiling: str | None = None) -> None:
        self.empty = False
        self.floor, self.ceiling = floor, ceiling
        self.low: tuple[str, bool] | None = (floor, True) if floor is not None else None  # (id, inclusive)
        self.high: tuple[str, bool] | None = (ceiling, False) if ceiling is not None else None
        self.descending = options.descending
        start, end = options.start, options.end
        first, last = (end, start) if options.descending else (start, end)
        last_inclusive = options.inclusive_end
        if first is not MISSING:
            self._narrow_low(first, True if not options.descending else last_inclusive)
        if last is not MISSING:
            self._narrow_high(last, last_inclusive if not options.descending else True)

    def _narrow_low(self, key: Any, inclusive: bool) -> None:
        if not isinstance(key, str):
            return  # below every id
        if self.low is None or key > self.low[0] or (key == self.low[0] and not inclusive):
            self.low = (key, inclusive)

    def _narrow_high(self, key: Any, inclusive: bool) -> None:
        if not isinstance(key, str):
            self.empty = True  # below every id
            return
        if self.high is None or key < self.high[0] or (key == self.high[0] and not inclusive):
            self.high = (key, inclusive)

    def where(self, after: str | None) -> tuple[str, list[Any]]:
        clauses, args = [], []
        low, high = self.low, self.high
        if after is not None:
            if self.descending:
                high = (after, False)
            else:
                low = (after, False)
        if low is not None:
            clauses.append("id >= ?" if low[1] else "id > ?")
            args.append(low[0])
        if high is not None:
            clauses.append("id <= ?" if high[1] else "id < ?")
            args.append(high[0])
        return " AND ".join(clauses) or "1", args

    def scope(self) -> tuple[str, list[Any]]:
        """The SQL condition of the floor and ceiling (a partition, the design documents)."""
        if self.floor is None:
            return "1", []
        return "id >= ? AND id < ?", [self.floor, self.ceiling]

    def where_before(self) -> tuple[str, list[Any]]:
        """The SQL condition of the live ids before the range (in its direction)."""
        if self.descending:
            high = self.high
            if high is None:
                return "0", []
            return ("id > ?" if high[1] else "id >= ?"), [high[0]]
        low = self.low
        if low is None:
            return "0", []
        return ("id < ?" if low[1] else "id <= ?"), [low[0]]


def _row(
    conn: sqlite3.Connection,
    docid: str,
    rev: str,
    deleted: bool,
    tree: bytes | None,
    atts: Any,
    body: bytes | None,
    options: ViewOptions,
) -> bytes:
    key = orjson.dumps(docid)
    if not options.include_docs:
        if deleted:
            return b'{"id":%s,"key":%s,"value":{"rev":%s,"deleted":true}}' % (key, key, orjson.dumps(rev))
        return b'{"id":%s,"key":%s,"value":{"rev":%s}}' % (key, key, orjson.dumps(rev))
    if deleted:
        return b'{"id":%s,"key":%s,"value":{"rev":%s,"deleted":true},"doc":null}' % (key, key, orjson.dumps(rev))
    assert body is not None and tree is not None
    if not atts and not options.conflicts:
        doc = render(docid, rev, body)
    else:
        row = DocRow(docid, (0, rev, False, tree, atts, body))
        read = ReadOptions()
        read.conflicts = options.conflicts
        read.attachments = options.attachments
        doc = render_revision(conn, row, row.rev, (False, atts, body), read)
    return b'{"id":%s,"key":%s,"value":{"rev":%s},"doc":%s}' % (key, key, orjson.dumps(rev), doc)


def _page(
    conn: sqlite3.Connection, span: _Range, after: str | None, skip: int, count: int, options: ViewOptions
) -> list[tuple[str, bytes]]:
    where, args = span.where(after)
    order = "DESC" if span.descending else "ASC"
    columns = "id, rev, tree, atts, body" if options.include_docs else "id, rev, NULL, NULL, NULL"
    sql = f"SELECT {columns} FROM docs WHERE {where} AND NOT deleted ORDER BY id {order} LIMIT ? OFFSET ?"
    return [
        (docid, _row(conn, docid, rev, False, tree, atts, body, options))
        for docid, rev, tree, atts, body in conn.execute(sql, (*args, count, skip))
    ]


def _counts(conn: sqlite3.Connection, span: _Range, scoped: bool) -> tuple[int | None, int]:
    """(live documents in the span's floor and ceiling when ``scoped``, live rows before the range)."""
    where, args = span.where_before()
    scope, scope_args = span.scope()
    before = conn.execute(f"SELECT count(*) FROM docs WHERE {scope} AND {where}", (*scope_args, *args)).fetchone()[0]
    before -= conn.execute(
        f"SELECT count(*) FROM docs WHERE deleted AND {scope} AND {where}", (*scope_args, *args)
    ).fetchone()[0]
    total = None
    if scoped:
        total = conn.execute(f"SELECT count(*) FROM docs WHERE NOT deleted AND {scope}", scope_args).fetchone()[0]
    return total, before


def _keyed(
    conn: sqlite3.Connection, keys: list[Any], options: ViewOptions, floor: str | None, ceiling: str | None
) -> list[bytes]:
    rows = []
    for key in keys:
        found = None
        if isinstance(key, str) and (floor is None or floor <= key < (ceiling or _HIGH)):
            found = conn.execute("SELECT rev, deleted, tree, atts, body FROM docs WHERE id = ?", (key,)).fetchone()
        if found is None:
            rows.append(b'{"key":' + orjson.dumps(key) + b',"error":"not_found"}')
        else:
            rev, deleted, tree, atts, body = found
            rows.append(_row(conn, key, rev, bool(deleted), tree, atts, body, options))
    return rows


async def _nothing() -> AsyncIterator[list[bytes]]:
    return
    yield


async def paged(
    read: Callable[[str | None, int, int], Awaitable[list[tuple[str, bytes]]]], skip: int, limit: int | None
) -> AsyncIterator[list[bytes]]:
    """Rows a page at a time: ``read(after_id, skip, count)`` gives (id, row) pairs from after ``after_id``."""
    after: str | None = None
    left = limit
    while left is None or left > 0:
        count = _PAGE if left is None else min(_PAGE, left)
        found = await read(after, skip, count)
        skip = 0
        yield [row for _, row in found]
        if len(found) < count:
            return
        after = found[-1][0]
        if left is not None:
            left -= len(found)


def rows_reply(head: dict[str, Any], rows: AsyncIterator[list[bytes]], tail: dict[str, Any] | None = None) -> Reply:
    """A ``{..., "rows": [...]}`` answer streamed a page of rows at a time."""

    async def body() -> AsyncIterator[bytes]:
        opening = orjson.dumps(head)[:-1]
        yield (opening + b',"rows":[\r\n') if len(opening) > 1 else b'{"rows":[\r\n'
        first = True
        async for page in rows:
            if page:
                yield (b"" if first else b",\r\n") + b",\r\n".join(page)
                first = False
        end = b"\r\n]"
        if tail:
            end += b"," + orjson.dumps(tail)[1:-1]
        yield end + b"}\n"

    return Reply(200, JSON_HEADERS, body())


async def _query(
    request: Request,
    db: LocalDb,
    design: bool,
    floor: str | None = None,
    ceiling: str | None = None,
    keys: list[Any] | None = None,
) -> Reply:
    if request.method not in ("GET", "HEAD", "POST"):
        raise method_not_allowed("GET,HEAD,POST")
    options = await ViewOptions.of(request)
    if keys is not None:
        options.keys = keys
    if options.reduce:
        raise BadRequest("Reduce is invalid for map-only views.", error="query_parse_error")
    if options.group or options.group_level is not None:
        raise BadRequest("Invalid use of grouping on a map view.", error="query_parse_error")
    if design:
        floor, ceiling = _DESIGN
    runtime = request.runtime
    head: dict[str, Any] = {}
    if options.keys is not None:
        keys = options.keys[::-1] if options.descending else options.keys
        keys = keys[options.skip :]
        if options.limit is not None:
            keys = keys[: options.limit]
        total = db.counters["doc_count"]
        if floor is not None:
            total, _ = await db.read(runtime, _counts, _Range(options, floor, ceiling), True)
        head = {"total_rows": total, "offset": None}
        if options.update_seq:
            head["update_seq"] = db.update_seq

        async def keyed() -> AsyncIterator[list[bytes]]:
            for start in range(0, len(keys), _PAGE):
                yield await db.read(runtime, _keyed, keys[start : start + _PAGE], options, floor, ceiling)

        return rows_reply(head, keyed())
    span = _Range(options, floor, ceiling)
    scoped = floor is not None
    total, before = await db.read(runtime, _counts, span, scoped)
    head = {"total_rows": total if scoped else db.counters["doc_count"], "offset": before + options.skip}
    if options.update_seq:
        head["update_seq"] = db.update_seq
    limit = options.limit

    if span.empty or limit == 0:
        return rows_reply(head, _nothing())

    def page(after: str | None, skip: int, count: int) -> Awaitable[list[tuple[str, bytes]]]:
        return db.read(runtime, _page, span, after, skip, count, options)

    return rows_reply(head, paged(page, options.skip, limit))


@db_endpoint("_all_docs")
async def all_docs(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_all_docs``, ``POST /{db}/_all_docs/queries``."""
    if rest == ["queries"]:
        if request.method != "POST":
            raise method_not_allowed("POST")
        results = []
        for sub, keys in each_query(request, await request.json_object()):
            reply = await _all_docs(sub, db, keys)
            results.append(orjson.loads(await collect(reply)))
        return json_reply(200, {"results": results})
    if rest:
        raise NotFound("missing")
    return await _all_docs(request, db)


async def _all_docs(request: Request, db: LocalDb, keys: list[Any] | None = None) -> Reply:
    if request.partition is not None:
        prefix = request.partition + ":"
        return await _query(request, db, False, prefix, prefix[:-1] + ";", keys)
    return await _query(request, db, False, keys=keys)


@db_endpoint("_design_docs")
async def design_docs(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_design_docs``."""
    return await _query(request, db, True)


def _local_row(docid: str, number: int, body: bytes, include: bool) -> bytes:
    rev = f"0-{number}"
    key = orjson.dumps(docid)
    if include:
        return b'{"id":%s,"key":%s,"value":{"rev":"%s"},"doc":%s}' % (key, key, rev.encode(), render(docid, rev, body))
    return b'{"id":%s,"key":%s,"value":{"rev":"%s"}}' % (key, key, rev.encode())


def _local_page(
    conn: sqlite3.Connection, span: _Range, after: str | None, skip: int, count: int, include: bool
) -> list[tuple[str, bytes]]:
    where, args = span.where(after)
    order = "DESC" if span.descending else "ASC"
    return [
        (docid, _local_row(docid, number, body, include))
        for docid, number, body in conn.execute(
            f"SELECT id, rev, body FROM local WHERE {where} ORDER BY id {order} LIMIT ? OFFSET ?", (*args, count, skip)
        )
    ]


def _local_keyed(conn: sqlite3.Connection, keys: list[Any], include: bool) -> list[bytes]:
    rows = []
    for key in keys:
        found = None
        if isinstance(key, str):
            found = conn.execute("SELECT rev, body FROM local WHERE id = ?", (key,)).fetchone()
        if found is None:
            rows.append(b'{"key":%s,"error":"not_found"}' % orjson.dumps(key))
        else:
            rows.append(_local_row(key, found[0], found[1], include))
    return rows


@db_endpoint("_local_docs")
async def local_docs(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_local_docs``: total_rows and offset are null, as from CouchDB."""
    options = await ViewOptions.of(request)
    runtime = request.runtime
    head: dict[str, Any] = {"total_rows": None, "offset": None}
    if options.keys is not None:
        keys = list(options.keys)

        async def one() -> AsyncIterator[list[bytes]]:
            yield await db.read(runtime, _local_keyed, keys, options.include_docs)

        return rows_reply(head, one())
    span = _Range(options, "_local/", "_local0")

    def page(after: str | None, skip: int, count: int) -> Awaitable[list[tuple[str, bytes]]]:
        return db.read(runtime, _local_page, span, after, skip, count, options.include_docs)

    return rows_reply(head, paged(page, options.skip, options.limit))
