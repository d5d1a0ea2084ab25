"""The view endpoints of the embedded store, and the hooks the engine calls for views and JavaScript.

Rules kept here (checked against CouchDB 3.5):

- ``GET|POST /{db}/_design/{ddoc}/_view/{view}`` answers ``{"total_rows",
  "offset", "rows"}`` for a map (``update_seq`` too when asked), ``{"rows"}``
  for a reduce; ``POST .../_view/{view}/queries`` runs each of
  ``{"queries": [...]}`` and answers ``{"results": [...]}``.
- ``include_docs=true`` adds the row's document, or the document a value
  ``{"_id": ..., "_rev"?: ...}`` links to (null when there is none).
- ``GET /{db}/_design/{ddoc}/_info`` answers the index's ``view_index``.
- Saving a design document compiles its maps and reduces
  (``400 compilation_error``, ``400 invalid_design_doc``); every other
  write (``new_edits=false`` too) passes each design document's
  ``validate_doc_update`` with the user context of the embedded store
  (``{"db", "name": null, "roles": ["_admin"]}``: the process owns it) and
  the database's security object.
- ``_view_cleanup`` drops the indexes of design documents gone or changed.
- In a partitioned database a design document's views are partitioned
  unless its ``options.partitioned`` is false: a query of one needs
  ``/{db}/_partition/{p}/...`` and reads the rows of ``{p}:...`` documents
  only (``total_rows`` and ``offset`` count in the partition); a
  global view refuses a partition. Both refusals are ``400
  query_parse_error``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from .alldocs import rows_reply
from .database import LocalDb
from .errors import HttpError, NotFound, method_not_allowed
from .extensions import HOOKS, PARTITIONED, design_endpoint
from .js import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, JSError, Sandbox, sandbox_for
from .reads import ReadOptions, read_revision, read_row, render_revision
from .requests import Reply, Request, collect, json_reply
from .revs import parse_rev
from .viewopts import MISSING, ViewOptions, each_query
from .views import (
    PAGE,
    Design,
    Index,
    Mapped,
    Query,
    QueryError,
    check_design,
    drop_unused,
    index_for,
    key_rows,
    reduce_groups,
    rows_of,
    skip_limit,
)

__all__ = ["design_of", "install", "one_query", "security_object", "user_context", "view", "view_info"]

_EXTENSION = "views"


def http_error(exc: JSError) -> HttpError:
    return HttpError(exc.reason, status=exc.status, error=exc.error)


class _DbViews:
    """What the query side keeps for one database: its indexes and its validate functions."""

    def __init__(self) -> None:
        self.indexes: dict[str, Index] = {}
        self.validators: tuple[tuple[tuple[str, str], ...], list[tuple[str, dict[str, Any]]]] | None = None
        self.time_limit = DEFAULT_TIME_LIMIT
        self.memory_limit = DEFAULT_MEMORY_LIMIT


def state_of(db: LocalDb) -> _DbViews:
    found = db.extensions.get(_EXTENSION)
    if found is None:
        found = db.extensions[_EXTENSION] = _DbViews()
    assert isinstance(found, _DbViews)
    return found


def read_design(conn: sqlite3.Connection, ddoc_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT rev, body FROM docs WHERE id = ? AND NOT deleted", (ddoc_id,)).fetchone()
    if row is None:
        return None
    ddoc: dict[str, Any] = orjson.loads(row[1])
    ddoc["_id"], ddoc["_rev"] = ddoc_id, row[0]
    return ddoc


def all_designs(conn: sqlite3.Connection) -> list[tuple[str, str, bytes]]:
    return conn.execute(
        "SELECT id, rev, body FROM docs WHERE id >= '_design/' AND id < '_design0' AND NOT deleted ORDER BY id"
    ).fetchall()


async def design_of(request: Request, db: LocalDb, ddoc_id: str) -> Design:
    ddoc = await db.read(request.runtime, read_design, ddoc_id)
    if ddoc is None:
        raise NotFound("missing")
    return Design(ddoc_id, ddoc)


# --- keeping an index up to date -----------------------------------------------------------------


_MAPPERS = ThreadPoolExecutor(2, thread_name_prefix="wallaby-store-map")  # threads keep their JS sandboxes


def _write_batch(txn: Any, index: Index, mapped: Mapped, purge_seq: int, unindexed: int) -> tuple[int, bool] | None:
    return index.write_batch(txn.conn, mapped, purge_seq, unindexed)


def update_blocking(db: LocalDb, index: Index) -> int:
    """Bring ``index`` up to the database's seq, batch by batch (worker thread); the seq reached.

    A pipeline of two: while one batch is written (this thread, the writer
    connection), the next one is mapped on a mapper thread.
    """
    with index.lock:
        target = db.update_seq
        unindexed_up_to = 0
        while True:  # more than once only if the index moved under a batch (another process)
            purge_seq = int(db.counters.get("purge_seq", 0))  # read before the documents: never newer than they are
            after = db.read_blocking(index.seq)
            mapping = _MAPPERS.submit(index.map_batch, after, db.read_blocking(index.changed_after, after))
            while True:
                try:
                    mapped = mapping.result()
                except JSError as exc:
                    raise http_error(exc) from None
                more = mapped.full and mapped.last < target
                if more:
                    next_purge_seq = int(db.counters.get("purge_seq", 0))
                    changed = db.read_blocking(index.changed_after, mapped.last)
                    mapping = _MAPPERS.submit(index.map_batch, mapped.last, changed)
                written = db.write_blocking(_write_batch, index, mapped, purge_seq, unindexed_up_to)
                if written is None:
                    break
                seq, empty = written
                if empty:  # seen empty while the database was at target or later
                    unindexed_up_to = target
                if not more:
                    return seq
                purge_seq = next_purge_seq


async def _fresh(request: Request, db: LocalDb, index: Index, update: str) -> None:
    runtime = request.runtime
    if update == "true":
        await runtime.to_thread(update_blocking, db, index)
        return
    if await db.read(runtime, index.state) is None:
        await db.write(runtime, lambda txn: index.create(txn.conn))
    if update == "lazy":

        async def later() -> None:
            await runtime.to_thread(update_blocking, db, index)

        runtime.spawn(later(), lambda: None)


# --- rows out ---------------------------------------------------------------------------------------


def _doc_json(conn: sqlite3.Connection, docid: str, rev: str | None, view_options: ViewOptions) -> bytes:
    row = read_row(conn, docid)
    if row is None:
        return b"null"
    options = ReadOptions()
    options.conflicts = view_options.conflicts
    options.attachments = view_options.attachments
    if rev is None:
        if row.deleted:
            return b"null"
        return render_revision(conn, row, row.rev, (row.deleted, row.atts, row.body), options)
    try:
        wanted = parse_rev(rev)
    except HttpError:
        return b"null"
    stored = read_revision(conn, row, wanted)
    if stored is None:
        return b"null"
    return render_revision(conn, row, wanted, stored, options)


def _map_row(conn: sqlite3.Connection, docid: str, k: bytes, v: bytes, options: ViewOptions) -> bytes:
    row = b'{"id":' + orjson.dumps(docid) + b',"key":' + k + b',"value":' + v
    if options.include_docs:
        target, rev = docid, None
        if v[:1] == b"{":
            value = orjson.loads(v)
            if isinstance(value.get("_id"), str):
                target = value["_id"]
                rev = value.get("_rev") if isinstance(value.get("_rev"), str) else None
        row += b',"doc":' + _doc_json(conn, target, rev, options)
    return row + b"}"


def _map_page(
    conn: sqlite3.Connection,
    index: Index,
    view: int,
    query: Query,
    after: tuple[bytes, str, int] | None,
    skip: int,
    count: int,
) -> tuple[list[bytes], tuple[bytes, str, int] | None, int]:
    """(rows as JSON, the last row's position, how many were read) for one page of a map query."""
    found = index.rows(conn, view, query.span, after, skip + count)
    last = found[-1][:3] if found else None
    out = [_map_row(conn, docid, k, v, query.o) for _, docid, _, k, v in found[skip:]]
    return out, last, len(found)


def _map_keys(conn: sqlite3.Connection, index: Index, view: int, query: Query) -> list[bytes]:
    options = query.o
    out: list[bytes] = []
    for key in options.keys or []:
        for _, docid, _, k, v in key_rows(conn, index, view, key, options.descending, MISSING, query.span.partition):
            out.append(_map_row(conn, docid, k, v, options))
    return out[options.skip :] if options.limit is None else out[options.skip : options.skip + options.limit]


def _reduced(conn: sqlite3.Connection, index: Index, view: int, query: Query) -> list[bytes]:
    options = query.o
    source = query.reduce_source
    assert source is not None

    def box() -> Sandbox:
        return index.sandbox()

    if options.keys is not None:
        groups = []
        for key in options.keys:
            found = key_rows(conn, index, view, key, options.descending, MISSING, query.span.partition)
            if found:
                groups += list(reduce_groups(rows_of(found), source, "exact", box))
    else:

        def everything() -> Any:
            after = None
            while True:
                page = index.rows(conn, view, query.span, after, PAGE)
                yield from rows_of(page)
                if len(page) < PAGE:
                    return
                after = page[-1][:3]

        groups = list(skip_limit(reduce_groups(everything(), source, query.group_level, box), 0, None))
    try:
        picked = skip_limit(iter(groups), options.skip, options.limit)
        return [b'{"key":' + orjson.dumps(k) + b',"value":' + orjson.dumps(v) + b"}" for k, v in picked]
    except JSError as exc:
        raise http_error(exc) from None


def _reduce_blocking(db: LocalDb, index: Index, view: int, query: Query) -> list[bytes]:
    try:
        return db.read_blocking(_reduced, index, view, query)
    except JSError as exc:
        raise http_error(exc) from None


# --- the endpoints ------------------------------------------------------------------------------------


def _partition(request: Request, db: LocalDb, design: Design) -> str | None:
    """The partition a query reads (``couch_mrview_util:validate_args``): a partitioned view wants one."""
    if design.partitioned_in(db.partitioned):
        if request.partition is None:
            raise QueryError(400, "query_parse_error", "`partition` parameter is mandatory for queries to this view.")
        return request.partition
    if request.partition is not None:
        raise QueryError(400, "query_parse_error", "`partition` parameter is not supported in this design doc")
    return None


async def one_query(request: Request, db: LocalDb, design: Design, name: str, options: ViewOptions) -> Reply:
    try:
        view, reduce_source = design.view(name)
        query = Query(options, reduce_source, MISSING)
        query.span.partition = _partition(request, db, design)
    except JSError as exc:
        raise http_error(exc) from None
    views = state_of(db)
    index = index_for(views.indexes, design, views.time_limit, views.memory_limit)
    await _fresh(request, db, index, options.update)
    runtime = request.runtime
    head: dict[str, Any] = {}
    if query.reducing:
        if options.update_seq:
            head["update_seq"] = await db.read(runtime, lambda conn: (index.state(conn) or (0, 0, []))[0])
        rows = await runtime.to_thread(_reduce_blocking, db, index, view, query)

        async def once() -> AsyncIterator[list[bytes]]:
            yield rows

        return rows_reply(head, once())
    state = await db.read(runtime, index.state)
    seq, _, counts = state or (0, 0, [0] * (view + 1))
    if query.span.partition is not None and state is not None:
        counts = list(counts)
        counts[view] = await db.read(runtime, index.count_in_partition, view, query.span.partition)
    head["total_rows"] = counts[view]
    if options.keys is not None:
        if options.update_seq:
            head["update_seq"] = seq
        found = await db.read(runtime, _map_keys, index, view, query)

        async def keyed() -> AsyncIterator[list[bytes]]:
            yield found

        return rows_reply(head, keyed())
    before = await db.read(runtime, index.count_before, view, query.span)
    head["offset"] = min(before + options.skip, counts[view])
    if options.update_seq:
        head["update_seq"] = seq

    async def pages() -> AsyncIterator[list[bytes]]:
        after = None
        skip = options.skip
        left = options.limit
        while left is None or left > 0:
            count = PAGE if left is None else min(PAGE, left)
            rows, last, read = await db.read(runtime, _map_page, index, view, query, after, skip, count)
            yield rows
            if read < skip + count or last is None:
                return
            skip = 0
            after = last
            if left is not None:
                left -= len(rows)

    return rows_reply(head, pages())


@design_endpoint("_view")
async def view(request: Request, db: LocalDb, ddoc_id: str, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_design/{ddoc}/_view/{view}`` and ``POST .../_view/{view}/queries``."""
    if request.method not in ("GET", "HEAD", "POST"):
        raise method_not_allowed("GET,HEAD,POST")
    if not rest or not rest[0] or len(rest) > 2 or (len(rest) == 2 and rest[1] != "queries"):
        raise NotFound("missing")
    design = await design_of(request, db, ddoc_id)
    body: dict[str, Any] | None = None
    if request.method == "POST":
        raw = await request.read_body()
        body = await request.json_object() if raw else {}
    if len(rest) == 2:
        if request.method != "POST":
            raise method_not_allowed("POST")
        assert body is not None
        return await _queries(request, db, design, rest[0], body)
    options = await ViewOptions.of(request, body)
    return await one_query(request, db, design, rest[0], options)


async def _queries(request: Request, db: LocalDb, design: Design, name: str, body: dict[str, Any]) -> Reply:
    results = []
    for sub, keys in each_query(request, body):
        options = await ViewOptions.of(sub)
        if keys is not None:
            options.keys = keys
        reply = await one_query(request, db, design, name, options)
        results.append(orjson.loads(await collect(reply)))
    return json_reply(200, {"results": results})


@design_endpoint("_info")
async def view_info(request: Request, db: LocalDb, ddoc_id: str, rest: list[str]) -> Reply:
    """``GET /{db}/_design/{ddoc}/_info``: the state of the design document's index."""
    design = await design_of(request, db, ddoc_id)
    views = state_of(db)
    index = index_for(views.indexes, design, views.time_limit, views.memory_limit)

    def read(conn: sqlite3.Connection) -> tuple[Any, int]:
        return index.state(conn), index.size(conn)

    state, size = await db.read(request.runtime, read)
    seq, purge_seq, _ = state or (0, 0, [])
    pending = max(db.update_seq - seq, 0)
    return json_reply(
        200,
        {
            "name": ddoc_id[len("_design/") :],
            "view_index": {
                "updates_pending": {"minimum": pending, "preferred": pending, "total": pending},
                "waiting_commit": False,
                "waiting_clients": 0,
                "updater_running": index.lock.locked(),
                "update_seq": seq,
                "sizes": {"file": size, "external": size, "active": size},
                "signature": design.signature,
                "purge_seq": purge_seq,
                "language": design.language,
                "compact_running": False,
                "collator_versions": ["153.120"],
            },
        },
    )


# --- hooks ----------------------------------------------------------------------------------------------


def _cleanup(db: LocalDb) -> None:
    def run(txn: Any) -> set[str]:
        used = {Design(docid, orjson.loads(body)).signature for docid, _, body in all_designs(txn.conn)}
        drop_unused(txn.conn, used)
        return used

    used = db.write_blocking(run)
    views = state_of(db)
    views.indexes = {sig: idx for sig, idx in views.indexes.items() if sig in used}


def _compact_design(db: LocalDb, ddoc_id: str) -> None:
    """``POST /{db}/_compact/{ddoc}``: SQLite reuses freed pages; nothing to rewrite."""


def _design_check(ddoc: dict[str, Any]) -> None:
    """Refuse a design document whose views CouchDB would refuse (on the writer's thread)."""
    try:
        check_design(ddoc, lambda: sandbox_for("design-check"))
    except JSError as exc:
        raise http_error(exc) from None


def security_object(db: LocalDb) -> dict[str, Any]:
    """The database's ``_security`` object, as design functions see it (``secObj``)."""
    security = db.counters.get("security")
    found: dict[str, Any] = orjson.loads(security) if isinstance(security, str) else (security or {})
    return found


def user_context(db: LocalDb) -> dict[str, Any]:
    """The ``userCtx`` of every request to the embedded store: the process owns it, as an admin."""
    return {"db": db.name, "name": None, "roles": ["_admin"]}


def _validator(db: LocalDb, conn: sqlite3.Connection) -> Callable[[dict[str, Any], dict[str, Any] | None], None] | None:
    """The ``validate_doc_update`` functions of ``db`` as one check, or None when it has none."""
    views = state_of(db)
    designs = all_designs(conn)
    stamp = tuple((docid, rev) for docid, rev, _ in designs)
    if views.validators is None or views.validators[0] != stamp:
        found = []
        for docid, rev, body in designs:
            ddoc = orjson.loads(body)
            if isinstance(ddoc.get("validate_doc_update"), str):
                ddoc["_id"], ddoc["_rev"] = docid, rev
                found.append((docid, ddoc))
        views.validators = (stamp, found)
    functions = views.validators[1]
    if not functions:
        return None
    sec_obj = security_object(db)
    user_ctx = user_context(db)

    def check(new_doc: dict[str, Any], old_doc: dict[str, Any] | None) -> None:
        if new_doc.get("_id", "").startswith("_design/"):
            return  # CouchDB checks design documents for admin rights only
        for docid, ddoc in functions:
            box = sandbox_for("validate:" + docid + ddoc["_rev"], name=docid)
            source = ddoc["validate_doc_update"]
            try:
                box.compile("vdu:" + source, source, ddoc)
                box.validate("vdu:" + source, ddoc, new_doc, old_doc, user_ctx, sec_obj)
            except JSError as exc:
                raise http_error(exc) from None

    return check


def _deleted(db: LocalDb) -> None:
    db.extensions.pop(_EXTENSION, None)


def install() -> None:
    """Register the hooks of views and JavaScript with the engine."""
    HOOKS.validator = _validator
    HOOKS.design_check = _design_check
    HOOKS.view_cleanup = _cleanup
    HOOKS.compact_design = _compact_design
    HOOKS.database_deleted = _deleted
    PARTITIONED.add("_view")


install()
