"""The winning revisions of a database in seq order: what an index (a view, a Mango index) is built from.

``winners_since(conn, since, limit)`` reads on the caller's (worker) thread;
each ``Winner`` carries the stored body, and ``doc()`` the document as a map
function sees it: ``_id``, ``_rev``, the members, ``_deleted`` for a
deletion, ``_attachments`` stubs.
"""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

import orjson

__all__ = ["Winner", "winners_since"]


class Winner(NamedTuple):
    seq: int
    id: str
    rev: str
    deleted: bool
    body: bytes
    atts: bytes | None

    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"_id": self.id, "_rev": self.rev, **orjson.loads(self.body)}
        if self.deleted:
            doc["_deleted"] = True
        if self.atts:
            doc["_attachments"] = {name: {**info, "stub": True} for name, info in orjson.loads(self.atts).items()}
        return doc


def winners_since(conn: sqlite3.Connection, since: int, limit: int = 1000) -> list[Winner]:
    """The documents changed after ``since``, in seq order, at most ``limit`` of them."""
    return [
        Winner(seq, docid, rev, bool(deleted), body, atts)
        for seq, docid, rev, deleted, body, atts in conn.execute(
            "SELECT seq, id, rev, deleted, body, atts FROM docs WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)
        )
    ]
