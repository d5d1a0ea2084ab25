"""Mango on the embedded store: ``_index``, ``_find``, ``_explain`` (``mango_*`` in CouchDB).

Rules kept here (checked against CouchDB 3.5):

- A json index is a design document in the ``query`` language, one view per
  index: ``{"map": {"fields": {f: "asc"}, "partial_filter_selector": ...},
  "reduce": "_count", "options": {"def": {"fields": [...]}}}``; its rows are
  ``[value of each field] -> null`` for the documents that have every field
  (and match the partial filter), kept up to date like any view. The design
  document and index names default to a hash of the definition.
  ``POST _index`` answers ``"created"`` or ``"exists"``.
- The query planner takes, among the json indexes without a partial filter
  (or the one ``use_index`` names), those whose every field the selector
  requires and whose order can serve ``sort``; it prefers the one whose
  leading fields the selector narrows most, then the one with fewer fields,
  then by name. None: ``_all_docs`` with the warning "No matching index
  found, create an index to optimize query time." (or ``400 no_usable_index``
  when a sort needs an index). The index is read as a key range of its
  leading fields; the full selector is checked on every document.
- ``limit`` defaults to 25; ``bookmark`` resumes after the last row of the
  page before (an opaque string; a foreign one is ``400 invalid_bookmark``);
  ``fields`` keeps only the named (dotted) fields; ``execution_stats`` counts
  keys and documents examined.
- In a partitioned database an index is partitioned unless made with
  ``"partitioned": false`` (its design document's ``options.partitioned``):
  ``/{db}/_partition/{p}/_find`` plans with the partitioned indexes only and
  reads the documents ``{p}:...``; ``/{db}/_find`` with the global ones
  only. ``"partitioned": true`` in a database that is not partitioned is
  refused (``400 invalid_design_doc``).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import orjson

from .collate import sort_key
from .database import LocalDb
from .errors import HttpError, NotFound, method_not_allowed
from .extensions import PARTITIONED, db_endpoint
from .reads import ReadOptions, read_row, render_revision
from .requests import Reply, Request, json_reply
from .selector import (
    MangoError,
    field_path,
    get_field,
    has_required_fields,
    is_constant_field,
    is_missing,
    match,
    normalize,
)
from .views import PAGE, Design, Index, index_for

__all__ = ["MangoIndex", "find", "explain", "index_endpoint"]

DEFAULT_LIMIT = 25
PARTITIONED.update(("_find", "_explain"))
NO_INDEX_WARNING = "No matching index found, create an index to optimize query time."


def _http(exc: MangoError) -> HttpError:
    return HttpError(exc.reason, status=exc.status, error=exc.error)


# --- index definitions --------------------------------------------------------------------------


class MangoIndex:
    """A json index: its design document, name, fields (with directions) and partial filter."""

    def __init__(
        self,
        ddoc: str,
        name: str,
        fields: list[tuple[str, str]],
        partial: dict[str, Any] | None,
        partitioned: bool = False,
    ) -> None:
        self.ddoc = ddoc
        self.name = name
        self.fields = fields
        self.partial = partial
        self.partitioned = partitioned

    @property
    def columns(self) -> list[str]:
        return [f for f, _ in self.fields]

    def to_json(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"fields": [{f: d} for f, d in self.fields]}
        if self.partial is not None:
            definition["partial_filter_selector"] = self.partial
        return {
            "ddoc": self.ddoc,
            "name": self.name,
            "type": "json",
            "partitioned": self.partitioned,
            "def": definition,
        }


ALL_DOCS = {"ddoc": None, "name": "_all_docs", "type": "special", "def": {"fields": [{"_id": "asc"}]}}


def _sort_spec(sort: Any) -> list[tuple[str, str]]:
    """``[field | {field: dir}]`` as (field, direction) pairs; one direction for all (CouchDB's rule)."""
    if sort is None:
        return []
    if not isinstance(sort, list):
        raise MangoError(
            400, "invalid_sort_json", f"Sort must be an array of sort specs, not: {orjson.dumps(sort).decode()}"
        )
    out = []
    for item in sort:
        if isinstance(item, str):
            out.append((item, "asc"))
        elif isinstance(item, dict) and len(item) == 1:
            ((field, direction),) = item.items()
            if direction not in ("asc", "desc"):
                raise MangoError(400, "invalid_sort_dir", f"Invalid sort direction: {direction}")
            out.append((field, direction))
        else:
            raise MangoError(400, "invalid_sort_field", f"Invalid sort field: {orjson.dumps(item).decode()}")
    if len({d for _, d in out}) > 1:
        raise MangoError(
            400, "unsupported_mixed_sort", "Sorts currently only support a single direction for all fields."
        )
    return out


def indexes_of(designs: list[tuple[str, str, bytes]], db_partitioned: bool = False) -> list[MangoIndex]:
    """The json indexes defined by the ``query`` design documents among ``designs``."""
    found = []
    for docid, _, body in designs:
        ddoc = orjson.loads(body)
        if ddoc.get("language") != "query" or not isinstance(ddoc.get("views"), dict):
            continue
        partitioned = Design(docid, ddoc).partitioned_in(db_partitioned)
        for name, view in ddoc["views"].items():
            mapping = view.get("map") if isinstance(view, dict) else None
            if not isinstance(mapping, dict) or not isinstance(mapping.get("fields"), dict):
                continue
            fields = [(f, d if d in ("asc", "desc") else "asc") for f, d in mapping["fields"].items()]
            found.append(MangoIndex(docid, name, fields, mapping.get("partial_filter_selector"), partitioned))
    return found


# --- planning ---------------------------------------------------------------------------------------

_MIN: Any = object()
_MAX: Any = object()


def _narrow(selector: dict[str, Any], field: str, low: tuple[str, Any], high: tuple[str, Any]) -> Any:
    """The range of ``field`` the selector allows, through ``$and`` (``mango_idx_view:range``); None if empty."""
    if not selector:
        return low, high
    ((op, arg),) = selector.items()
    if op == "$and":
        for sub in arg:
            narrowed = _narrow(sub, field, low, high)
            if narrowed is None:
                return None
            low, high = narrowed
        return low, high
    if op != field or not isinstance(arg, dict) or len(arg) != 1:
        return low, high
    ((cond, value),) = arg.items()
    if cond == "$beginsWith":
        return (_tighter_low(low, ("$gte", value))), _tighter_high(high, ("$lte", value + "\uffff"))
    if cond in ("$gt", "$gte"):
        return _tighter_low(low, (cond, value)), high
    if cond in ("$lt", "$lte"):
        return low, _tighter_high(high, (cond, value))
    if cond == "$eq":
        return _tighter_low(low, ("$gte", value)), _tighter_high(high, ("$lte", value))
    return low, high


def _key(value: Any) -> bytes:
    return b"" if value is _MIN else b"\xff" if value is _MAX else sort_key(value)


def _tighter_low(current: tuple[str, Any], new: tuple[str, Any]) -> tuple[str, Any]:
    a, b = _key(current[1]), _key(new[1])
    if b > a or (b == a and new[0] == "$gt"):
        return new
    return current


def _tighter_high(current: tuple[str, Any], new: tuple[str, Any]) -> tuple[str, Any]:
    a, b = _key(current[1]), _key(new[1])
    if b < a or (b == a and new[0] == "$lt"):
        return new
    return current


class Plan:
    """How a query runs: the index (None for ``_all_docs``), its key range, and what explain shows."""

    def __init__(self, selector: dict[str, Any], index: MangoIndex | None, sort: list[tuple[str, str]]) -> None:
        self.selector = selector
        self.index = index
        self.sort = sort
        self.descending = bool(sort) and sort[0][1] == "desc"
        self.ranges: list[tuple[tuple[str, Any], tuple[str, Any]]] = []
        self.empty = False
        self.partition: str | None = None  # only the documents ``{partition}:...``
        fields = index.columns if index is not None else ["_id"]
        for field in fields:
            narrowed = _narrow(selector, field, ("$gt", _MIN), ("$lt", _MAX))
            if narrowed is None:
                self.empty = True
                break
            self.ranges.append(narrowed)
            low, high = narrowed
            if not (low[0] == "$gte" and high[0] == "$lte" and _key(low[1]) == _key(high[1])):
                break  # only an equality lets the next field narrow the range too

    def bounds(self) -> tuple[bytes | None, bool, bytes | None, bool]:
        """(low key, inclusive, high key, inclusive) in index key bytes."""
        if self.index is None:
            return None, True, None, True
        low_parts: list[bytes] = []
        high_parts: list[bytes] = []
        low_open = high_open = False
        low_done = high_done = False
        for low, high in self.ranges:
            if not low_done:
                if low[1] is _MIN:
                    low_done = True
                else:
                    low_parts.append(_element(low[1]))
                    if low[0] == "$gt":
                        low_open, low_done = True, True
            if not high_done:
                if high[1] is _MAX:
                    high_done = True
                    high_parts.append(b"\xff")
                else:
                    high_parts.append(_element(high[1]))
                    if high[0] == "$lt":
                        high_open, high_done = True, True
        low_key = b"\x06" + b"".join(low_parts) + (b"\xff" if low_open else b"") if low_parts else None
        if high_parts and high_parts[-1] == b"\xff":
            high_key: bytes | None = b"\x06" + b"".join(high_parts)
            high_open = True
        elif high_parts:
            high_key = b"\x06" + b"".join(high_parts) + (b"" if high_open else b"\xff")
            high_open = True
        else:
            high_key = None
        return low_key, not low_open, high_key, not high_open

    def explain_range(self) -> tuple[list[Any], list[Any]]:
        start, end = [], []
        for low, high in self.ranges:
            if low[1] is not _MIN:
                start.append(low[1])
            if high[1] is not _MAX:
                end.append(high[1])
            else:
                end.append("<MAX>")
                break
        return start, end


def _element(value: Any) -> bytes:
    return sort_key(value)


def plan(
    selector: dict[str, Any],
    indexes: list[MangoIndex],
    sort: list[tuple[str, str]],
    use_index: Any,
    partition: str | None = None,
) -> tuple[Plan, str | None]:
    """The plan of a query (in one partition: by a partitioned index only), and the warning to give with it."""
    indexes = [idx for idx in indexes if idx.partitioned == (partition is not None)]
    sort_fields = [f for f, _ in sort]
    wanted: tuple[str, str | None] | None = None
    if use_index is not None:
        names = [use_index] if isinstance(use_index, str) else list(use_index)
        ddoc = names[0] if names[0].startswith("_design/") else "_design/" + names[0]
        wanted = (ddoc, names[1] if len(names) > 1 else None)
    candidates = [
        idx
        for idx in indexes
        if idx.partial is None or (wanted is not None and wanted[0] == idx.ddoc and wanted[1] in (None, idx.name))
    ]
    usable = [idx for idx in candidates if _usable(idx, selector, sort_fields)]
    warning = None
    chosen: MangoIndex | None = None
    if wanted is not None:
        named = [idx for idx in usable if idx.ddoc == wanted[0] and wanted[1] in (None, idx.name)]
        if named:
            usable = named
        else:
            label = wanted[0] if wanted[1] is None else f"{wanted[0]}, {wanted[1]}"
            warning = f"{label} was not used because it does not contain a valid index for this query."
    if usable:
        chosen = min(usable, key=lambda idx: (_unnarrowed(idx, selector), len(idx.fields), idx.ddoc, idx.name))
    elif sort_fields and sort_fields != ["_id"]:
        raise MangoError(400, "no_usable_index", "No index exists for this sort, try indexing by the sort fields.")
    else:
        warning = (warning + " " if warning else "") + NO_INDEX_WARNING
    found = Plan(selector, chosen, sort)
    found.partition = partition
    return found, warning


def _usable(idx: MangoIndex, selector: dict[str, Any], sort_fields: list[str]) -> bool:
    required = [c for c in sorted(set(idx.columns) - set(sort_fields)) if c not in ("_id", "_rev")]
    if not has_required_fields(selector, required):
        return False
    return _can_use_sort(idx.columns, sort_fields, selector)


def _can_use_sort(columns: list[str], sort_fields: list[str], selector: dict[str, Any]) -> bool:
    if not sort_fields:
        return True
    for i, column in enumerate(columns):
        if column == sort_fields[0]:
            return columns[i : i + len(sort_fields)] == sort_fields
        if not is_constant_field(selector, column):
            return False
    return False


def _unnarrowed(idx: MangoIndex, selector: dict[str, Any]) -> int:
    narrowed = 0
    for column in idx.columns:
        found = _narrow(selector, column, ("$gt", _MIN), ("$lt", _MAX))
        if found is None or (found[0][1] is _MIN and found[1][1] is _MAX):
            break
        narrowed += 1
    return len(idx.columns) - narrowed


# --- running a query -----------------------------------------------------------------------------------


class FindRequest:
    """A ``_find`` body, checked as ``mango_opts`` does."""

    def __init__(self, body: dict[str, Any]) -> None:
        known = {
            "selector", "fields", "sort", "limit", "skip", "use_index", "bookmark", "execution_stats",
            "r", "conflicts", "update", "stable", "stale", "allow_fallback", "partition",
        }  # fmt: skip
        for name in body:
            if name not in known:
                raise MangoError(400, "invalid_key", f"Invalid key {name} for this request.")
        if "selector" not in body:
            raise MangoError(400, "missing_required_key", "Missing required key: selector")
        self.raw_selector = body["selector"]
        self.selector = normalize(body["selector"])
        self.fields = body.get("fields")
        if self.fields is not None and (
            not isinstance(self.fields, list) or not all(isinstance(f, str) for f in self.fields)
        ):
            raise MangoError(400, "invalid_fields_json", f"Fields must be an array of field names, not: {self.fields}")
        self.sort = _sort_spec(body.get("sort"))
        self.limit = _non_negative(body, "limit", DEFAULT_LIMIT)
        self.skip = _non_negative(body, "skip", 0)
        self.use_index = body.get("use_index")
        if self.use_index is not None and not (
            isinstance(self.use_index, str)
            or (isinstance(self.use_index, list) and all(isinstance(x, str) for x in self.use_index))
        ):
            raise MangoError(400, "invalid_value", f"Invalid value for use_index: {self.use_index}")
        if self.use_index == [] or self.use_index == "":
            self.use_index = None
        self.bookmark = body.get("bookmark")
        self.execution_stats = body.get("execution_stats") is True
        self.conflicts = body.get("conflicts") is True
        update = body.get("update", True)
        self.update = "false" if update is False or body.get("stale") == "ok" else "true"
        self.body = body


def _non_negative(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MangoError(400, "invalid_non_neg_integer", f"{value} is not an integer greater than or equal to zero")
    return value


def _bookmark_of(key: Any, docid: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([key, docid])).decode().rstrip("=")


def _read_bookmark(text: Any) -> tuple[Any, str] | None:
    if text is None or text == "nil":
        return None
    try:
        padded = text + "=" * (-len(text) % 4)
        key, docid = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(docid, str):
            raise ValueError
        return key, docid
    except Exception:
        raise MangoError(400, "invalid_bookmark", f"Invalid bookmark value: {orjson.dumps(text).decode()}") from None


def project(doc: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Only ``fields`` of ``doc`` (dotted paths keep their nesting), as ``mango_fields:extract``."""
    if fields is None:
        return doc
    out: dict[str, Any] = {}
    for field in fields:
        path = field_path(field)
        value = get_field(doc, path)
        if is_missing(value):
            continue
        target = out
        for name in path[:-1]:
            target = target.setdefault(name, {})
            if not isinstance(target, dict):
                break
        else:
            target[path[-1]] = value
    return out


class Stats:
    def __init__(self) -> None:
        self.keys = 0
        self.docs = 0
        self.returned = 0
        self.started = time.monotonic()

    def to_json(self) -> dict[str, Any]:
        return {
            "total_keys_examined": self.keys,
            "total_docs_examined": self.docs,
            "total_quorum_docs_examined": 0,
            "results_returned": self.returned,
            "execution_time_ms": round((time.monotonic() - self.started) * 1000, 3),
        }


def _candidates(
    conn: sqlite3.Connection, plan_: Plan, index: Index | None, view: int, after: tuple[Any, str] | None, stats: Stats
) -> Iterator[tuple[Any, str, dict[str, Any], Any]]:
    """(index key, doc id, document, row for the bookmark) in index order, documents read on the way."""
    options = ReadOptions()
    if index is None:  # _all_docs: by id, bytewise
        low, high = plan_.ranges[0] if plan_.ranges else (("$gt", _MIN), ("$lt", _MAX))
        clauses: list[str] = ["NOT deleted"]
        args: list[Any] = []
        if plan_.partition is not None:
            clauses.append("id >= ? AND id < ?")
            args += [plan_.partition + ":", plan_.partition + ";"]
        if isinstance(low[1], str):
            clauses.append("id >= ?" if low[0] == "$gte" else "id > ?")
            args.append(low[1])
        if isinstance(high[1], str):
            clauses.append("id <= ?" if high[0] == "$lte" else "id < ?")
            args.append(high[1])
        order = "DESC" if plan_.descending else "ASC"
        last = after[1] if after is not None else None
        while True:
            where = list(clauses)
            more = list(args)
            if last is not None:
                where.append("id < ?" if plan_.descending else "id > ?")
                more.append(last)
            rows = conn.execute(
                f"SELECT id, rev, body, atts, tree FROM docs WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?",
                (*more, PAGE),
            ).fetchall()
            for docid, rev, body, atts, _ in rows:
                stats.keys += 1
                stats.docs += 1
                doc = {"_id": docid, "_rev": rev, **orjson.loads(body)}
                if atts:
                    doc["_attachments"] = {n: {**i, "stub": True} for n, i in orjson.loads(atts).items()}
                yield docid, docid, doc, None
            if len(rows) < PAGE:
                return
            last = rows[-1][0]
        return
    low_key, low_inc, high_key, high_inc = plan_.bounds()
    table = index.table
    order = "DESC" if plan_.descending else "ASC"
    position: tuple[bytes, str] | None = None
    if after is not None:
        position = (sort_key(after[0]), after[1])
    while True:
        where = ["view = ?"]
        args = [view]
        if plan_.partition is not None:
            where.append("id >= ? AND id < ?")
            args += [plan_.partition + ":", plan_.partition + ";"]
        if low_key is not None:
            where.append("key >= ?" if low_inc else "key > ?")
            args.append(low_key)
        if high_key is not None:
            where.append("key <= ?" if high_inc else "key < ?")
            args.append(high_key)
        if position is not None:
            where.append("(key, id) < (?, ?)" if plan_.descending else "(key, id) > (?, ?)")
            args += list(position)
        rows = conn.execute(
            f"SELECT key, id, k FROM {table} WHERE {' AND '.join(where)} ORDER BY key {order}, id {order} LIMIT ?",
            (*args, PAGE),
        ).fetchall()
        for _, docid, k in rows:
            stats.keys += 1
            row = read_row(conn, docid)
            if row is None or row.deleted:
                continue
            stats.docs += 1
            doc = orjson.loads(render_revision(conn, row, row.rev, (row.deleted, row.atts, row.body), options))
            yield orjson.loads(k), docid, doc, None
        if len(rows) < PAGE:
            return
        position = (rows[-1][0], rows[-1][1])


def _run(conn: sqlite3.Connection, request: FindRequest, plan_: Plan, index: Index | None, view: int) -> dict[str, Any]:
    stats = Stats()
    after = _read_bookmark(request.bookmark)
    docs: list[dict[str, Any]] = []
    last: tuple[Any, str] | None = None
    skipped = 0
    if not plan_.empty and request.limit > 0:
        for key, docid, doc, _ in _candidates(conn, plan_, index, view, after, stats):
            if not match(request.selector, doc):
                continue
            if skipped < request.skip:
                skipped += 1
                continue
            if request.conflicts:
                row = read_row(conn, docid)
                if row is not None:
                    live, _ = row.tree.conflicts()
                    if live:
                        from .revs import format_rev

                        doc["_conflicts"] = [format_rev(r) for r in live]
            docs.append(project(doc, request.fields))
            last = (key, docid)
            if len(docs) >= request.limit:
                break
    stats.returned = len(docs)
    answer: dict[str, Any] = {"docs": docs}
    answer["bookmark"] = _bookmark_of(*last) if last is not None else (request.bookmark or "nil")
    if request.execution_stats:
        answer["execution_stats"] = stats.to_json()
    return answer


# --- the endpoints ----------------------------------------------------------------------------------


async def _designs(request: Request, db: LocalDb) -> list[tuple[str, str, bytes]]:
    from .view_endpoints import all_designs

    designs: list[tuple[str, str, bytes]] = await db.read(request.runtime, all_designs)
    return designs


def _index_design(designs: list[tuple[str, str, bytes]], ddoc_id: str) -> Design:
    for docid, rev, body in designs:
        if docid == ddoc_id:
            ddoc = orjson.loads(body)
            ddoc["_rev"] = rev
            return Design(docid, ddoc)
    raise NotFound("missing")


async def _prepare(request: Request, db: LocalDb) -> tuple[FindRequest, Plan, str | None, list[tuple[str, str, bytes]]]:
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = await request.json_object()
    try:
        find_request = FindRequest(body)
        designs = await _designs(request, db)
        plan_, warning = plan(
            find_request.selector,
            indexes_of(designs, db.partitioned),
            find_request.sort,
            find_request.use_index,
            request.partition,
        )
    except MangoError as exc:
        raise _http(exc) from None
    return find_request, plan_, warning, designs


@db_endpoint("_find")
async def find(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_find``: the documents a selector matches, by the best index."""
    find_request, plan_, warning, designs = await _prepare(request, db)
    index: Index | None = None
    view = 0
    if plan_.index is not None:
        from .view_endpoints import state_of, update_blocking

        design = _index_design(designs, plan_.index.ddoc)
        views = state_of(db)
        index = index_for(views.indexes, design, views.time_limit, views.memory_limit)
        view, _ = design.view(plan_.index.name)
        if find_request.update == "true":
            await request.runtime.to_thread(update_blocking, db, index)
        elif await db.read(request.runtime, index.state) is None:
            await db.write(request.runtime, lambda txn: index.create(txn.conn) if index else None)
    try:
        answer = await db.read(request.runtime, _run, find_request, plan_, index, view)
    except MangoError as exc:
        raise _http(exc) from None
    if warning:
        answer["warning"] = warning
    return json_reply(200, answer)


@db_endpoint("_explain")
async def explain(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_explain``: the index ``_find`` would use and how."""
    find_request, plan_, _, designs = await _prepare(request, db)
    start, end = plan_.explain_range()
    index_json = plan_.index.to_json() if plan_.index is not None else ALL_DOCS
    body = find_request.body
    opts = {
        "use_index": []
        if find_request.use_index is None
        else ([find_request.use_index] if isinstance(find_request.use_index, str) else find_request.use_index),
        "bookmark": find_request.bookmark or "nil",
        "limit": find_request.limit,
        "skip": find_request.skip,
        "sort": {f: d for f, d in find_request.sort},
        "fields": find_request.fields if find_request.fields is not None else "all_fields",
        "partition": request.partition or "",
        "r": body.get("r", 1),
        "conflicts": find_request.conflicts,
        "stale": False,
        "update": find_request.update == "true",
        "stable": body.get("stable", False),
        "execution_stats": find_request.execution_stats,
        "allow_fallback": body.get("allow_fallback", True),
    }
    answer: dict[str, Any] = {
        "dbname": db.name,
        "index": index_json,
        "partitioned": db.partitioned,
        "selector": plan_.selector,
        "opts": opts,
        "limit": find_request.limit,
        "skip": find_request.skip,
        "fields": opts["fields"],
    }
    if plan_.index is not None:
        answer["mrargs"] = {
            "include_docs": True,
            "view_type": "map",
            "reduce": False,
            "partition": request.partition,
            "start_key": start,
            "end_key": end,
            "direction": "rev" if plan_.descending else "fwd",
            "stable": False,
            "update": True,
            "conflicts": "undefined",
        }
    else:
        answer["mrargs"] = {
            "include_docs": True,
            "view_type": "map",
            "reduce": False,
            "partition": request.partition,
            "start_key": start[0] if start else None,
            "end_key": end[0] if end and end[0] != "<MAX>" else "<MAX>",
            "direction": "rev" if plan_.descending else "fwd",
            "stable": False,
            "update": True,
            "conflicts": "undefined",
        }
    answer["covering"] = False
    return json_reply(200, answer)


def _index_name(definition: dict[str, Any]) -> str:
    return hashlib.sha1(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _fields_of(index: Any) -> list[tuple[str, str]]:
    if not isinstance(index, dict):
        raise MangoError(400, "invalid_index", f"JSON indexes must be an object, not: {orjson.dumps(index).decode()}")
    fields = index.get("fields")
    if not isinstance(fields, list) or not fields:
        raise MangoError(400, "invalid_index", "Index is missing its definition.")
    out = _sort_spec(fields)
    return out


async def _put(request: Request, db: LocalDb, docid: str, doc: dict[str, Any]) -> Reply:
    from .documents import document

    sub = Request("PUT", "/", "", {"Content-Type": "application/json"}, orjson.dumps(doc), request.runtime, request.url)
    return await document(sub, db, docid)


@db_endpoint("_index")
async def index_endpoint(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_index``, ``DELETE /{db}/_index/{ddoc}/json/{name}``."""
    try:
        if request.method == "GET" and not rest:
            designs = await _designs(request, db)
            listed = [ALL_DOCS] + [idx.to_json() for idx in indexes_of(designs, db.partitioned)]
            skip = request.number("skip", 0) or 0
            limit = request.number("limit")
            page = listed[skip:] if limit is None else listed[skip : skip + limit]
            return json_reply(200, {"total_rows": len(listed), "indexes": page})
        if request.method == "POST" and not rest:
            return await _create(request, db)
        if request.method == "DELETE" and len(rest) >= 2:
            return await _delete(request, db, rest)
    except MangoError as exc:
        raise _http(exc) from None
    if request.method in ("GET", "POST") and rest:
        raise NotFound("missing")
    raise method_not_allowed("GET,POST" if not rest else "DELETE")


async def _create(request: Request, db: LocalDb) -> Reply:
    body = await request.json_object()
    kind = body.get("type", "json")
    if kind != "json":
        raise MangoError(400, "invalid_index", f"Invalid type for index: {kind}")
    fields = _fields_of(body.get("index"))
    index_def = body["index"]
    partial = index_def.get("partial_filter_selector")
    if partial is not None:
        normalize(partial)  # refuse a bad one now
    definition: dict[str, Any] = {"fields": [{f: d} for f, d in fields]}
    if partial is not None:
        definition["partial_filter_selector"] = partial
    digest = _index_name(definition)
    ddoc_name = body.get("ddoc", digest)
    name = body.get("name", digest)
    for value in (ddoc_name, name):
        if not isinstance(value, str):
            raise MangoError(400, "invalid_index_name", f"Invalid index name: {orjson.dumps(value).decode()}")
        if not value:
            raise MangoError(400, "invalid_empty_string", "Index name or ddoc cannot be empty string")
    ddoc_id = ddoc_name if ddoc_name.startswith("_design/") else "_design/" + ddoc_name
    partitioned = body.get("partitioned")
    if partitioned is not None and not isinstance(partitioned, bool):
        raise MangoError(400, "invalid_partitioned_value", f"Invalid partitioned value: {partitioned!r}")
    if partitioned and not db.partitioned:
        raise MangoError(400, "invalid_design_doc", "partitioned option cannot be true in a non-partitioned database.")
    view = {
        "map": {"fields": {f: d for f, d in fields}, **({"partial_filter_selector": partial} if partial else {})},
        "reduce": "_count",
        "options": {"def": definition},
    }
    for _ in range(5):
        designs = await _designs(request, db)
        existing = next((orjson.loads(b) | {"_rev": r} for d, r, b in designs if d == ddoc_id), None)
        if existing is not None:
            if existing.get("language") != "query":
                raise MangoError(400, "invalid_index", "Invalid design document query language.")
            if existing.get("views", {}).get(name) == view:
                return json_reply(200, {"result": "exists", "id": ddoc_id, "name": name})
            doc = existing
            doc.setdefault("views", {})[name] = view
        else:
            doc = {"language": "query", "views": {name: view}}
            if partitioned is not None:
                doc["options"] = {"partitioned": partitioned}
        reply = await _put(request, db, ddoc_id, doc)
        if reply.status == 409:
            continue
        if reply.status >= 400:
            return reply
        return json_reply(200, {"result": "created", "id": ddoc_id, "name": name})
    raise HttpError("Document update conflict.", status=409, error="conflict")


async def _delete(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    ddoc_name = rest[0]
    if ddoc_name == "_design" and len(rest) >= 4:
        ddoc_name, rest = "_design/" + rest[1], [rest[0] + "/" + rest[1], *rest[2:]]
    ddoc_id = ddoc_name if ddoc_name.startswith("_design/") else "_design/" + ddoc_name
    if len(rest) != 3 or rest[1] != "json":
        raise NotFound("missing")
    name = rest[2]
    designs = await _designs(request, db)
    for docid, rev, body in designs:
        if docid != ddoc_id:
            continue
        doc = orjson.loads(body)
        if name not in doc.get("views", {}):
            break
        del doc["views"][name]
        doc["_rev"] = rev
        if doc["views"]:
            reply = await _put(request, db, ddoc_id, doc)
        else:
            from .documents import document

            sub = Request("DELETE", "/", f"rev={rev}", {}, None, request.runtime, request.url)
            reply = await document(sub, db, ddoc_id)
        if reply.status >= 400:
            return reply
        return json_reply(200, {"ok": True})
    raise HttpError(f"JSON index {name} not found in this design doc.", status=404, error="not_found")
