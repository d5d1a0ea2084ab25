"""Writing documents: CouchDB's update rules, run inside one transaction of the writer.

Rules kept here (couch_db.erl ``update_docs``, checked against CouchDB 3.5):

- An interactive edit (``new_edits`` true) names its parent in ``_rev``,
  which must be a leaf of the document's tree; without ``_rev`` it creates
  the document, or revives it when its winner is deleted (the new revision
  extends the deleted leaf). Anything else is ``409 conflict``.
- The new revision is ``pos + 1`` of its parent, its id an md5 of what it is
  (``revs.new_rev_id``).
- A replicated revision (``new_edits`` false) is merged with its history
  (``_revisions``, or just its ``_rev``); a revision already in the tree
  changes nothing (no new seq).
- Each change gives the document the next update seq. The tree is then
  stemmed to ``revs_limit``; the bodies of stemmed revisions are deleted.
- The winner's body lives in the ``docs`` row; when the winner changes, the
  old winner's body moves to ``revs`` (kept until compaction) and the new
  winner's comes from there.
- Attachments: a stub (``"stub": true``) takes the attachment of the
  parent revision (for a replicated revision: of its nearest stored
  ancestor, else stored data with the same digest), ``412 missing_stub``
  otherwise; ``data`` is base64 stored now; ``follows`` is data uploaded
  before the transaction (multipart). Stubs keep their ``revpos``, new data
  gets the new revision's pos.
- Everything that can refuse a document (conflict, bad attachment,
  ``validate_doc_update``) is checked before anything of it is written, so
  a refused document leaves no trace and the others of the request go on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from . import blobs
from .bodies import Incoming
from .database import LocalDb, Txn
from .errors import BadRequest, Conflict, HttpError, NotFound
from .extensions import HOOKS
from .revs import Rev, format_rev, new_rev_id
from .revtree import EXISTS, RevTree

__all__ = ["DocState", "Upload", "load_states", "purge", "write_docs", "write_one"]

_CHUNK_IDS = 500


class DocState:
    """A document's row as it stands in the transaction."""

    __slots__ = ("id", "seq", "tree", "rev", "deleted", "atts", "body")

    def __init__(
        self,
        docid: str,
        seq: int | None,
        tree: RevTree,
        rev: Rev,
        deleted: bool,
        atts: bytes | None,
        body: bytes | bytearray,
    ) -> None:
        self.id = docid
        self.seq = seq
        self.tree = tree
        self.rev = rev
        self.deleted = deleted
        self.atts = atts
        self.body = body


def _parse_rev_text(text: str) -> Rev:
    pos, _, rid = text.partition("-")
    return int(pos), rid


def load_states(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, DocState]:
    """The stored documents among ``ids``."""
    unique = list(dict.fromkeys(ids))
    found: dict[str, DocState] = {}
    for start in range(0, len(unique), _CHUNK_IDS):
        chunk = unique[start : start + _CHUNK_IDS]
        marks = ",".join("?" * len(chunk))
        for seq, docid, rev, deleted, tree, atts, body in conn.execute(
            f"SELECT seq, id, rev, deleted, tree, atts, body FROM docs WHERE id IN ({marks})", chunk
        ):
            found[docid] = DocState(docid, seq, RevTree.decode(tree), _parse_rev_text(rev), bool(deleted), atts, body)
    return found


class Upload:
    """An attachment uploaded before its document is written (a ``follows`` part)."""

    __slots__ = ("num", "digest", "length", "content_type")

    def __init__(self, num: int, digest: str, length: int, content_type: str) -> None:
        self.num = num
        self.digest = digest
        self.length = length
        self.content_type = content_type


class _Attachments:
    """A new revision's attachments, resolved: what it will store and what to count."""

    __slots__ = ("stored", "inline", "stubs", "uploads")

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.inline: list[tuple[str, bytes]] = []  # (name, data) to store
        self.stubs: list[str] = []  # digests to count once more
        self.uploads: list[Upload] = []

    def encode(self) -> bytes | None:
        return orjson.dumps(self.stored) if self.stored else None

    def store(self, conn: sqlite3.Connection, docid: str) -> None:
        """Store the new data and count one more reference to everything the revision names."""
        for _, raw in self.inline:
            blobs.store_bytes(conn, raw)
        if self.stubs and not blobs.add_refs(conn, self.stubs):
            raise HttpError(f"Invalid attachment stub in {docid}", status=412, error="missing_stub")
        for upload in self.uploads:
            blobs.adopt(conn, upload.num, upload.digest, upload.length)


