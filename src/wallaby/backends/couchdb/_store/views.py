"""Views of design documents: index tables in the database's SQLite file, built from its seq, queried.

Rules kept here (``couch_mrview`` in CouchDB):

- A design document's views are one index, named by a signature: the md5 of
  its language, options, ``views.lib`` and each view's map and reduce. Two
  design documents with the same views share it; editing a map makes a new
  one (the old one stays until ``_view_cleanup``).
- Each index is a table of rows ``(view, key, id, dup)`` -> ``(key, value)``
  in JSON: ``key`` is ``collate.sort_key`` of the emitted key, so SQLite's
  order is CouchDB's (key by collation, then doc id by bytes, then the order
  of emission); ``view_index`` holds each index's seq and row counts.
- An index is brought up to the database's seq before a query (``update=true``,
  the default), in batches of documents read by seq, each batch one
  transaction: the document's old rows go, its new ones come. A batch is
  mapped on a mapper thread while the one before it is written (QuickJS
  lets go of the GIL while it runs). A build that
  found the index empty when the database was at seq S knows that a
  document still at a seq up to S has no rows, and looks for none. Design
  documents are mapped only with ``options.include_design``; deleted
  documents only lose their rows. The documents of a batch go to the map
  functions a couple of hundred per call: each call's answer is turned
  into Python objects holding the GIL, and the event loop's thread must
  not wait for it long.
  ``update=false`` (``stale=ok``) reads the
  index as it is; ``update=lazy`` (``stale=update_after``) reads it, then
  updates it in the background.
- A map that throws for a document is logged and the document emits
  nothing in that view; a map over the time or memory limit fails the query
  (and the batch is not written). The same holds for reduce.
- Reduce runs at query time over the rows in range, grouped by the key
  truncated to ``group_level`` (the whole key for ``group=true``), groups
  told apart by collation.
- The errors of a bad query are CouchDB's (``query_parse_error``, 400);
  a view that is not there is ``404 not_found`` "missing_named_view".
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson

from .collate import sort_key
from .js import JSError, Sandbox, leaves_arguments_alone, sandbox_for
from .reduce import Row, check_reduce, reduce_rows
from .selector import field_path, index_rows

__all__ = [
    "BATCH",
    "Design",
    "Index",
    "Mapped",
    "Query",
    "QueryError",
    "check_design",
    "drop_unused",
    "index_for",
]


BATCH = 2000  # documents per update transaction
MAP_CALL = 200  # documents per call into JavaScript: its answer's decoding holds the GIL a few ms at most
PAGE = 1000  # rows per read

SCHEMA = """
CREATE TABLE IF NOT EXISTS view_index (
    sig TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    purge_seq INTEGER NOT NULL,
    counts TEXT NOT NULL
) WITHOUT ROWID;
"""


class QueryError(JSError):
    """A query or design document CouchDB refuses (status, error, reason)."""


def _parse_error(reason: str) -> QueryError:
    return QueryError(400, "query_parse_error", reason)


# --- design documents ------------------------------------------------------------------


class Design:
    """The views of one design document, as an index sees them."""

    def __init__(self, ddoc_id: str, ddoc: dict[str, Any]) -> None:
        self.id = ddoc_id
        self.language = ddoc.get("language", "javascript")
        views = ddoc.get("views") or {}
        options = ddoc.get("options") or {}
        self.include_design = bool(options.get("include_design")) if isinstance(options, dict) else False
        self.local_seq = bool(options.get("local_seq")) if isinstance(options, dict) else False
        self.partitioned = bool(options.get("partitioned")) if isinstance(options, dict) else False
        said = options.get("partitioned") if isinstance(options, dict) else None
        self.partitioned_option = said if isinstance(said, bool) else None
        self.lib = views.get("lib") if isinstance(views, dict) else None
        self.names: list[str] = []
        self.maps: list[str] = []
        self.reduces: list[str | None] = []
        self.query_maps: dict[str, dict[str, Any]] = {}  # Mango's json indexes: source -> definition
        map_type = dict if self.language == "query" else str
        if isinstance(views, dict):
            for name, view in views.items():
                if name == "lib" or not isinstance(view, dict) or not isinstance(view.get("map"), map_type):
                    continue
                self.names.append(name)
                if map_type is dict:
                    source = orjson.dumps(view["map"], option=orjson.OPT_SORT_KEYS).decode()
                    self.query_maps[source] = dict(view["map"])
                    self.maps.append(source)
                else:
                    self.maps.append(view["map"])
                reduce = view.get("reduce")
                self.reduces.append(reduce if isinstance(reduce, str) else None)
        # one index row number per distinct map (CouchDB shares a map between views that differ in reduce)
        self.map_sources = list(dict.fromkeys(self.maps))
        self.signature = hashlib.md5(
            orjson.dumps(
                [
                    self.language,
                    self.include_design,
                    self.local_seq,
                    self.partitioned,
                    self.lib,
                    self.map_sources,
                ],
                option=orjson.OPT_SORT_KEYS,
            )
        ).hexdigest()

    def partitioned_in(self, db_partitioned: bool) -> bool:
        """Are the views partitioned: in a partitioned database, unless ``options.partitioned`` is false."""
        return db_partitioned and self.partitioned_option is not False

    def view(self, name: str) -> tuple[int, str | None]:
        """(index row number, reduce source) of view ``name``; 404 when there is none."""
        if name not in self.names:
            raise QueryError(404, "not_found", "missing_named_view")
        i = self.names.index(name)
        return self.map_sources.index(self.maps[i]), self.reduces[i]

    @property
    def lib_root(self) -> dict[str, Any]:
        return {"views": {"lib": self.lib}} if self.lib is not None else {"views": {}}


def check_design(ddoc: dict[str, Any], sandbox: Callable[[], Sandbox] | None = None) -> None:
    """Refuse a design document CouchDB would refuse on save (``invalid_design_doc``, ``compilation_error``).

    Checks the shape of ``views`` and compiles each map and JavaScript reduce.
    """
    views = ddoc.get("views")
    if views is None:
        return
    if not isinstance(views, dict):
        raise QueryError(400, "invalid_design_doc", "`views` field must have object type")
    language = ddoc.get("language", "javascript")
    map_type, type_name = (dict, "object") if language == "query" else (str, "string")
    for name, view in views.items():
        if name == "lib":
            continue
        if not isinstance(view, dict):
            raise QueryError(400, "invalid_design_doc", f"View `{name}` must be an object")
        if "map" not in view:
            raise QueryError(400, "invalid_design_doc", f"View `{name}` must contain map function")
        if not isinstance(view["map"], map_type):
            raise QueryError(400, "invalid_design_doc", f"`views.{name}.map` field must have {type_name} type")
        if "reduce" in view and not isinstance(view["reduce"], str):
            raise QueryError(400, "invalid_design_doc", f"`views.{name}.reduce` field must have string type")
    if language != "javascript":
        return  # CouchDB saves design documents in languages it has no server for
    box = sandbox() if sandbox is not None else Sandbox()
    for name, view in views.items():
        if name == "lib":
            continue
        try:
            box.compile("check:" + view["map"], view["map"], {"views": {"lib": views.get("lib")}})
        except JSError as exc:
            if exc.error != "compilation_error":
                raise
            reason = f"Compilation of the map function in the '{name}' view failed: {exc.reason}"
            raise QueryError(400, "compilation_error", reason) from None
        reduce = view.get("reduce")
        if isinstance(reduce, str):
            check_reduce(reduce)
            if not reduce.startswith("_"):
                try:
                    box.compile("check:" + reduce, reduce)
                except JSError as exc:
                    if exc.error != "compilation_error":
                        raise
                    reason = f"Compilation of the reduce function in the '{name}' view failed: {exc.reason}"
                    raise QueryError(400, "compilation_error", reason) from None


# --- the index -----------------------------------------------------------------------------


def _table(signature: str) -> str:
    return f'"view_{signature}"'


class Mapped:
    """A batch of changed documents (read after the index's seq ``after``) and the rows their maps emitted."""

    __slots__ = ("after", "changed", "rows", "added")

    def __init__(self, after: int, changed: list[Any], views: int) -> None:
        self.after = after
        self.changed = changed
        self.rows: list[tuple[int, bytearray, str, int, bytearray, bytearray]] = []
        self.added = [0] * views  # rows per view

    @property
    def full(self) -> bool:
        """Whether the batch is as long as a batch may be (more documents may follow)."""
        return len(self.changed) == BATCH

    @property
    def last(self) -> int:
        """The seq of its last document (``after`` for an empty batch)."""
        return int(self.changed[-1][0]) if self.changed else self.after


class Index:
    """The index of one design document signature in one database."""

    def __init__(self, design: Design, time_limit: float, memory_limit: int) -> None:
        self.design = design
        self.signature = design.signature
        self.table = _table(self.signature)
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.lock = threading.Lock()  # one updater at a time
        sources = design.map_sources + [r for r in design.reduces if r is not None and not r.startswith("_")]
        self.freeze = not all(leaves_arguments_alone(source) for source in sources)

    def sandbox(self) -> Sandbox:
        box = sandbox_for(self.signature, self.time_limit, self.memory_limit, self.design.id)
        for source in self.design.map_sources:
            box.compile("map:" + source, source, self.design.lib_root)
        for reduce in self.design.reduces:
            if reduce is not None and not reduce.startswith("_"):
                box.compile("reduce:" + reduce, reduce)
        return box

    # --- tables --------------------------------------------------------------------------

    def create(self, conn: sqlite3.Connection) -> None:
        conn.execute(SCHEMA)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (view INTEGER, key BLOB, id TEXT, dup INTEGER, "
            "k BLOB, v BLOB, PRIMARY KEY (view, key, id, dup)) WITHOUT ROWID"
        )
        conn.execute(f'CREATE INDEX IF NOT EXISTS "view_{self.signature}_id" ON {self.table}(id)')
        counts = orjson.dumps([0] * len(self.design.map_sources)).decode()
        conn.execute(
            "INSERT OR IGNORE INTO view_index(sig, seq, purge_seq, counts) VALUES (?, 0, 0, ?)",
            (self.signature, counts),
        )

    def state(self, conn: sqlite3.Connection) -> tuple[int, int, list[int]] | None:
        """(seq, purge_seq, rows per view) of the index, or None before it was first built."""
        try:
            row = conn.execute(
                "SELECT seq, purge_seq, counts FROM view_index WHERE sig = ?", (self.signature,)
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        if row is None:
            return None
        return int(row[0]), int(row[1]), orjson.loads(row[2])

    # --- updating: read a batch, map it (any thread), write it (the writer, in its transaction) ----

    def seq(self, conn: sqlite3.Connection) -> int:
        """The seq the index has reached (0 before its first build)."""
        state = self.state(conn)
        return 0 if state is None else state[0]

    def changed_after(self, conn: sqlite3.Connection, seq: int) -> list[Any]:
        """The next batch of documents changed after ``seq``, in seq order."""
        return conn.execute(
            "SELECT seq, id, rev, deleted, atts, body FROM docs WHERE seq > ? ORDER BY seq LIMIT ?", (seq, BATCH)
        ).fetchall()

    def map_batch(self, after: int, changed: list[Any]) -> Mapped:
        """Run the design's maps (JavaScript, or Mango's json indexes) over ``changed``: the rows to write.

        Touches no database, so it can run on a thread of its own while the
        previous batch is written (QuickJS lets go of the GIL while it runs).
        """
        live = [
            row for row in changed if not row[3] and (self.design.include_design or not row[1].startswith("_design/"))
        ]
        mapped = Mapped(after, changed, len(self.design.map_sources))
        if not live:
            return mapped
        results: list[Any]
        if self.design.language == "query":  # Mango: the document as a dict, no JSON round trip
            maps = [self.design.query_maps[source] for source in self.design.map_sources]
            whole = any(_reads_special_members(m) for m in maps)
            results = []
            for _, docid, rev, _, atts, body in live:
                doc = _mango_doc(docid, rev, atts, body) if whole else orjson.loads(body)
                results.append([index_rows(m, doc) for m in maps])
        else:
            local_seq = self.design.local_seq
            docs = [
                _map_doc(docid, rev, atts, body, seq if local_seq else None) for seq, docid, rev, _, atts, body in live
            ]
            keys = ["map:" + source for source in self.design.map_sources]
            box = self.sandbox()
            results = []
            for start in range(0, len(docs), MAP_CALL):  # the GIL is taken back for each call's answer
                call = b"[" + b",".join(docs[start : start + MAP_CALL]) + b"]"
                results += box.map(keys, call.decode(), self.freeze)
        rows, added = mapped.rows, mapped.added
        dumps = orjson.dumps
        # bytearray, not bytes, for what SQLite stores (why: writes._Writer._queue)
        sort_keys: dict[bytes, bytearray] = {}  # a key's JSON -> its sort key: a batch repeats keys
        for row, per_view in zip(live, results, strict=True):
            docid = row[1]
            for view, emitted in enumerate(per_view):
                if not emitted:
                    continue
                added[view] += len(emitted)
                for dup, (key, value) in enumerate(emitted):
                    k = dumps(key)
                    sk = sort_keys.get(k)
                    if sk is None:
                        sk = sort_keys[k] = bytearray(sort_key(key))
                    rows.append((view, sk, docid, dup, bytearray(k), bytearray(dumps(value))))
        return mapped

    def write_batch(
        self, conn: sqlite3.Connection, mapped: Mapped, purge_seq: int, unindexed_up_to: int
    ) -> tuple[int, bool] | None:
        """Write a mapped batch: (the seq reached, whether the index was empty), or None if the index
        is no longer where the batch was read from (nothing written then).

        ``purge_seq`` is the database's as it was when the batch was read;
        ``unindexed_up_to`` a seq up to which documents are known to have no
        rows yet (the database's seq when the index was seen empty), so their
        old rows need not be looked for.
        """
        self.create(conn)
        state = self.state(conn)
        assert state is not None
        seq, indexed_purge_seq, counts = state
        if seq != mapped.after:
            return None
        table = self.table
        if indexed_purge_seq != purge_seq:
            for (view,) in conn.execute(
                f"DELETE FROM {table} WHERE id NOT IN (SELECT id FROM docs) RETURNING view"
            ).fetchall():
                counts[view] -= 1
        changed = mapped.changed
        empty = seq == 0
        if changed:
            seq = changed[-1][0]
            up_to = seq if empty else unindexed_up_to
            indexed = [row[1] for row in changed if row[0] > up_to]
            if indexed:  # the rows of the documents' older versions go, in one statement
                sql = f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?)) RETURNING view"
                for (view,) in conn.execute(sql, (orjson.dumps(indexed).decode(),)).fetchall():
                    counts[view] -= 1
            conn.executemany(f"INSERT INTO {table} (view, key, id, dup, k, v) VALUES (?, ?, ?, ?, ?, ?)", mapped.rows)
            counts = [count + more for count, more in zip(counts, mapped.added, strict=True)]
        conn.execute(
            "UPDATE view_index SET seq = ?, purge_seq = ?, counts = ? WHERE sig = ?",
            (seq, purge_seq, orjson.dumps(counts).decode(), self.signature),
        )
        return seq, empty

    # --- reading ----------------------------------------------------------------------------

    def rows(
        self, conn: sqlite3.Connection, view: int, span: Span, after: tuple[bytes, str, int] | None, count: int
    ) -> list[tuple[bytes, str, int, bytes, bytes]]:
        """Up to ``count`` rows of ``view`` in ``span``, after the row ``after`` (in the span's direction)."""
        where, args = span.where(after)
        order = "DESC" if span.descending else "ASC"
        sql = (
            f"SELECT key, id, dup, k, v FROM {self.table} WHERE view = ? AND {where} "
            f"ORDER BY key {order}, id {order}, dup {order} LIMIT ?"
        )
        return conn.execute(sql, (view, *args, count)).fetchall()

    def count_before(self, conn: sqlite3.Connection, view: int, span: Span) -> int:
        where, args = span.where_before()
        return int(
            conn.execute(f"SELECT count(*) FROM {self.table} WHERE view = ? AND {where}", (view, *args)).fetchone()[0]
        )

    def count_in_partition(self, conn: sqlite3.Connection, view: int, partition: str) -> int:
        sql = f"SELECT count(*) FROM {self.table} WHERE view = ? AND id >= ? AND id < ?"
        return int(conn.execute(sql, (view, partition + ":", partition + ";")).fetchone()[0])

    def size(self, conn: sqlite3.Connection) -> int:
        """Bytes of JSON the index holds (keys and values), for ``_info``'s sizes."""
        try:
            row = conn.execute(f"SELECT sum(length(k) + length(v)) FROM {self.table}").fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0] or 0)


