"""``/{db}/{docid}``: read, save, delete and copy one document (design documents too).

Rules kept here (checked against CouchDB 3.5):

- ``GET`` reads with the options of ``reads.py``; ``HEAD`` is the same with
  no body. The ETag is the rev in double quotes.
- ``PUT`` takes the id from the URL (an ``_id`` in the body is ignored), the
  rev from the body or ``?rev=`` (both given and different: 400), and
  answers 201 (202 with ``batch=ok``, without the rev), with the ETag and
  ``Location``. A ``multipart/related`` body is the document then its
  ``follows`` attachments, streamed into the store part by part.
- ``DELETE`` needs the rev (``?rev=`` or ``If-Match``): without it, 404 for a
  missing document and 409 for an existing one, as CouchDB answers.
- ``COPY`` copies the winner (or ``?rev=``) with its attachments to the
  ``Destination`` header's id (``?rev=`` there to overwrite).
- ``POST /{db}`` saves a document under its ``_id`` or a new uuid.
- In a partitioned database an id is ``{partition}:{id}`` with a non-empty
  partition not starting with ``_`` (design and local documents aside).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

import orjson

from .._core import multipart
from . import writes
from .bodies import Incoming, parse_doc, render, validate_docid
from .database import LocalDb, Txn
from .errors import BadRequest, Conflict, HttpError, IllegalDocid, NotFound, method_not_allowed
from .reads import ReadOptions, open_revs, parse_revs, read_one
from .requests import JSON_HEADERS, Reply, Request, json_reply
from .revs import Rev, format_rev, parse_rev
from .uploads import Receiver, discard

__all__ = ["check_partition", "document", "post_document", "requested_rev"]


def check_partition(db: LocalDb, docid: str) -> None:
    if not db.partitioned or docid.startswith(("_design/", "_local/")):
        return
    partition, colon, rest = docid.partition(":")
    if not colon:
        raise IllegalDocid("Doc id must be of form partition:id")
    if not partition:
        raise HttpError("Partition must not be empty", status=400, error="illegal_partition")
    if partition.startswith("_"):
        raise HttpError("Partition must not start with an underscore", status=400, error="illegal_partition")
    if not rest:
        raise IllegalDocid("Document id must not be empty")


async def document(request: Request, db: LocalDb, docid: str) -> Reply:
    method = request.method
    if method == "GET" or method == "HEAD":
        return await _get(request, db, docid)
    if method == "PUT":
        return await _put(request, db, docid)
    if method == "DELETE":
        return await _delete(request, db, docid)
    if method == "COPY":
        return await _copy(request, db, docid)
    raise method_not_allowed("COPY,DELETE,GET,HEAD,PUT")


# --- GET ---------------------------------------------------------------------------------


def _plain_get(conn: Any, docid: str) -> tuple[str, bytes] | None:
    row = conn.execute("SELECT rev, deleted, atts, body FROM docs WHERE id = ?", (docid,)).fetchone()
    if row is None:
        raise NotFound("missing")
    rev, deleted, atts, body = row
    if deleted:
        raise NotFound("deleted")
    if atts:
        return None
    return rev, render(docid, rev, body)


async def _get(request: Request, db: LocalDb, docid: str) -> Reply:
    runtime = request.runtime
    if not request.query:
        plain = await db.point_read(runtime, _plain_get, docid)
        if plain is not None:
            winner, body = plain
            headers = {"Content-Type": "application/json", "ETag": f'"{winner}"'}
            return Reply(200, headers, body if request.method == "GET" else b"")
    options = ReadOptions.of(request)
    wanted = request.query.get("open_revs")
    if wanted is not None:
        revs = None if wanted == "all" else parse_revs(request.json_option("open_revs"))
        items = await db.read(runtime, open_revs, docid, revs, options)
        return Reply(200, JSON_HEADERS, b"[" + b",".join(items) + b"]")
    rev = parse_rev(request.query["rev"]) if "rev" in request.query else None
    if options.attachments or options.atts_since:
        found, body = await db.read(runtime, read_one, docid, rev, options)
    else:
        found, body = await db.point_read(runtime, read_one, docid, rev, options)
    headers = {"Content-Type": "application/json", "ETag": f'"{format_rev(found)}"'}
    return Reply(200, headers, body if request.method == "GET" else b"")


# --- PUT, POST, DELETE ---------------------------------------------------------------------


def _saved(request: Request, result: dict[str, Any], batch: bool, location: str | None = None) -> Reply:
    """201 with the new rev, ETag and Location (202 and no rev with ``batch=ok``)."""
    docid = result["id"]
    location = location or request.url.split("?")[0]
    if batch:
        return json_reply(202, {"ok": True, "id": docid}, {"Location": location})
    return json_reply(201, result, {"ETag": f'"{result["rev"]}"', "Location": location})


def requested_rev(request: Request) -> Rev | None:
    """The rev a write names in ``?rev=`` or an ``If-Match`` header."""
    given = request.query.get("rev")
    if given is None:
        match = request.header("if-match")
        given = match.strip('"') if match else None
    return None if given is None else parse_rev(given)


def _rev_option(request: Request, doc: Incoming) -> None:
    rev = requested_rev(request)
    if rev is None:
        return
    if doc.rev is not None and doc.rev != rev:
        raise BadRequest("Document rev from request body and query string have different values")
    doc.rev = rev


def _batch(request: Request) -> bool:
    batch = request.query.get("batch")
    if batch is not None and batch != "ok":
        raise BadRequest("Bad batch value")
    return batch == "ok"


async def _put(request: Request, db: LocalDb, docid: str) -> Reply:
    validate_docid(docid)
    check_partition(db, docid)
    content_type = request.header("content-type") or ""
    if content_type.startswith("multipart/related"):
        return await _put_multipart(request, db, docid, content_type)
    doc = parse_doc(await request.json())
    doc.id = docid
    _rev_option(request, doc)
    doc.encode()
    new_edits = request.flag("new_edits", True)
    result = await db.write(request.runtime, writes.write_one, doc, new_edits)
    return _saved(request, result, _batch(request))


async def post_document(request: Request, db: LocalDb) -> Reply:
    """``POST /{db}``: save a document under its ``_id`` or a new one."""
    doc = parse_doc(await request.json())
    if doc.id is None:
        doc.id = uuid.uuid4().hex
    check_partition(db, doc.id)
    doc.encode()
    result = await db.write(request.runtime, writes.write_one, doc, True)
    return _saved(request, result, _batch(request), f"{request.url.split('?')[0]}/{quote(doc.id, safe='')}")


def _delete_write(txn: Txn, doc: Incoming) -> dict[str, Any]:
    if doc.rev is None:
        exists = txn.conn.execute("SELECT deleted FROM docs WHERE id = ?", (doc.id,)).fetchone()
        if exists is None:
            raise NotFound("missing")
        raise Conflict()
    if txn.conn.execute("SELECT 1 FROM docs WHERE id = ?", (doc.id,)).fetchone() is None:
        raise NotFound("missing")
    return writes.write_one(txn, doc)


async def _delete(request: Request, db: LocalDb, docid: str) -> Reply:
    doc = Incoming()
    doc.id = docid
    doc.deleted = True
    _rev_option(request, doc)
    doc.encode()
    result = await db.write(request.runtime, _delete_write, doc)
    return json_reply(200, result, {"ETag": f'"{result["rev"]}"'})


# --- COPY ----------------------------------------------------------------------------------


def _copy_source(conn: Any, docid: str, rev: Rev | None) -> dict[str, Any]:
    _, body = read_one(conn, docid, rev, ReadOptions())
    source: dict[str, Any] = orjson.loads(body)
    return source


async def _copy(request: Request, db: LocalDb, docid: str) -> Reply:
    destination = request.header("destination")
    if not destination:
        raise BadRequest("Destination header is mandatory for COPY.")
    target, _, query = destination.partition("?")
    target = unquote(target)
    target_rev = None
    for piece in query.split("&"):
        name, _, value = piece.partition("=")
        if name == "rev":
            target_rev = parse_rev(unquote(value))
    validate_docid(target)
    check_partition(db, target)
    rev = parse_rev(request.query["rev"]) if "rev" in request.query else None
    source = await db.point_read(request.runtime, _copy_source, docid, rev)
    source["_id"] = target
    source.pop("_rev", None)
    doc = parse_doc(source)
    doc.rev = target_rev
    doc.encode()
    result = await db.write(request.runtime, writes.write_one, doc, True)
    base = request.url.split("?")[0].rsplit("/", 1)[0]
    return _saved(request, result, False, f"{base}/{quote(target, safe='')}")


# --- multipart/related ---------------------------------------------------------------------


async def _put_multipart(request: Request, db: LocalDb, docid: str, content_type: str) -> Reply:
    """The document part, then each ``follows`` attachment streamed into the store as it arrives.

    CouchDB pairs the parts with the attachments marked ``follows`` in order;
    PouchDB Server by the part's filename: a filename naming one is used,
    else the next one in order.
    """
    boundary = multipart.boundary_of(content_type)
    if boundary is None:
        raise BadRequest("multipart/related without a boundary")
    body = request.body
    if body is None:
        raise BadRequest("multipart/related without a body")
    reader = multipart.MultipartReader(boundary)
    doc_json = bytearray()
    doc: Incoming | None = None
    follows: list[str] = []
    uploads: dict[str, writes.Upload] = {}
    receivers: list[Receiver] = []
    current: tuple[str, Receiver] | None = None
    parts = 0
    try:
        async for data in _as_chunks(body):
            for event, value in reader.feed(data):
                if event == "headers":
                    parts += 1
                    if parts == 1:
                        continue
                    if doc is None:
                        doc = _multipart_doc(doc_json, docid)
                        follows = _follows(doc)
                    name = _filename(value.get("content-disposition", ""))
                    if name is None or name not in follows or name in uploads:
                        waiting = [n for n in follows if n not in uploads and (current is None or n != current[0])]
                        if not waiting:
                            raise BadRequest("multipart/related has more parts than attachments that follow")
                        name = waiting[0]
                    receiver = Receiver(db, request.runtime, value.get("content-type", "application/octet-stream"))
                    receivers.append(receiver)
                    current = (name, receiver)
                elif event == "data":
                    if parts == 1:
                        doc_json += value
                    elif current is not None:
                        await current[1].feed(value)
                elif event == "end" and current is not None:
                    uploads[current[0]] = await current[1].finish()
                    current = None
        if doc is None:
            doc = _multipart_doc(doc_json, docid)
        missing = [name for name in _follows(doc) if name not in uploads]
        if missing:
            raise BadRequest(f"multipart/related is missing the data of {', '.join(missing)}")
        _rev_option(request, doc)
        doc.encode()
        result = await db.write(request.runtime, writes.write_one, doc, request.flag("new_edits", True), uploads)
    except BaseException:
        await discard(receivers)
        raise
    return _saved(request, result, _batch(request))


async def _as_chunks(body: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(body, bytes):
        yield body
        return
    async for data in body:
        yield data


def _follows(doc: Incoming) -> list[str]:
    return [name for name, spec in (doc.attachments or {}).items() if isinstance(spec, dict) and spec.get("follows")]


def _multipart_doc(raw: bytearray, docid: str) -> Incoming:
    try:
        value = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        raise BadRequest("invalid UTF-8 JSON in the document part") from None
    doc = parse_doc(value)
    doc.id = docid
    return doc


def _filename(disposition: str) -> str | None:
    marker = 'filename="'
    at = disposition.find(marker)
    if at < 0:
        return None
    rest = disposition[at + len(marker) :]
    out = []
    escaped = False
    for char in rest:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            break
        else:
            out.append(char)
    return "".join(out)
