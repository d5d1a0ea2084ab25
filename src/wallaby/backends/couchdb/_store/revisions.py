"""A database's revision trees: ``_revs_diff``, ``_missing_revs``, ``_purge``, ``_revs_limit``.

Rules kept here (couch_db.erl ``get_missing_revs``, checked against CouchDB 3.5):

- ``_revs_diff`` answers, for each document with revisions the tree lacks,
  ``{"missing": [...]}`` and, when there are some, ``"possible_ancestors"``:
  the leaves at a lower pos than one of the missing revisions.
- ``_missing_revs`` answers ``{"missing_revs": {docid: [missing]}}``.
- ``_purge`` removes leaves for good (``revtree.remove_leaves``), answers
  201 ``{"purge_seq": null, "purged": {docid: [revs purged]}}``.
- ``_revs_limit`` is a bare JSON number; setting it takes a positive whole
  number (CouchDB answers others with a 500; we answer 400).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from . import writes
from .database import LocalDb, Txn
from .errors import BadRequest, method_not_allowed
from .extensions import db_endpoint
from .reads import parse_revs
from .requests import Reply, Request, json_reply
from .revs import Rev, format_rev

__all__ = ["missing_revs", "purge", "revs_diff", "revs_limit"]


async def _revs_body(request: Request) -> dict[str, list[Rev]]:
    if request.method != "POST":
        raise method_not_allowed("POST")
    body = await request.json_object()
    return {docid: parse_revs(revs) for docid, revs in body.items()}


def _missing(conn: sqlite3.Connection, asked: dict[str, list[Rev]]) -> list[tuple[str, list[Rev], list[Rev]]]:
    states = writes.load_states(conn, asked)
    found: list[tuple[str, list[Rev], list[Rev]]] = []
    for docid, revs in asked.items():
        state = states.get(docid)
        if state is None:
            if revs:
                found.append((docid, list(dict.fromkeys(revs)), []))
            continue
        tree = state.tree
        missing = [rev for rev in dict.fromkeys(revs) if rev not in tree]
        if not missing:
            continue
        top = max(rev[0] for rev in missing)
        ancestors = [leaf for leaf in tree.sorted_leaves() if leaf[0] < top]
        found.append((docid, missing, ancestors))
    return found


@db_endpoint("_revs_diff")
async def revs_diff(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_revs_diff``."""
    asked = await _revs_body(request)
    answer: dict[str, Any] = {}
    for docid, missing, ancestors in await db.read(request.runtime, _missing, asked):
        entry: dict[str, Any] = {"missing": [format_rev(rev) for rev in missing]}
        if ancestors:
            entry["possible_ancestors"] = [format_rev(rev) for rev in ancestors]
        answer[docid] = entry
    return json_reply(200, answer)


@db_endpoint("_missing_revs")
async def missing_revs(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_missing_revs``."""
    asked = await _revs_body(request)
    found = await db.read(request.runtime, _missing, asked)
    return json_reply(200, {"missing_revs": {docid: [format_rev(r) for r in missing] for docid, missing, _ in found}})


@db_endpoint("_purge")
async def purge(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``POST /{db}/_purge``."""
    asked = await _revs_body(request)
    purged = await db.write(request.runtime, writes.purge, asked)
    return json_reply(201, {"purge_seq": None, "purged": purged})


def _set_limit(txn: Txn, limit: int) -> None:
    txn.set("revs_limit", limit)


@db_endpoint("_revs_limit")
async def revs_limit(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    """``GET|PUT /{db}/_revs_limit``."""
    if request.method == "GET":
        return json_reply(200, db.revs_limit)
    if request.method != "PUT":
        raise method_not_allowed("GET,PUT")
    limit = await request.json()
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise BadRequest("Rev limit has to be an integer greater than 0")
    await db.write(request.runtime, _set_limit, limit)
    return json_reply(200, {"ok": True})
