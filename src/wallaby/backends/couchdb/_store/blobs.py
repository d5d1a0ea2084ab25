"""Attachment data: stored once per ``md5-`` digest, in fixed-size chunks, counted by the revisions using it.

Rules kept here:

- A digest is ``md5-`` and the base64 of the MD5 of the bytes, as CouchDB
  reports it for an attachment stored as sent.
- Every chunk but the last holds exactly ``CHUNK`` bytes, so a byte range
  maps to chunks by arithmetic; chunk ``n`` of blob ``num`` is row
  ``num * 2**24 + n``.
- ``refs`` counts the stored revision bodies that name the digest (once per
  attachment). A body removed (stemmed, purged, compacted away) lowers it;
  at zero the data is deleted in the same transaction.
- A streamed upload writes its chunks in transactions of their own, as a
  blob with no digest and no references; the transaction that writes the
  document adopts it (or, when the same data is already stored, drops it and
  counts the stored one). A blob never adopted is deleted when the upload
  fails, or when the database is next opened after a crash.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import orjson

from .sqlite import CHUNK_SHIFT

__all__ = [
    "CHUNK",
    "BlobUpload",
    "add_refs",
    "adopt",
    "chunk_at",
    "digest_of",
    "drop_refs",
    "find",
    "store_bytes",
]

CHUNK = 256 * 1024


def digest_of(md5: Any) -> str:
    return "md5-" + base64.b64encode(md5.digest()).decode("ascii")


def _key(num: int, n: int) -> int:
    return (num << CHUNK_SHIFT) + n


def find(conn: sqlite3.Connection, digest: str) -> tuple[int, int] | None:
    """(num, length) of the stored data with ``digest``."""
    row = conn.execute("SELECT num, length FROM blobs WHERE digest = ?", (digest,)).fetchone()
    return None if row is None else (row[0], row[1])


def store_bytes(conn: sqlite3.Connection, data: bytes) -> tuple[str, int]:
    """Store ``data`` (inside a write transaction) with one reference; (digest, length)."""
    digest = digest_of(hashlib.md5(data))
    if conn.execute("UPDATE blobs SET refs = refs + 1 WHERE digest = ?", (digest,)).rowcount:
        return digest, len(data)
    num = conn.execute("INSERT INTO blobs(digest, length, refs) VALUES (?, ?, 1)", (digest, len(data))).lastrowid
    assert num is not None
    conn.executemany(
        "INSERT INTO chunks(key, data) VALUES (?, ?)",
        ((_key(num, n), data[start : start + CHUNK]) for n, start in enumerate(range(0, len(data), CHUNK))),
    )
    return digest, len(data)


def adopt(conn: sqlite3.Connection, num: int, digest: str, length: int) -> None:
    """Give an uploaded blob its digest and one reference, or count the same data already stored."""
    if conn.execute("UPDATE blobs SET refs = refs + 1 WHERE digest = ?", (digest,)).rowcount:
        delete(conn, num)
        return
    conn.execute("UPDATE blobs SET digest = ?, length = ?, refs = 1 WHERE num = ?", (digest, length, num))


def add_refs(conn: sqlite3.Connection, digests: Iterator[str] | list[str]) -> bool:
    """One more reference to each digest; False when one of them is not stored."""
    ok = True
    for digest in digests:
        if not conn.execute("UPDATE blobs SET refs = refs + 1 WHERE digest = ?", (digest,)).rowcount:
            ok = False
    return ok


def drop_refs(conn: sqlite3.Connection, atts: bytes | None) -> None:
    """One reference less to each attachment of a removed revision body (``atts`` as stored)."""
    if not atts:
        return
    for info in orjson.loads(atts).values():
        digest = info.get("digest")
        row = conn.execute("SELECT num, refs FROM blobs WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            continue
        if row[1] <= 1:
            delete(conn, row[0])
        else:
            conn.execute("UPDATE blobs SET refs = refs - 1 WHERE num = ?", (row[0],))


def delete(conn: sqlite3.Connection, num: int) -> None:
    conn.execute("DELETE FROM chunks WHERE key >= ? AND key < ?", (_key(num, 0), _key(num + 1, 0)))
    conn.execute("DELETE FROM blobs WHERE num = ?", (num,))


def chunk_at(conn: sqlite3.Connection, num: int, n: int) -> bytes:
    row = conn.execute("SELECT data FROM chunks WHERE key = ?", (_key(num, n),)).fetchone()
    return b"" if row is None else bytes(row[0])


class BlobUpload:
    """Data arriving in pieces, written a chunk at a time; ``finish()`` gives (num, digest, length)."""

    __slots__ = ("num", "length", "md5", "_buffer", "_next")

    def __init__(self) -> None:
        self.num: int | None = None
        self.length = 0
        self.md5 = hashlib.md5()
        self._buffer = bytearray()
        self._next = 0

    def take(self, data: bytes) -> list[tuple[int, bytes]]:
        """Buffer ``data``; the whole chunks now ready, as (n, bytes)."""
        self.md5.update(data)
        self.length += len(data)
        self._buffer += data
        ready = []
        while len(self._buffer) >= CHUNK:
            ready.append((self._next, bytes(self._buffer[:CHUNK])))
            del self._buffer[:CHUNK]
            self._next += 1
        return ready

    def rest(self) -> list[tuple[int, bytes]]:
        """The last, partial chunk."""
        if not self._buffer:
            return []
        last = [(self._next, bytes(self._buffer))]
        self._buffer.clear()
        self._next += 1
        return last

    def write(self, conn: sqlite3.Connection, chunks: list[tuple[int, bytes]]) -> None:
        """Write ``chunks`` (inside a write transaction), making the blob row first."""
        if self.num is None:
            self.num = conn.execute("INSERT INTO blobs(digest, length, refs) VALUES (NULL, 0, 0)").lastrowid
        assert self.num is not None
        conn.executemany("INSERT INTO chunks(key, data) VALUES (?, ?)", [(_key(self.num, n), d) for n, d in chunks])

    def digest(self) -> str:
        return digest_of(self.md5)
