"""The replication id: the name of a replication's checkpoint documents.

Rules kept here:

- Stable for the same source, target and choice of documents: the md5 (hex)
  of a JSON list of a version tag, the two databases (server URL without
  credentials, and database name), what picks the documents (``doc_ids``
  sorted, the ``selector`` with sorted keys, or the filter's name, its
  JavaScript source and its ``query_params``), ``winning_revs_only`` and
  ``since_seq``. Continuous or not, and ``create_target``, do not change it:
  a continuous replication resumes where a one-shot one stopped.
- Changing a filter function changes the id, as in CouchDB: the replicator
  reads it from the source's design document once, at the start.
- It is not CouchDB's id. CouchDB's (``couch_replicator_ids`` v4) hashes the
  Erlang term of the UUID of the node that runs the job with both endpoints
  as it sees them; a client has no such node. The two never share a
  checkpoint: a replication started here does not resume CouchDB's, and the
  other way round; each keeps its own checkpoints in the same format.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .._core.errors import InvalidArgument, NotFound
from .._core.json import canonical

__all__ = ["database_identity", "filter_code", "replication_id"]

VERSION = "wallaby-replication-1"


def database_identity(db: Any) -> str:
    """``{server URL}/{database name}``: credentials are never part of it."""
    return f"{db.server.url.rstrip('/')}/{db.name}"


async def filter_code(source: Any, filter: str) -> str:
    """The JavaScript source of ``ddoc/name``, read from the source's ``_design/ddoc``."""
    ddoc, _, name = filter.partition("/")
    try:
        design = await source.get("_design/" + ddoc)
    except NotFound:
        raise InvalidArgument(f"filter {filter!r}: the source has no design document _design/{ddoc}") from None
    filters = design.get("filters") if isinstance(design, dict) else None
    code = filters.get(name) if isinstance(filters, dict) else None
    if not isinstance(code, str):
        raise InvalidArgument(f"filter {filter!r}: _design/{ddoc} has no filter named {name!r}")
    return code


def replication_id(source: Any, target: Any, picker: Any, winning_revs_only: bool, since_seq: Any) -> str:
    """The md5 hex of what identifies a replication (see the module's rules)."""
    parts = [VERSION, database_identity(source), database_identity(target), picker, winning_revs_only, since_seq]
    return hashlib.md5(canonical(parts)).hexdigest()
