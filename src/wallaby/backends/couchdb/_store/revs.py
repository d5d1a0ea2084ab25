"""Revisions as CouchDB spells and orders them: ``{pos}-{id}``.

Rules kept here (couch_doc.erl ``parse_rev``/``parse_revid``, checked against CouchDB 3.5):

- ``pos`` is the digits before the first ``-`` (an optional ``+``, leading
  zeros allowed: ``01-x`` is ``1-x``); anything else is ``Invalid rev format``.
- The id is everything after that ``-``, dashes and all, possibly empty.
- An id of 32 bytes must be hexadecimal (either case); CouchDB keeps it as 16
  raw bytes and writes it back in lowercase. Any other 32-byte id is refused
  (``+`` or ``-`` followed by 31 hex digits excepted: CouchDB 3.5 keeps those
  as they are).
- Any other id is kept as its UTF-8 bytes, so an id of exactly 16 bytes
  (``1-abcdefghijklmnop``) reads back as the hex of those bytes, as from CouchDB.
- Ids are ordered as CouchDB's Erlang binaries are: byte by byte, then by
  length. ``id_bytes`` is that order's key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from .errors import BadRequest, DocValidation

__all__ = ["Rev", "canonical_id", "format_rev", "id_bytes", "new_rev_id", "parse_rev", "parse_revision_ids"]

Rev = tuple[int, str]
"""A revision: (pos, canonical id)."""


def _md5_maker() -> Callable[[bytes], Any]:
    """The standard library's own md5, without OpenSSL's setup of each hash: twice as fast on a
    small body, and every new revision's id is one (hashlib's, where the interpreter lacks it)."""
    try:
        import _md5  # type: ignore[import-not-found]
    except ImportError:
        return hashlib.md5
    return _md5.md5  # type: ignore[no-any-return]


_md5 = _md5_maker()
_POS = re.compile(r"\+?[0-9]+")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_SIGNED_HEX = re.compile(r"[+-][0-9a-fA-F]{31}")


def _canonical(rid: str) -> str | None:
    """The id as CouchDB stores it, or None when CouchDB refuses it."""
    size = len(rid.encode("utf-8", "surrogatepass"))
    if size == 32:
        if _HEX32.fullmatch(rid):
            return rid.lower()
        return rid if _SIGNED_HEX.fullmatch(rid) else None
    if size == 16:
        return rid.encode("utf-8", "surrogatepass").hex()
    return rid


def canonical_id(rid: str) -> str:
    """A rev id (the part after ``pos-``) as stored and shown; a bad one is a 400."""
    found = _canonical(rid)
    if found is None:
        raise BadRequest("Invalid rev format")
    return found


def parse_rev(text: object) -> Rev:
    """``"3-abc"`` -> ``(3, "abc")``; anything CouchDB refuses is ``400 bad_request Invalid rev format``."""
    if not isinstance(text, str):
        raise BadRequest("Invalid rev format")
    pos, dash, rid = text.partition("-")
    if not dash or not _POS.fullmatch(pos):
        raise BadRequest("Invalid rev format")
    return int(pos), canonical_id(rid)


def parse_revision_ids(ids: object) -> list[str]:
    """The ``ids`` of a ``_revisions`` member; a bad one is ``400 doc_validation``."""
    if not isinstance(ids, list):
        raise DocValidation("_revisions.ids isn't a array.")
    parsed = []
    for rid in ids:
        if not isinstance(rid, str):
            raise DocValidation("RevId isn't a string")
        found = _canonical(rid)
        if found is None:
            raise DocValidation("RevId isn't a valid hexadecimal")
        parsed.append(found)
    return parsed


def format_rev(rev: Rev) -> str:
    return f"{rev[0]}-{rev[1]}"


def id_bytes(rid: str) -> bytes:
    """The key CouchDB orders rev ids by: the 16 raw bytes of a hex id, else the UTF-8 bytes."""
    if len(rid) == 32:
        try:
            return bytes.fromhex(rid)
        except ValueError:
            pass
    return rid.encode("utf-8", "surrogatepass")


def new_rev_id(deleted: bool, parent: Rev | None, body: bytes | bytearray, attachments: bytes = b"") -> str:
    """The id of a new revision: an md5 of what it is, so the same edit made twice gets the same rev.

    CouchDB hashes the Erlang terms of the same parts; the ids differ from
    CouchDB's, which the protocol does not need.
    """
    head = b"1" if deleted else b"0"
    if parent is not None:
        head += f"{parent[0]}-{parent[1]}".encode("utf-8", "surrogatepass")
    digest = _md5(head + b"\0")
    digest.update(body)
    if attachments:
        digest.update(attachments)
    rid: str = digest.hexdigest()
    return rid