def _stored_atts(conn: sqlite3.Connection, state: DocState | None, rev: Rev) -> dict[str, Any] | None:
    """The attachments of a stored revision body, or None when its body is not stored."""
    if state is None:
        return None
    if state.rev == rev:
        return orjson.loads(state.atts) if state.atts else {}
    row = conn.execute("SELECT atts FROM revs WHERE id = ? AND rev = ?", (state.id, format_rev(rev))).fetchone()
    if row is None:
        return None
    return orjson.loads(row[0]) if row[0] else {}


def _resolve_attachments(
    conn: sqlite3.Connection,
    doc: Incoming,
    docid: str,
    pos: int,
    ancestors: list[Rev],
    state: DocState | None,
    uploads: dict[str, Upload] | None,
) -> _Attachments:
    found = _Attachments()
    given = doc.attachments
    if not given:
        return found
    parent_atts: dict[str, Any] | None = None
    looked = False
    for name, spec in given.items():
        if not isinstance(spec, dict):
            raise BadRequest(f"Invalid attachment {name!r}")
        if spec.get("stub"):
            if not looked:
                looked = True
                for rev in ancestors:
                    parent_atts = _stored_atts(conn, state, rev)
                    if parent_atts is not None:
                        break
            info = (parent_atts or {}).get(name)
            if info is None:
                digest = spec.get("digest")
                held = blobs.find(conn, digest) if isinstance(digest, str) else None
                if held is None:
                    raise HttpError(f"Invalid attachment stub in {docid} for {name}", status=412, error="missing_stub")
                info = {
                    "content_type": spec.get("content_type") or "application/octet-stream",
                    "revpos": spec.get("revpos", pos),
                    "digest": digest,
                    "length": held[1],
                }
            found.stored[name] = info
            found.stubs.append(info["digest"])
        elif "data" in spec:
            data = spec["data"]
            if not isinstance(data, str):
                raise BadRequest(f"Invalid attachment data for {name}")
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise BadRequest(f"Invalid attachment data for {name}") from None
            found.inline.append((name, raw))
            found.stored[name] = {
                "content_type": spec.get("content_type") or "application/octet-stream",
                "revpos": pos,
                "digest": None,
                "length": len(raw),
            }
        elif spec.get("follows"):
            upload = (uploads or {}).get(name)
            if upload is None:
                raise BadRequest(f"Attachment {name} is missing its data (follows)")
            found.uploads.append(upload)
            found.stored[name] = {
                "content_type": spec.get("content_type") or upload.content_type,
                "revpos": pos,
                "digest": upload.digest,
                "length": upload.length,
            }
        else:
            raise BadRequest(f"Invalid attachment {name!r}: give data, a stub or follows")
    return found


def _precompute_inline_digests(atts: _Attachments) -> None:
    """Inline data gets its digest before the revision id is computed."""
    for name, raw in atts.inline:
        atts.stored[name]["digest"] = blobs.digest_of(hashlib.md5(raw))


def _doc_json(
    docid: str, rev: Rev, body: dict[str, Any], deleted: bool, atts: dict[str, Any] | None, path: list[Rev]
) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": docid, "_rev": format_rev(rev), **body}
    if deleted:
        doc["_deleted"] = True
    doc["_revisions"] = {"start": rev[0], "ids": [r[1] for r in path]}
    if atts:
        doc["_attachments"] = {name: {**info, "stub": True} for name, info in atts.items()}
    return doc


def _old_doc(conn: sqlite3.Connection, state: DocState | None, rev: Rev | None) -> dict[str, Any] | None:
    if state is None or rev is None or rev not in state.tree:
        return None
    if state.rev == rev:
        body, atts, deleted = state.body, state.atts, state.deleted
    else:
        row = conn.execute(
            "SELECT body, atts, deleted FROM revs WHERE id = ? AND rev = ?", (state.id, format_rev(rev))
        ).fetchone()
        if row is None:
            return None
        body, atts, deleted = row
    return _doc_json(
        state.id, rev, orjson.loads(body), bool(deleted), orjson.loads(atts) if atts else None, state.tree.path(rev)
    )


