"""``_bulk_docs`` and ``_bulk_get``: many documents in one request.

Rules kept here (checked against CouchDB 3.5):

- ``_bulk_docs`` reads ``{"docs": [...], "new_edits": bool}``. A document
  that is not an object, or has a bad id or special member, fails the whole
  request (400); a conflict or a refusal by ``validate_doc_update`` is that
  document's result. ``new_edits=false`` answers only the refusals (``[]``
  when every revision was stored). ``all_or_nothing`` is ``417``.
- The documents are written in transactions of ``_BATCH``: a process killed
  in the middle leaves each document written whole or not at all, and
  everything of the batches before.
- ``_bulk_get`` reads ``{"docs": [{"id", "rev"?, "atts_since"?}]}``: per
  item, the revision asked for or (no rev) every leaf, winner first, each
  ``{"ok": doc}`` or ``{"error": {"id", "rev", "error", "reason"}}``.
  ``revs``, ``latest`` and ``attachments`` are the document options.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from .._core.json import JsonBody, JSONDecodeError, loads
from . import writes
from .bodies import Incoming, parse_doc
from .database import LocalDb
from .documents import check_partition
from .errors import BadRequest, HttpError, NotFound, method_not_allowed
from .extensions import db_endpoint
from .reads import ReadOptions, parse_revs, read_revision, read_row, render_revision
from .requests import JSON_HEADERS, Reply, Request, json_reply, own_json_reply
from .revs import Rev, format_rev, parse_rev

__all__ = ["bulk_docs", "bulk_get"]

_BATCH = 1000


def _prepare(raw_docs: list[Any], new_edits: bool, db: LocalDb, borrowed: bool) -> list[Incoming]:
    docs = []
    partitioned = db.partitioned
    for raw in raw_docs:
        doc = parse_doc(raw, borrowed=borrowed)
        if doc.id is None:
            if not new_edits:
                raise BadRequest("When `new_edits: false`, the document needs `_rev` or `_revisions` specified")
            doc.id = uuid.uuid4().hex
        if not new_edits and doc.rev is None:
            raise BadRequest("When `new_edits: false`, the document needs `_rev` or `_revisions` specified")
        if partitioned:
            check_partition(db, doc.id)
        doc.encode()
        docs.append(doc)
    return docs


@db_endpoint("_bulk_docs")
async def bulk_docs(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_bulk_docs``."""
    if request.method != "POST":
        raise method_not_allowed("POST")
    runtime = request.runtime
    raw = await request.read_body()

    def parse() -> tuple[list[Incoming], bool, bool]:
        if type(raw) is JsonBody:  # the caller's own documents, from this process
            body, borrowed = raw.value, True
        else:
            borrowed = False
            try:
                body = loads(raw)
            except JSONDecodeError:
                raise BadRequest("invalid UTF-8 JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object")
        if "docs" not in body:
            raise BadRequest("POST body must include `docs` parameter.")
        if not isinstance(body["docs"], list):
            raise BadRequest("`docs` parameter must be an array.")
        new_edits = body.get("new_edits", True)
        if not isinstance(new_edits, bool):
            raise BadRequest("`new_edits` parameter must be a boolean.")
        return _prepare(body["docs"], new_edits, db, borrowed), new_edits, body.get("all_or_nothing") is True

    docs, new_edits, all_or_nothing = await runtime.to_thread(parse)
    if all_or_nothing and docs:
        failures = [
            {"id": d.id, "rev": "0-", "error": "not_implemented", "reason": "all_or_nothing is not supported"}
            for d in docs
        ]
        return json_reply(417, failures)
    results: list[dict[str, Any]] = []
    for start in range(0, len(docs), _BATCH):
        results.extend(await db.write(runtime, writes.write_docs, docs[start : start + _BATCH], new_edits))
    return own_json_reply(201, results)


def _bulk_get_item(conn: sqlite3.Connection, docid: Any, rev_text: Any, atts_since: Any, options: ReadOptions) -> bytes:
    def error(rev: Any, exc: HttpError) -> bytes:
        return orjson.dumps({"error": {"id": docid, "rev": rev, "error": exc.error, "reason": exc.reason}})

    if not isinstance(docid, str) or not docid:
        return orjson.dumps(
            [{"error": {"id": None, "rev": rev_text, "error": "bad_request", "reason": "document id missed"}}]
        )
    item_options = options
    if atts_since is not None:
        item_options = ReadOptions()
        for name in ReadOptions.__slots__:
            setattr(item_options, name, getattr(options, name))
        try:
            item_options.atts_since = parse_revs(atts_since)
        except HttpError as exc:
            return b"[" + error(rev_text, exc) + b"]"
    rev: Rev | None = None
    if rev_text is not None:
        try:
            rev = parse_rev(rev_text)
        except HttpError as exc:
            return b"[" + error(rev_text, exc) + b"]"
    doc = read_row(conn, docid)
    if doc is None:
        return b"[" + error(rev_text if rev_text is not None else "undefined", NotFound("missing")) + b"]"
    tree = doc.tree
    if rev is None:
        wanted = tree.sorted_leaves()
    elif rev in tree:
        wanted = [rev]
        if options.latest and not tree.is_leaf(rev):
            under = set(tree.leaves_under(rev))
            wanted = [leaf for leaf in tree.sorted_leaves() if leaf in under]
    else:
        return b"[" + error(rev_text, NotFound("missing")) + b"]"
    out = []
    for target in wanted:
        stored = read_revision(conn, doc, target)
        if stored is None:
            out.append(error(format_rev(target), NotFound("missing")))
        else:
            out.append(b'{"ok":' + render_revision(conn, doc, target, stored, item_options) + b"}")
    return b"[" + b",".join(out) + b"]"


def _bulk_get_page(conn: sqlite3.Connection, items: list[Any], options: ReadOptions) -> list[bytes]:
    results = []
    for item in items:
        if not isinstance(item, dict):
            item = {}
        docid = item.get("id")
        docs = _bulk_get_item(conn, docid, item.get("rev"), item.get("atts_since"), options)
        results.append(b'{"id":' + orjson.dumps(docid) + b',"docs":' + docs + b"}")
    return results


@db_endpoint("_bulk_get")
async def bulk_get(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_bulk_get``."""
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = await request.json_object()
    items = body.get("docs")
    if not isinstance(items, list):
        raise BadRequest("Missing JSON list of 'docs'.")
    options = ReadOptions.of(request)
    runtime = request.runtime

    async def stream() -> Any:
        yield b'{"results":['
        for start in range(0, len(items), _BATCH):
            page = await db.read(runtime, _bulk_get_page, items[start : start + _BATCH], options)
            yield (b"," if start else b"") + b",".join(page)
        yield b"]}"

    return Reply(200, JSON_HEADERS, stream())
