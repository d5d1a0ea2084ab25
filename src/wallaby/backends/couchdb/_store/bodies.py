"""A document in and out: CouchDB's special members parsed from JSON, and put back around a stored body.

Rules kept here (couch_doc.erl ``transfer_fields``/``validate_docid``, checked against CouchDB 3.5):

- An id is a non-empty string; one starting with ``_`` must be ``_design/...``
  or ``_local/...`` (a bare prefix is refused): ``400 illegal_docid``.
- ``_rev`` is parsed (``revs.parse_rev``), ``_revisions`` is
  ``{"start": int, "ids": [...]}``, ``_deleted`` a boolean, ``_attachments``
  an object. ``_revs_info``, ``_local_seq``, ``_conflicts`` and
  ``_deleted_conflicts`` are dropped; the replicator's ``_replication_*``
  members and ``_access`` are kept as members. Any other ``_`` member is
  ``400 doc_validation Bad special document member``.
- A stored body is the JSON object of the other members, in the order given;
  a document goes out as ``_id``, ``_rev``, the body, ``_deleted``, then
  ``_revisions``, ``_revs_info``, ``_local_seq``, ``_conflicts``,
  ``_deleted_conflicts`` and ``_attachments``, as CouchDB orders them.
- A body over 8,000,000 bytes (CouchDB's ``max_document_size``) is
  ``413 document_too_large``.
"""

from __future__ import annotations

from typing import Any

import orjson

from .._core.json import dumps
from .errors import BadRequest, DocValidation, HttpError, IllegalDocid
from .revs import Rev, parse_rev, parse_revision_ids

__all__ = ["Incoming", "MAX_DOCUMENT_SIZE", "parse_doc", "render", "validate_docid"]

MAX_DOCUMENT_SIZE = 8_000_000

_KEPT = frozenset(
    {
        "_access",
        "_replication_state",
        "_replication_state_time",
        "_replication_state_reason",
        "_replication_id",
        "_replication_stats",
    }
)
_DROPPED = frozenset({"_revs_info", "_local_seq", "_conflicts", "_deleted_conflicts"})
_PLAIN: dict[str, type] = {"_id": str, "_rev": str, "_deleted": bool}


def validate_docid(docid: object) -> str:
    if not isinstance(docid, str):
        raise IllegalDocid("Document id must be a string")
    if not docid:
        raise IllegalDocid("Document id must not be empty")
    if docid[0] == "_":
        if docid == "_design/" or docid == "_local/":
            raise IllegalDocid(f"Illegal document id `{docid}`")
        if not docid.startswith(("_design/", "_local/")):
            raise IllegalDocid("Only reserved document ids may start with underscore.")
    return docid


class Incoming:
    """A document as sent: its id, the rev it names, its history, its flags, its members."""

    __slots__ = ("id", "rev", "revisions", "deleted", "body", "attachments", "data")

    def __init__(self) -> None:
        self.id: str | None = None
        self.rev: Rev | None = None
        self.revisions: tuple[int, list[str]] | None = None
        self.deleted = False
        self.body: dict[str, Any] = {}
        self.attachments: dict[str, Any] | None = None
        self.data = bytearray()

    def encode(self) -> bytearray:
        """The body as stored.

        A copy of orjson's bytes: a thousand of those kept alive at once (a
        bulk request's) cost ten times their encoding in the allocator (each is
        cut down from a larger buffer, leaving the heap in pieces); the copy is
        made to measure. A bytearray, as SQLite takes it (``writes._Writer._queue``).
        """
        data = self.data = bytearray(orjson.dumps(self.body))
        if len(data) > MAX_DOCUMENT_SIZE:
            raise HttpError("Document exceeds the maximum document size", status=413, error="document_too_large")
        return data


def parse_doc(obj: object, *, borrowed: bool = False) -> Incoming:
    """A document from its JSON object, special members checked.

    The object is taken over (its special members are deleted from it), unless
    ``borrowed``: the caller's own document, handed over in this process
    (``JsonBody``), which is never changed: it is copied before its special
    members are taken out. One that is not a plain dict, or has special
    members other than a ``str`` ``_id`` and ``_rev``, a ``bool``
    ``_deleted`` and ``_revisions`` whose ``ids`` are a list of ``str``, or is
    a design document, is read as JSON carries it (encoded and decoded), so
    that the rules see what a server would be sent.
    """
    if type(obj) is not dict:
        if borrowed:
            return parse_doc(_carried(obj))
        raise BadRequest("Document must be a JSON object")
    specials = [key for key in obj if "_" <= key < "`"]  # starts with "_" ("`" follows it), no slice made
    if borrowed and specials:
        if not _plain(obj, specials):
            return parse_doc(_carried(obj))
        obj = dict(obj)
    doc = Incoming()
    doc.body = obj
    if not specials:
        return doc
    revisions = None
    for key in specials:
        value = obj[key]
        if key in _KEPT:
            continue
        del obj[key]
        if key == "_id":
            doc.id = validate_docid(value)
        elif key == "_rev":
            doc.rev = parse_rev(value)
        elif key == "_deleted" and (value is True or value is False):
            doc.deleted = value
        elif key == "_attachments" and isinstance(value, dict):
            doc.attachments = value
        elif key == "_revisions" and isinstance(value, dict):
            revisions = value
        elif key not in _DROPPED:
            raise DocValidation(f"Bad special document member: {key}")
    if revisions is not None:
        start = revisions.get("start")
        if not isinstance(start, int) or isinstance(start, bool):
            raise DocValidation("_revisions.start isn't an integer.")
        ids = parse_revision_ids(revisions.get("ids"))
        if ids:
            doc.revisions = (start, ids)
            doc.rev = (start, ids[0])
    return doc


def _carried(obj: object) -> Any:
    """``obj`` as JSON carries it: encoded and decoded again."""
    return orjson.loads(dumps(obj))


def _plain(obj: dict[str, Any], specials: list[str]) -> bool:
    """Are these special members of a caller's document plain ones, and it no design document."""
    for key in specials:
        value = obj[key]
        if key == "_revisions":  # as a replicator sends it
            ids = value.get("ids") if type(value) is dict else None
            if type(ids) is not list or any(type(rid) is not str for rid in ids):
                return False
        elif type(value) is not _PLAIN.get(key):
            return False
    docid = obj.get("_id")
    return not (docid and docid.startswith("_design/"))


def render(
    docid: str,
    rev: str,
    body: bytes,
    *,
    deleted: bool = False,
    extra: list[tuple[str, Any]] | None = None,
    attachments: dict[str, Any] | None = None,
) -> bytes:
    """The JSON of a stored revision: ``_id``, ``_rev``, its members, then CouchDB's extra members."""
    if not deleted and not extra and not attachments:
        if len(body) > 2:
            return b'{"_id":%s,"_rev":%s,%s' % (orjson.dumps(docid), orjson.dumps(rev), body[1:])
        return b'{"_id":%s,"_rev":%s}' % (orjson.dumps(docid), orjson.dumps(rev))
    parts = [b'{"_id":', orjson.dumps(docid), b',"_rev":', orjson.dumps(rev)]
    if len(body) > 2:
        parts.append(b",")
        parts.append(body[1:-1])
    if deleted:
        parts.append(b',"_deleted":true')
    if extra:
        for name, value in extra:
            parts.append(b',"' + name.encode() + b'":')
            parts.append(orjson.dumps(value))
    if attachments:
        parts.append(b',"_attachments":')
        parts.append(orjson.dumps(attachments))
    parts.append(b"}")
    return b"".join(parts)