def _check_design(docid: str, doc: Incoming) -> None:
    if docid.startswith("_design/") and not doc.deleted and HOOKS.design_check is not None:
        HOOKS.design_check(doc.body)


class _Writer:
    """The documents of one transaction, written in order."""

    def __init__(self, txn: Txn, states: dict[str, DocState], uploads: dict[str, dict[str, Upload]] | None) -> None:
        self.txn = txn
        self.conn = txn.conn
        self.db: LocalDb = txn.db
        self.states = states
        self.uploads = uploads or {}
        self.limit = self.db.revs_limit
        self._checker: Callable[[dict[str, Any], dict[str, Any] | None], None] | None = None
        self._checker_made = False
        self._plain: bool | None = None  # no validate_doc_update to run
        self.fresh: set[str] = set()  # new documents whose rows wait in _inserts
        self._inserts: list[tuple[Any, ...]] = []
        self._live = 0
        self._dead = 0
        self._external = 0

    # --- new documents in bulk ----------------------------------------------------------

    def flush(self) -> None:
        """Write the rows of the new documents so far, and count them."""
        if self._inserts:
            self.conn.executemany(
                "INSERT INTO docs(seq, id, rev, deleted, tree, body) VALUES (?, ?, ?, ?, ?, ?)", self._inserts
            )
            self._inserts = []
        txn = self.txn
        txn.add("doc_count", self._live)
        txn.add("del_count", self._dead)
        txn.add("external", self._external)
        self._live = self._dead = self._external = 0

    def reload(self, docid: str) -> None:
        """A document written earlier in this transaction comes again: read it back."""
        self.flush()
        self.fresh.discard(docid)
        self.states.update(load_states(self.conn, [docid]))

    def simple(self, doc: Incoming) -> bool:
        """Can ``doc`` take the quick way: a new document, no attachments, nothing to validate or check."""
        if self._plain is None:
            self._plain = self.checker() is None
        docid = doc.id
        return (
            self._plain
            and docid not in self.states
            and not doc.attachments
            and not (docid or "").startswith("_design/")
        )

    def create(self, doc: Incoming) -> dict[str, Any]:
        """A new document's first revision (the quick way of ``edit``)."""
        docid = doc.id
        assert docid is not None
        if doc.rev is not None:
            raise Conflict()
        body = doc.data
        flag = 1 if doc.deleted else 0
        rid = new_rev_id(doc.deleted, None, body)
        rev = "1-" + rid
        seq = self.txn.next_seq()
        self._queue(seq, docid, rev, flag, b'[[1,"%s",null,%d,%d]]' % (rid.encode(), flag, seq), body)
        return {"ok": True, "id": docid, "rev": rev}

    def plant(self, doc: Incoming) -> None:
        """A new document's replicated history (the quick way of ``replicate``)."""
        docid = doc.id
        assert docid is not None and doc.rev is not None
        pos, ids = doc.revisions if doc.revisions is not None else (doc.rev[0], [doc.rev[1]])
        if len(ids) > pos:
            ids = ids[:pos] if pos > 0 else ids[:1]
        if len(ids) > self.limit:
            ids = ids[: self.limit]
        seq = self.txn.next_seq()
        deleted = 1 if doc.deleted else 0
        nodes = [[pos - i, rid, ids[i + 1] if i + 1 < len(ids) else None, 0, seq] for i, rid in enumerate(ids)]
        nodes[0][3] = deleted
        self._queue(seq, docid, f"{pos}-{ids[0]}", deleted, orjson.dumps(nodes), doc.data)

    def _queue(self, seq: int, docid: str, rev: str, deleted: int, tree: bytes, body: bytearray) -> None:
        """A new document's row, written by the next ``flush``."""
        # bytearray, not bytes, and no None: CPython's sqlite3 (3.11) looks for an adapter for each bytes
        # or None parameter, raising and dropping an AttributeError each time; a bytearray is bound as it is.
        self._inserts.append((seq, docid, rev, deleted, bytearray(tree), body))
        self.fresh.add(docid)
        if deleted:
            self._dead += 1
        else:
            self._live += 1
        self._external += len(body)

    def checker(self) -> Callable[[dict[str, Any], dict[str, Any] | None], None] | None:
        if not self._checker_made:
            self._checker_made = True
            hook = HOOKS.validator
            self._checker = hook(self.db, self.conn) if hook is not None else None
        return self._checker

    # --- the two kinds of write -------------------------------------------------------

    def edit(self, doc: Incoming) -> dict[str, Any]:
        docid = doc.id
        assert docid is not None
        state = self.states.get(docid)
        if state is None:
            if doc.rev is not None:
                raise Conflict()
            parent = None
        elif doc.rev is None:
            if not state.deleted:
                raise Conflict()
            parent = state.rev
        else:
            if not state.tree.is_leaf(doc.rev):
                raise Conflict()
            parent = doc.rev
        body = doc.data or doc.encode()
        pos = 1 if parent is None else parent[0] + 1
        ancestors = [] if parent is None else [parent]
        atts = _resolve_attachments(self.conn, doc, docid, pos, ancestors, state, self.uploads.get(docid))
        _precompute_inline_digests(atts)
        atts_json = atts.encode()
        rev = (pos, new_rev_id(doc.deleted, parent, body, atts_json or b""))
        tree = state.tree.copy() if state is not None else RevTree()
        if rev in tree:
            raise Conflict()
        tree.add(rev, parent, doc.deleted, 0)
        _check_design(docid, doc)
        checker = self.checker()
        if checker is not None:
            checker(
                _doc_json(docid, rev, doc.body, doc.deleted, atts.stored, tree.path(rev)),
                _old_doc(self.conn, state, parent),
            )
        self._apply(docid, state, tree, rev, doc.deleted, body, atts, atts_json)
        return {"ok": True, "id": docid, "rev": format_rev(rev)}

    def replicate(self, doc: Incoming) -> dict[str, Any] | None:
        docid = doc.id
        if docid is None:
            raise BadRequest("Document id must be given with new_edits=false")
        if doc.rev is None:
            raise BadRequest("Document rev must be given with new_edits=false")
        pos, ids = doc.revisions if doc.revisions is not None else (doc.rev[0], [doc.rev[1]])
        if len(ids) > pos:
            ids = ids[:pos] if pos > 0 else ids[:1]
        state = self.states.get(docid)
        tree = state.tree.copy() if state is not None else RevTree()
        rev = (pos, ids[0])
        if tree.merge(pos, ids, doc.deleted, 0) == EXISTS:
            assert state is not None
            self._fill(doc, state, tree, rev)
            return None
        body = doc.data or doc.encode()
        ancestors = [r for r in tree.path(rev)[1:] if state is not None and r in state.tree]
        atts = _resolve_attachments(self.conn, doc, docid, pos, ancestors, state, self.uploads.get(docid))
        _precompute_inline_digests(atts)
        _check_design(docid, doc)
        checker = self.checker()
        if checker is not None:
            old = next((r for r in ancestors), None)
            checker(
                _doc_json(docid, rev, doc.body, doc.deleted, atts.stored, tree.path(rev)),
                _old_doc(self.conn, state, old),
            )
        self._apply(docid, state, tree, rev, doc.deleted, body, atts, atts.encode())
        return None

    def _fill(self, doc: Incoming, state: DocState, tree: RevTree, rev: Rev) -> None:
        """A replicated revision the tree has: store its body if it had none, and any ancestry it adds.

        CouchDB takes both as a change of the document (a new seq); the same
        revision sent again changes nothing.
        """
        docid = state.id
        conn = self.conn
        text = format_rev(rev)
        has_body = (
            rev == state.rev
            or conn.execute("SELECT 1 FROM revs WHERE id = ? AND rev = ?", (docid, text)).fetchone() is not None
        )
        if has_body and tree.nodes == state.tree.nodes:
            return
        seq = self.txn.next_seq()
        if not has_body:
            ancestors = [r for r in tree.path(rev)[1:] if r in state.tree]
            atts = _resolve_attachments(conn, doc, docid, rev[0], ancestors, state, self.uploads.get(docid))
            _precompute_inline_digests(atts)
            atts.store(conn, docid)
            conn.execute(
                "INSERT INTO revs(id, rev, deleted, atts, body) VALUES (?, ?, ?, ?, ?)",
                (docid, text, doc.deleted, atts.encode(), doc.data or doc.encode()),
            )
            tree.nodes[rev][1] = doc.deleted
            tree.nodes[rev][2] = seq
        conn.execute("UPDATE docs SET seq = ?, tree = ? WHERE seq = ?", (seq, tree.encode(), state.seq))
        state.seq, state.tree = seq, tree

    # --- storing a new revision ---------------------------------------------------------

    def _apply(
        self,
        docid: str,
        state: DocState | None,
        tree: RevTree,
        rev: Rev,
        deleted: bool,
        body: bytes | bytearray,
        atts: _Attachments,
        atts_json: bytes | None,
    ) -> None:
        conn = self.conn
        txn = self.txn
        seq = txn.next_seq()
        tree.nodes[rev][2] = seq
        atts.store(conn, docid)
        for old in tree.stem(self.limit):
            if state is not None and old != state.rev:
                self._drop_body(docid, old)
        winner = tree.winner()
        old_winner = state.rev if state is not None else None
        win_deleted = deleted
        if winner == rev:
            win_body, win_atts = body, atts_json
            if state is not None and old_winner is not None and old_winner in tree:
                conn.execute(
                    "INSERT OR REPLACE INTO revs(id, rev, deleted, atts, body) VALUES (?, ?, ?, ?, ?)",
                    (docid, format_rev(old_winner), state.deleted, state.atts, state.body),
                )
        else:
            conn.execute(
                "INSERT OR REPLACE INTO revs(id, rev, deleted, atts, body) VALUES (?, ?, ?, ?, ?)",
                (docid, format_rev(rev), deleted, atts_json, body),
            )
            assert state is not None
            if winner != old_winner:
                row = conn.execute(
                    "SELECT deleted, atts, body FROM revs WHERE id = ? AND rev = ?", (docid, format_rev(winner))
                ).fetchone()
                conn.execute("DELETE FROM revs WHERE id = ? AND rev = ?", (docid, format_rev(winner)))
                win_deleted, win_atts, win_body = bool(row[0]), row[1], row[2]
                if old_winner is not None and old_winner in tree:
                    conn.execute(
                        "INSERT OR REPLACE INTO revs(id, rev, deleted, atts, body) VALUES (?, ?, ?, ?, ?)",
                        (docid, format_rev(old_winner), state.deleted, state.atts, state.body),
                    )
                elif old_winner is not None:
                    blobs.drop_refs(conn, state.atts)
            else:
                win_deleted, win_atts, win_body = state.deleted, state.atts, state.body
        if winner == rev and old_winner is not None and state is not None and old_winner not in tree:
            blobs.drop_refs(conn, state.atts)  # the old winner was stemmed away
        row = (seq, docid, format_rev(winner), win_deleted, tree.encode(), win_atts, win_body)
        if state is None:
            conn.execute("INSERT INTO docs(seq, id, rev, deleted, tree, atts, body) VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            txn.add("del_count" if win_deleted else "doc_count", 1)
            txn.add("external", len(win_body))
            self.states[docid] = DocState(docid, seq, tree, winner, win_deleted, win_atts, win_body)
        else:
            conn.execute(
                "UPDATE docs SET seq = ?, id = ?, rev = ?, deleted = ?, tree = ?, atts = ?, body = ? WHERE seq = ?",
                (*row, state.seq),
            )
            if win_deleted != state.deleted:
                txn.add("doc_count", -1 if win_deleted else 1)
                txn.add("del_count", 1 if win_deleted else -1)
            txn.add("external", len(win_body) - len(state.body))
            state.seq, state.tree, state.rev, state.deleted = seq, tree, winner, win_deleted
            state.atts, state.body = win_atts, win_body

    def _drop_body(self, docid: str, rev: Rev) -> None:
        text = format_rev(rev)
        row = self.conn.execute("SELECT atts FROM revs WHERE id = ? AND rev = ?", (docid, text)).fetchone()
        if row is not None:
            self.conn.execute("DELETE FROM revs WHERE id = ? AND rev = ?", (docid, text))
            blobs.drop_refs(self.conn, row[0])


def _error_result(docid: str | None, exc: HttpError) -> dict[str, Any]:
    return {"id": docid, "error": exc.error, "reason": exc.reason}


def write_docs(
    txn: Txn,
    docs: list[Incoming],
    new_edits: bool = True,
    uploads: dict[str, dict[str, Upload]] | None = None,
) -> list[dict[str, Any]]:
    """Write ``docs`` in order; one result per document (``[]`` entries are left out with new_edits false)."""
    states = load_states(txn.conn, [doc.id for doc in docs if doc.id is not None])
    writer = _Writer(txn, states, uploads)
    results: list[dict[str, Any]] = []
    fresh = writer.fresh
    for doc in docs:
        if doc.id in fresh:
            writer.reload(doc.id)
        try:
            if new_edits:
                results.append(writer.create(doc) if writer.simple(doc) else writer.edit(doc))
            elif writer.simple(doc):
                writer.plant(doc)
            else:
                writer.replicate(doc)
        except HttpError as exc:
            results.append(_error_result(doc.id, exc))
    writer.flush()
    return results


def write_one(
    txn: Txn, doc: Incoming, new_edits: bool = True, uploads: dict[str, Upload] | None = None
) -> dict[str, Any]:
    """Write one document; a refusal is raised."""
    states = load_states(txn.conn, [doc.id] if doc.id is not None else [])
    writer = _Writer(txn, states, {doc.id: uploads} if uploads and doc.id else None)
    if new_edits:
        return writer.edit(doc)
    writer.replicate(doc)
    assert doc.rev is not None
    return {"ok": True, "id": doc.id, "rev": format_rev(doc.rev)}


def purge(txn: Txn, request: dict[str, list[Rev]]) -> dict[str, list[str]]:
    """Remove these leaves for good; the answer's ``purged`` member."""
    conn = txn.conn
    states = load_states(conn, request)
    purged: dict[str, list[str]] = {}
    for docid, revs in request.items():
        state = states.get(docid)
        if state is None:
            purged[docid] = []
            continue
        tree = state.tree.copy()
        gone, removed = tree.remove_leaves(revs)
        purged[docid] = [format_rev(rev) for rev in gone]
        if not gone:
            continue
        txn.add("purge_seq", 1)
        for rev in removed:
            if rev != state.rev:
                text = format_rev(rev)
                row = conn.execute("SELECT atts FROM revs WHERE id = ? AND rev = ?", (docid, text)).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM revs WHERE id = ? AND rev = ?", (docid, text))
                    blobs.drop_refs(conn, row[0])
        if not tree.nodes:
            blobs.drop_refs(conn, state.atts)
            conn.execute("DELETE FROM docs WHERE seq = ?", (state.seq,))
            txn.add("del_count" if state.deleted else "doc_count", -1)
            txn.add("external", -len(state.body))
            txn.next_seq()
            del states[docid]
            continue
        winner = tree.winner()
        seq = txn.next_seq()
        if winner == state.rev:
            deleted, atts, body = state.deleted, state.atts, state.body
        else:
            text = format_rev(winner)
            row = conn.execute(
                "SELECT deleted, atts, body FROM revs WHERE id = ? AND rev = ?", (docid, text)
            ).fetchone()
            if row is None:
                raise NotFound(f"the body of {docid} {text} is missing")
            conn.execute("DELETE FROM revs WHERE id = ? AND rev = ?", (docid, text))
            deleted, atts, body = bool(row[0]), row[1], row[2]
            if state.rev in tree:
                conn.execute(
                    "INSERT OR REPLACE INTO revs(id, rev, deleted, atts, body) VALUES (?, ?, ?, ?, ?)",
                    (docid, format_rev(state.rev), state.deleted, state.atts, state.body),
                )
            else:
                blobs.drop_refs(conn, state.atts)
        conn.execute(
            "UPDATE docs SET seq = ?, rev = ?, deleted = ?, tree = ?, atts = ?, body = ? WHERE seq = ?",
            (seq, format_rev(winner), deleted, tree.encode(), atts, body, state.seq),
        )
        if deleted != state.deleted:
            txn.add("doc_count", -1 if deleted else 1)
            txn.add("del_count", 1 if deleted else -1)
        txn.add("external", len(body) - len(state.body))
        state.seq, state.tree, state.rev, state.deleted, state.atts, state.body = seq, tree, winner, deleted, atts, body
    return purged