def _map_doc(docid: str, rev: str, atts: bytes | None, body: bytes, local_seq: int | None) -> bytes:
    """The document a map function sees: ``_id``, ``_rev``, its members, ``_attachments`` stubs."""
    parts = [b'{"_id":', orjson.dumps(docid), b',"_rev":', orjson.dumps(rev)]
    if len(body) > 2:
        parts += [b",", body[1:-1]]
    if local_seq is not None:
        parts.append(b',"_local_seq":' + str(local_seq).encode())
    if atts:
        stubs = {name: {**info, "stub": True} for name, info in orjson.loads(atts).items()}
        parts += [b',"_attachments":', orjson.dumps(stubs)]
    parts.append(b"}")
    return b"".join(parts)


def _mango_doc(docid: str, rev: str, atts: bytes | None, body: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": docid, "_rev": rev, **orjson.loads(body)}
    if atts:
        doc["_attachments"] = {name: {**info, "stub": True} for name, info in orjson.loads(atts).items()}
    return doc


def _reads_special_members(mapping: dict[str, Any]) -> bool:
    """Does a json index read ``_id``, ``_rev`` or ``_attachments`` (or, with a partial filter, maybe)?"""
    return bool(mapping.get("partial_filter_selector")) or any(
        field_path(field)[0].startswith("_") for field in mapping["fields"]
    )


def drop_unused(conn: sqlite3.Connection, used: set[str]) -> list[str]:
    """Drop the index tables no design document uses (``_view_cleanup``); their signatures."""
    try:
        known = [sig for (sig,) in conn.execute("SELECT sig FROM view_index")]
    except sqlite3.OperationalError:
        return []
    dropped = [sig for sig in known if sig not in used]
    for sig in dropped:
        conn.execute(f"DROP TABLE IF EXISTS {_table(sig)}")
        conn.execute("DELETE FROM view_index WHERE sig = ?", (sig,))
    return dropped


_indexes_lock = threading.Lock()


def index_for(registry: dict[str, Index], design: Design, time_limit: float, memory_limit: int) -> Index:
    """The Index object of ``design``'s signature in ``registry`` (one per database), made once."""
    with _indexes_lock:
        index = registry.get(design.signature)
        if index is None or index.time_limit != time_limit or index.memory_limit != memory_limit:
            index = registry[design.signature] = Index(design, time_limit, memory_limit)
        else:
            index.design = design  # same maps; the reduces may have changed
        return index


# --- a query ---------------------------------------------------------------------------------

_LOW_ID = ""
_HIGH_ID = "\U0010ffff\U0010ffff"


class Span:
    """The rows a query covers, as SQL on (key, id), in the query's direction."""

    def __init__(
        self,
        start: Any,
        end: Any,
        start_id: str | None,
        end_id: str | None,
        inclusive_end: bool,
        descending: bool,
        missing: Any,
    ) -> None:
        self.descending = descending
        self.start = None if start is missing else (sort_key(start), start_id)
        self.end = None if end is missing else (sort_key(end), end_id)
        self.inclusive_end = inclusive_end
        self.partition: str | None = None  # only the rows of documents ``{partition}:...``

    def _in_partition(self, clauses: list[str], args: list[Any]) -> None:
        if self.partition is not None:
            clauses.append("id >= ? AND id < ?")
            args += [self.partition + ":", self.partition + ";"]

    def _bound(self, point: tuple[bytes, str | None], upper: bool, inclusive: bool) -> tuple[str, list[Any]]:
        key, docid = point
        op = ("<=" if inclusive else "<") if upper else (">=" if inclusive else ">")
        if docid is None:
            return f"key {op} ?", [key]
        return f"(key, id) {op} (?, ?)", [key, docid]

    def where(self, after: tuple[bytes, str, int] | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        first_upper = self.descending  # the start bounds from above when descending
        if self.start is not None:
            clause, more = self._bound(self.start, upper=first_upper, inclusive=True)
            clauses.append(clause)
            args += more
        if self.end is not None:
            clause, more = self._bound(self.end, upper=not first_upper, inclusive=self.inclusive_end)
            clauses.append(clause)
            args += more
        if after is not None:
            clauses.append("(key, id, dup) < (?, ?, ?)" if self.descending else "(key, id, dup) > (?, ?, ?)")
            args += list(after)
        self._in_partition(clauses, args)
        return " AND ".join(clauses) or "1", args

    def where_before(self) -> tuple[str, list[Any]]:
        """The rows before the span's start, in its direction."""
        if self.start is None:
            return "0", []
        clause, args = self._bound(self.start, upper=not self.descending, inclusive=False)
        clauses = [clause]
        self._in_partition(clauses, args)
        return " AND ".join(clauses), args

    def is_empty(self) -> bool:
        """Does the range run backwards (CouchDB refuses that with a 400)?"""
        if self.start is None or self.end is None:
            return False
        low = (self.start[0], self.start[1] if self.start[1] is not None else _LOW_ID)
        high = (self.end[0], self.end[1] if self.end[1] is not None else _HIGH_ID)
        if self.descending:
            low = (self.start[0], self.start[1] if self.start[1] is not None else _HIGH_ID)
            high = (self.end[0], self.end[1] if self.end[1] is not None else _LOW_ID)
            return low < high
        return low > high


class Query:
    """One view query's options, checked as ``couch_mrview_util:validate_args`` does."""

    def __init__(self, options: Any, reduce_source: str | None, missing: Any) -> None:
        self.o = options
        self.missing = missing
        has_reduce = reduce_source is not None
        if options.keys is not None and len(options.keys) == 1 and options.start is missing and options.end is missing:
            options.start = options.end = options.keys[0]  # one key is key=, as couch_mrview_http reads it
            options.keys = None
        group_level: int | str | None
        if options.group is False and options.group_level is not None and options.group_level > 0:
            raise _parse_error("Can't specify group=false and group_level>0 at the same time")
        if options.group is True and options.group_level is None:
            group_level = "exact"
        else:
            group_level = options.group_level or 0
        if options.reduce is True and not has_reduce:
            raise _parse_error("Reduce is invalid for map-only views.")
        self.reducing = has_reduce and options.reduce is not False
        if self.reducing and group_level != "exact" and options.keys is not None:
            raise _parse_error("Multi-key fetches for reduce views must use `group=true`")
        if options.keys is not None and (options.start is not missing or options.end is not missing):
            keys = options.keys
            if not (len(keys) == 1 and options.start == keys[0] and options.end == keys[0]) and keys:
                raise _parse_error("`keys` is incompatible with `key`, `start_key` and `end_key`")
        if not self.reducing and group_level != 0:
            raise _parse_error("Invalid use of grouping on a map view.")
        if self.reducing and options.include_docs:
            raise _parse_error("`include_docs` is invalid for reduce")
        if self.reducing and options.conflicts:
            raise _parse_error("`conflicts` is invalid for reduce views.")
        if options.update not in ("true", "false", "lazy"):
            raise _parse_error("Invalid value for `update`.")
        self.group_level = group_level
        self.reduce_source = reduce_source
        self.span = Span(
            options.start,
            options.end,
            options.start_docid,
            options.end_docid,
            options.inclusive_end,
            options.descending,
            missing,
        )
        same = (
            options.start is not missing and type(options.start) is type(options.end) and options.start == options.end
        )
        if options.keys is None and not same and self.span.is_empty():
            other = "false" if options.descending else "true"
            raise _parse_error(
                "No rows can match your key range, reverse your start_key and end_key or set descending=" + other
            )


def group_key(key: Any, level: int | str) -> Any:
    if level == "exact":
        return key
    if isinstance(key, list) and isinstance(level, int):
        return key[:level]
    return key


def reduce_groups(
    rows: Iterator[Row], source: str, level: int | str, sandbox: Callable[[], Sandbox]
) -> Iterator[tuple[Any, Any]]:
    """(group key, reduction) of each group of consecutive ``rows`` (key, id, value), in order."""
    key_name = "reduce:" + source
    if level == 0:
        everything = list(rows)
        if everything:
            yield None, reduce_rows(source, everything, sandbox, key_name)
        return
    current: bytes | None = None
    current_key: Any = None
    group: list[Row] = []
    for row in rows:
        gkey = group_key(row[0], level)
        token = sort_key(gkey)
        if token != current:
            if group:
                yield current_key, reduce_rows(source, group, sandbox, key_name)
            current, current_key, group = token, gkey, []
        group.append(row)
    if group:
        yield current_key, reduce_rows(source, group, sandbox, key_name)


def skip_limit(items: Iterator[Any], skip: int, limit: int | None) -> Iterator[Any]:
    for n, item in enumerate(items):
        if n < skip:
            continue
        if limit is not None and n >= skip + limit:
            return
        yield item


def key_rows(
    conn: sqlite3.Connection,
    index: Index,
    view: int,
    key: Any,
    descending: bool,
    missing: Any,
    partition: str | None = None,
) -> list[tuple[bytes, str, int, bytes, bytes]]:
    """Every row of ``view`` whose key collates equal to ``key`` (in ``partition`` only, when given)."""
    span = Span(key, key, None, None, True, False, missing)
    span.partition = partition
    found = []
    after = None
    while True:
        page = index.rows(conn, view, span, after, PAGE)
        found += page
        if len(page) < PAGE:
            break
        after = page[-1][:3]
    return found[::-1] if descending else found


def rows_of(found: Sequence[tuple[bytes, str, int, bytes, bytes]]) -> Iterator[Row]:
    for _, docid, _, k, v in found:
        yield orjson.loads(k), docid, orjson.loads(v)
