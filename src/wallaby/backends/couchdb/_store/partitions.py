"""``/{db}/_partition/{partition}/...``: one partition of a partitioned database.

Rules kept here (checked against CouchDB 3.5):

- Only a partitioned database has partitions (``400 database is not
  partitioned``); a partition name is non-empty and does not start with
  ``_`` (``400 illegal_partition``).
- ``GET .../_partition/{p}`` counts the partition's documents; ``_all_docs``
  covers the ids ``{p}:...``; ``_design/{ddoc}/_view/...``, ``_find`` and
  ``_explain`` are the query side's endpoints, called with
  ``request.partition`` set when they say they honour it
  (``extensions.PARTITIONED``), else refused with a ``400``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .database import LocalDb
from .errors import BadRequest, HttpError, NotFound
from .extensions import DB_ENDPOINTS, DESIGN_ENDPOINTS, PARTITIONED, db_endpoint
from .requests import Reply, Request, json_reply

__all__ = ["partition"]


def check_partition_name(name: str) -> None:
    if not name:
        raise HttpError("Partition must not be empty", status=400, error="illegal_partition")
    if name.startswith("_"):
        raise HttpError("Partition must not start with an underscore", status=400, error="illegal_partition")


def _info(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    low, high = name + ":", name + ";"
    live, dead, size = conn.execute(
        "SELECT count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted), "
        "coalesce(sum(length(body)) FILTER (WHERE NOT deleted), 0) FROM docs WHERE id >= ? AND id < ?",
        (low, high),
    ).fetchone()
    return {"doc_count": live, "doc_del_count": dead, "sizes": {"active": size, "external": size}}


@db_endpoint("_partition")
async def partition(request: Request, db: LocalDb, rest: list[str]) -> Reply:
    if not db.partitioned:
        raise BadRequest("database is not partitioned")
    if not rest:
        raise NotFound("missing")
    name = rest[0]
    check_partition_name(name)
    request.partition = name
    if len(rest) == 1:
        info = await db.point_read(request.runtime, _info, name)
        return json_reply(200, {"db_name": db.name, "partition": name, **info})
    endpoint = rest[1]
    if endpoint == "_design" and len(rest) >= 4 and rest[3].startswith("_"):
        design = DESIGN_ENDPOINTS.get(rest[3])
        if design is not None:
            _partition_aware(rest[3])
            return await design(request, db, "_design/" + rest[2], rest[4:])
    elif endpoint in ("_all_docs", "_find", "_explain"):
        handler = DB_ENDPOINTS.get(endpoint)
        if handler is not None:
            _partition_aware(endpoint)
            return await handler(request, db, rest[2:])
    raise NotFound("missing")


def _partition_aware(endpoint: str) -> None:
    if endpoint not in PARTITIONED:
        raise BadRequest(f"the embedded store does not answer {endpoint} in one partition")
