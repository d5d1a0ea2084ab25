"""Reading documents: one revision with CouchDB's options, ``open_revs``, ``_bulk_get``.

Rules kept here (``GET /{db}/{docid}``, checked against CouchDB 3.5):

- Without ``rev`` the winner is read; a deleted winner is ``404 deleted``, a
  missing document ``404 missing``. A given ``rev`` is read even when it is a
  deletion (with ``_deleted: true``); one the tree lacks, or whose body was
  compacted away, is ``404 missing``. ``latest`` answers a rev that is not a
  leaf with the winning leaf among its descendants.
- ``revs`` adds ``_revisions`` (the path in the tree); ``revs_info`` adds
  each revision on the path with its status (``available``, ``deleted``,
  ``missing``); ``conflicts``/``deleted_conflicts`` the losing leaves (only
  when there are some); ``local_seq`` the seq of that revision; ``meta`` is
  the three of them.
- Attachments go out as stubs; ``attachments=true`` inlines their data
  (base64), ``atts_since=[revs]`` inlines only those newer than the newest
  of those revs found on the path.
- ``open_revs=all`` (or a JSON list of revs) answers ``[{"ok": doc} ...,
  {"missing": rev} ...]``: the revisions found, then those not.
"""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

import orjson

from . import blobs
from .bodies import render
from .errors import BadRequest, NotFound
from .requests import Request
from .revs import Rev, format_rev, parse_rev
from .revtree import RevTree

__all__ = ["DocRow", "ReadOptions", "read_row", "read_revision", "render_revision"]


class DocRow:
    """A document's ``docs`` row: its winner, its tree, its seq."""

    __slots__ = ("id", "seq", "rev", "deleted", "tree_blob", "atts", "body", "_tree")

    def __init__(self, docid: str, row: tuple[Any, ...]) -> None:
        self.id = docid
        self.seq, rev, deleted, self.tree_blob, self.atts, self.body = row
        pos, _, rid = rev.partition("-")
        self.rev: Rev = (int(pos), rid)
        self.deleted = bool(deleted)
        self._tree: RevTree | None = None

    @property
    def tree(self) -> RevTree:
        if self._tree is None:
            self._tree = RevTree.decode(self.tree_blob)
        return self._tree


def read_row(conn: sqlite3.Connection, docid: str) -> DocRow | None:
    row = conn.execute("SELECT seq, rev, deleted, tree, atts, body FROM docs WHERE id = ?", (docid,)).fetchone()
    return None if row is None else DocRow(docid, row)


def read_revision(conn: sqlite3.Connection, doc: DocRow, rev: Rev) -> tuple[bool, bytes | None, bytes] | None:
    """(deleted, atts, body) of a stored revision, or None when its body is not stored."""
    if rev == doc.rev:
        return doc.deleted, doc.atts, doc.body
    row = conn.execute(
        "SELECT deleted, atts, body FROM revs WHERE id = ? AND rev = ?", (doc.id, format_rev(rev))
    ).fetchone()
    return None if row is None else (bool(row[0]), row[1], row[2])


class ReadOptions:
    """The options of a document read, from the query string (or a ``_bulk_get`` item)."""

    __slots__ = (
        "revs",
        "revs_info",
        "conflicts",
        "deleted_conflicts",
        "local_seq",
        "latest",
        "attachments",
        "atts_since",
    )

    def __init__(self) -> None:
        self.revs = False
        self.revs_info = False
        self.conflicts = False
        self.deleted_conflicts = False
        self.local_seq = False
        self.latest = False
        self.attachments = False
        self.atts_since: list[Rev] | None = None

    @classmethod
    def of(cls, request: Request) -> ReadOptions:
        options = cls()
        options.revs = request.flag("revs")
        options.revs_info = request.flag("revs_info")
        options.conflicts = request.flag("conflicts")
        options.deleted_conflicts = request.flag("deleted_conflicts")
        options.local_seq = request.flag("local_seq")
        if request.flag("meta"):
            options.revs_info = options.conflicts = options.deleted_conflicts = True
        options.latest = request.flag("latest")
        options.attachments = request.flag("attachments")
        since = request.json_option("atts_since")
        if since is not None:
            options.atts_since = parse_revs(since)
        return options

    @property
    def plain(self) -> bool:
        return not (
            self.revs
            or self.revs_info
            or self.conflicts
            or self.deleted_conflicts
            or self.local_seq
            or self.attachments
            or self.atts_since
        )


def parse_revs(value: object) -> list[Rev]:
    if not isinstance(value, list):
        raise BadRequest("Invalid list of revisions")
    return [parse_rev(rev) for rev in value]


def _attachments(
    conn: sqlite3.Connection, atts: bytes | None, doc: DocRow, rev: Rev, options: ReadOptions
) -> dict[str, Any] | None:
    if not atts:
        return None
    stored: dict[str, Any] = orjson.loads(atts)
    since = 0
    inline = options.attachments
    if options.atts_since:
        inline = True
        path = doc.tree.path(rev)
        wanted = set(options.atts_since)
        since = next((r[0] for r in path if r in wanted), 0)
    out: dict[str, Any] = {}
    for name, info in stored.items():
        if inline and info["revpos"] > since:
            held = blobs.find(conn, info["digest"])
            data = b"" if held is None else read_blob(conn, held[0], held[1])
            out[name] = {**info, "data": base64.b64encode(data).decode("ascii")}
        else:
            out[name] = {**info, "stub": True}
    return out


