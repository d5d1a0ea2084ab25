"""Which handler answers a request: CouchDB's URL layout, read segment by segment.

::

    /                              server.welcome
    /_x/...                        SERVER_ENDPOINTS["_x"]
    /{db}                          server.database (GET, HEAD, PUT, DELETE, POST a document)
    /{db}/_design/{name}           documents (the design document)
    /{db}/_design/{name}/_x/...    DESIGN_ENDPOINTS["_x"] (views, shows, lists, updates: the query side)
    /{db}/_design/{name}/{att}     attachments
    /{db}/_local/{name}            local documents
    /{db}/_x/...                   DB_ENDPOINTS["_x"]
    /{db}/{docid}                  documents
    /{db}/{docid}/{att...}         attachments (the name may hold ``/``)

An endpoint no module registered is ``404 not_found`` (``400`` for a path
CouchDB would refuse), as from a server without that feature.
"""

from __future__ import annotations

from . import (  # noqa: F401 (they register their endpoints)
    alldocs,
    attachments,
    bulk,
    changes,
    documents,
    filters,
    local,
    maintenance,
    mango,
    partitions,
    render,
    revisions,
    server,
    view_endpoints,
)
from .errors import BadRequest, IllegalDocid, NotFound
from .extensions import DB_ENDPOINTS, DESIGN_ENDPOINTS, SERVER_ENDPOINTS
from .requests import Reply, Request
from .store import Store, check_db_name

__all__ = ["dispatch"]

_SYSTEM_DBS = ("_users", "_replicator", "_global_changes")


async def dispatch(store: Store, request: Request) -> Reply:
    parts = request.parts
    if not parts:
        return await server.welcome(store, request)
    head = parts[0]
    if head.startswith("_") and head not in _SYSTEM_DBS:
        handler = SERVER_ENDPOINTS.get(head)
        if handler is None:
            if request.method in ("PUT", "DELETE") and len(parts) == 1:
                check_db_name(head)
            raise NotFound("Database does not exist.")
        return await handler(store, request)
    if len(parts) == 1:
        return await server.database(store, request, head)
    db = store.get(head)
    second = parts[1]
    if second == "_design":
        if len(parts) < 3 or not parts[2]:
            raise NotFound("missing")
        docid = "_design/" + parts[2]
        if len(parts) == 3:
            return await documents.document(request, db, docid)
        third = parts[3]
        if third.startswith("_"):
            design = DESIGN_ENDPOINTS.get(third)
            if design is None:
                raise NotFound("missing")
            return await design(request, db, docid, parts[4:])
        return await attachments.attachment(request, db, docid, "/".join(parts[3:]))
    if second == "_local":
        if len(parts) != 3 or not parts[2]:
            raise BadRequest("Invalid _local document id.")
        return await local.local_document(request, db, "_local/" + parts[2])
    if second.startswith("_"):
        endpoint = DB_ENDPOINTS.get(second)
        if endpoint is None:
            if request.method in ("PUT", "COPY"):
                raise IllegalDocid("Only reserved document ids may start with underscore.")
            raise NotFound("missing")
        return await endpoint(request, db, parts[2:])
    if len(parts) == 2:
        return await documents.document(request, db, second)
    return await attachments.attachment(request, db, second, "/".join(parts[2:]))
