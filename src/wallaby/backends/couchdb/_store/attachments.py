"""``/{db}/{docid}/{attname}``: an attachment read (whole, or a byte range) and written, streamed.

Rules kept here (checked against CouchDB 3.5):

- ``GET`` answers the data with its ``Content-Type``, ``Content-Length``,
  ``Accept-Ranges: bytes`` and the digest's base64 as ETag, a chunk at a
  time (each read on a worker thread), so memory holds one chunk.
- ``Range: bytes=first-last`` (``first-``, ``-suffix``) answers 206 with
  ``Content-Range``; a range past the end is ``416``; several ranges get
  the whole attachment (200), which the client cuts itself.
- ``PUT ?rev=`` streams the body into the store, then writes a new revision:
  the parent's members and attachments plus this one. Without a rev it
  makes a new document (or revives a deleted one); on an existing one it is
  ``409``.
- ``DELETE ?rev=`` writes a new revision without the attachment; one the
  revision lacks is ``404 Document is missing attachment``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import orjson

from . import blobs, writes
from .bodies import Incoming, validate_docid
from .database import LocalDb, Txn
from .documents import check_partition, requested_rev
from .errors import BadRequest, Conflict, HttpError, NotFound, method_not_allowed
from .reads import find_revision, read_revision, read_row
from .requests import Reply, Request, json_reply
from .revs import Rev, parse_rev
from .uploads import Receiver, discard

__all__ = ["attachment"]

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


async def attachment(request: Request, db: LocalDb, docid: str, name: str) -> Reply:
    if not name:
        raise NotFound("missing")
    method = request.method
    if method == "GET" or method == "HEAD":
        return await _get(request, db, docid, name)
    if method == "PUT":
        return await _put(request, db, docid, name)
    if method == "DELETE":
        return await _delete(request, db, docid, name)
    raise method_not_allowed("DELETE,GET,HEAD,PUT")


# --- reading -------------------------------------------------------------------------------


def _find(conn: Any, docid: str, rev: Rev | None, name: str) -> tuple[dict[str, Any], int]:
    _, _, (_, atts, _) = find_revision(conn, docid, rev)
    info = (orjson.loads(atts) if atts else {}).get(name)
    if info is None:
        raise NotFound("Document is missing attachment")
    held = blobs.find(conn, info["digest"])
    if held is None:
        raise NotFound("Document is missing attachment")
    return info, held[0]


def _byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """(first, last) inclusive of a single satisfiable range; None for the whole body."""
    if not header or "," in header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        first, last = max(length - suffix, 0), length - 1
    else:
        first = int(first_text)
        last = int(last_text) if last_text else length - 1
        last = min(last, length - 1)
    if first > last or first >= length:
        raise HttpError("Requested range not satisfiable", status=416, error="requested_range_not_satisfiable")
    return first, last


async def _chunks(request: Request, db: LocalDb, num: int, first: int, last: int) -> AsyncIterator[bytes]:
    chunk = blobs.CHUNK
    for n in range(first // chunk, last // chunk + 1):
        data = await db.read(request.runtime, blobs.chunk_at, num, n)
        start = first - n * chunk if n == first // chunk else 0
        end = last - n * chunk + 1 if n == last // chunk else len(data)
        yield data[start:end]


async def _get(request: Request, db: LocalDb, docid: str, name: str) -> Reply:
    rev = parse_rev(request.query["rev"]) if "rev" in request.query else None
    info, num = await db.point_read(request.runtime, _find, docid, rev, name)
    length = info["length"]
    headers = {
        "Content-Type": info.get("content_type") or "application/octet-stream",
        "Accept-Ranges": "bytes",
        "ETag": '"' + info["digest"].partition("-")[2] + '"',
    }
    byte_range = _byte_range(request.header("range"), length)
    status = 200
    first, last = 0, length - 1
    if byte_range is not None:
        status = 206
        first, last = byte_range
        headers["Content-Range"] = f"bytes {first}-{last}/{length}"
    headers["Content-Length"] = str(last - first + 1 if length else 0)
    if request.method == "HEAD" or length == 0:
        return Reply(status, headers, b"")
    if last < blobs.CHUNK:
        data = await db.point_read(request.runtime, blobs.chunk_at, num, 0)
        return Reply(status, headers, data[first : last + 1])
    return Reply(status, headers, _chunks(request, db, num, first, last))


# --- writing -------------------------------------------------------------------------------


def _parent_doc(txn: Txn, docid: str, rev: Rev | None) -> tuple[Incoming, dict[str, Any]]:
    """A new revision of ``docid`` on ``rev`` with the parent's members and attachments as stubs."""
    doc = Incoming()
    doc.id = docid
    doc.rev = rev
    row = read_row(txn.conn, docid)
    if row is None or (rev is None and row.deleted):
        if rev is not None:
            raise Conflict()
        return doc, {}
    if rev is None:
        raise Conflict()
    stored = read_revision(txn.conn, row, rev) if row.tree.is_leaf(rev) else None
    if stored is None:
        raise Conflict()
    _, atts, body = stored
    doc.body = orjson.loads(body)
    existing: dict[str, Any] = orjson.loads(atts) if atts else {}
    doc.attachments = {att: {"stub": True} for att in existing}
    return doc, existing


def _put_write(txn: Txn, docid: str, rev: Rev | None, name: str, upload: writes.Upload) -> dict[str, Any]:
    doc, _ = _parent_doc(txn, docid, rev)
    attachments = doc.attachments or {}
    attachments[name] = {"follows": True, "content_type": upload.content_type}
    doc.attachments = attachments
    return writes.write_one(txn, doc, True, {name: upload})


def _delete_write(txn: Txn, docid: str, rev: Rev | None, name: str) -> dict[str, Any]:
    if read_row(txn.conn, docid) is None:
        raise NotFound("missing")
    doc, existing = _parent_doc(txn, docid, rev)
    if name not in existing:
        raise NotFound("Document is missing attachment")
    assert doc.attachments is not None
    del doc.attachments[name]
    return writes.write_one(txn, doc, True)


async def _put(request: Request, db: LocalDb, docid: str, name: str) -> Reply:
    validate_docid(docid)
    check_partition(db, docid)
    if name.startswith("_"):
        raise BadRequest("Attachment name can't start with '_'")
    rev = requested_rev(request)
    content_type = request.header("content-type") or "application/octet-stream"
    receiver = Receiver(db, request.runtime, content_type)
    try:
        body = request.body
        if body is None or isinstance(body, bytes):
            await receiver.feed(body or b"")
        else:
            async for data in body:
                await receiver.feed(data)
        upload = await receiver.finish()
        result = await db.write(request.runtime, _put_write, docid, rev, name, upload)
    except BaseException:
        await discard([receiver])
        raise
    return json_reply(201, result, {"ETag": f'"{result["rev"]}"', "Location": request.url.split("?")[0]})


async def _delete(request: Request, db: LocalDb, docid: str, name: str) -> Reply:
    rev = requested_rev(request)
    if rev is None:
        raise Conflict()
    result = await db.write(request.runtime, _delete_write, docid, rev, name)
    return json_reply(200, result, {"ETag": f'"{result["rev"]}"'})