def read_blob(conn: sqlite3.Connection, num: int, length: int) -> bytes:
    count = (length + blobs.CHUNK - 1) // blobs.CHUNK
    return b"".join(blobs.chunk_at(conn, num, n) for n in range(count))


def _statuses(conn: sqlite3.Connection, doc: DocRow, path: list[Rev]) -> list[dict[str, str]]:
    stored = {text for (text,) in conn.execute("SELECT rev FROM revs WHERE id = ?", (doc.id,))}
    tree = doc.tree
    info = []
    for rev in path:
        text = format_rev(rev)
        if tree.deleted(rev):
            status = "deleted"
        elif rev == doc.rev or text in stored:
            status = "available"
        else:
            status = "missing"
        info.append({"rev": text, "status": status})
    return info


def render_revision(
    conn: sqlite3.Connection,
    doc: DocRow,
    rev: Rev,
    stored: tuple[bool, bytes | None, bytes],
    options: ReadOptions,
) -> bytes:
    """The JSON of revision ``rev`` of ``doc`` with the members ``options`` ask for."""
    deleted, atts, body = stored
    if options.plain and not atts:
        return render(doc.id, format_rev(rev), body, deleted=deleted)
    extra: list[tuple[str, Any]] = []
    tree = doc.tree
    if options.revs or options.revs_info:
        path = tree.path(rev)
        if options.revs:
            extra.append(("_revisions", {"start": rev[0], "ids": [r[1] for r in path]}))
        if options.revs_info:
            extra.append(("_revs_info", _statuses(conn, doc, path)))
    if options.local_seq:
        extra.append(("_local_seq", tree.seq(rev)))
    if options.conflicts or options.deleted_conflicts:
        live, dead = tree.conflicts()
        if options.conflicts and live:
            extra.append(("_conflicts", [format_rev(r) for r in live]))
        if options.deleted_conflicts and dead:
            extra.append(("_deleted_conflicts", [format_rev(r) for r in dead]))
    return render(
        doc.id,
        format_rev(rev),
        body,
        deleted=deleted,
        extra=extra,
        attachments=_attachments(conn, atts, doc, rev, options),
    )


def pick_latest(tree: RevTree, rev: Rev) -> Rev:
    """``rev`` when it is a leaf, else the winning leaf among its descendants (``latest=true``)."""
    if tree.is_leaf(rev):
        return rev
    under = set(tree.leaves_under(rev))
    for leaf in tree.sorted_leaves():
        if leaf in under:
            return leaf
    return rev


def find_revision(
    conn: sqlite3.Connection, docid: str, rev: Rev | None, latest: bool = False
) -> tuple[DocRow, Rev, tuple[bool, bytes | None, bytes]]:
    """The document, the revision a read names (the winner without one) and its stored body; 404 as CouchDB."""
    doc = read_row(conn, docid)
    if doc is None:
        raise NotFound("missing")
    if rev is None:
        if doc.deleted:
            raise NotFound("deleted")
        return doc, doc.rev, (False, doc.atts, doc.body)
    if rev not in doc.tree:
        raise NotFound("missing")
    if latest:
        rev = pick_latest(doc.tree, rev)
    stored = read_revision(conn, doc, rev)
    if stored is None:
        raise NotFound("missing")
    return doc, rev, stored


def read_one(conn: sqlite3.Connection, docid: str, rev: Rev | None, options: ReadOptions) -> tuple[Rev, bytes]:
    """The revision read by ``GET /{db}/{docid}`` and its JSON; raises 404 as CouchDB does."""
    doc, found, stored = find_revision(conn, docid, rev, options.latest)
    return found, render_revision(conn, doc, found, stored, options)


def open_revs(conn: sqlite3.Connection, docid: str, revs: list[Rev] | None, options: ReadOptions) -> list[bytes]:
    """The items of an ``open_revs`` answer (``revs`` None: every leaf), as JSON."""
    doc = read_row(conn, docid)
    if doc is None:
        if revs is None:
            raise NotFound("missing")
        return [b'{"missing":' + orjson.dumps(format_rev(rev)) + b"}" for rev in revs]
    tree = doc.tree
    wanted = tree.leaves() if revs is None else revs
    found: list[bytes] = []
    missing: list[bytes] = []
    seen: set[Rev] = set()
    for rev in wanted:
        targets = [rev]
        if options.latest and rev in tree:
            targets = [leaf for leaf in tree.sorted_leaves() if leaf in set(tree.leaves_under(rev))] or [rev]
        for target in targets:
            if target in seen:
                continue
            seen.add(target)
            stored = read_revision(conn, doc, target) if target in tree else None
            if stored is None:
                missing.append(b'{"missing":' + orjson.dumps(format_rev(target)) + b"}")
            else:
                found.append(b'{"ok":' + render_revision(conn, doc, target, stored, options) + b"}")
    return found + missing
