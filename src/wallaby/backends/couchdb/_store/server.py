"""The store's server: its welcome, its databases (list, create, delete, info), uuids, sessions.

Rules kept here:

- The store is in admin party: every request acts as ``_admin``; credentials
  given to the Server are accepted and not checked (``_session`` answers
  with the user named, and the ``_admin`` role).
- ``GET /{db}`` answers CouchDB's info: counts, ``update_seq`` and
  ``purge_seq`` (integers), ``sizes`` (``file``: bytes on disk with the WAL,
  ``active``: pages in use, ``external``: the JSON of the current revisions),
  ``props`` (``{"partitioned": true}`` when it is), a one-shard ``cluster``.
- A partitioned database (``PUT /{db}?partitioned=true``) wants ids
  ``{partition}:{id}`` (design and local documents excepted), as CouchDB does.
- What only a server has (replication, ``_db_updates``, nodes and
  configuration, a cluster) is ``404`` with a reason saying so.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from .database import LocalDb
from .errors import BadRequest, NotFound, method_not_allowed
from .extensions import HOOKS, ServerHandler, server_endpoint
from .requests import Reply, Request, json_reply
from .store import Store

__all__ = ["database", "db_info", "welcome"]

try:
    from importlib.metadata import version as _version

    VERSION = _version("wallaby-backend-couchdb")
except Exception:  # pragma: no cover - not installed
    VERSION = "0"

_ADMIN_CTX: dict[str, Any] = {"name": None, "roles": ["_admin"]}


async def welcome(store: Store, request: Request) -> Reply:
    """``GET /``."""
    return json_reply(
        200,
        {
            "couchdb": "Welcome",
            "version": VERSION,
            "uuid": store.uuid,
            "features": ["embedded", "partitioned"],
            "vendor": {"name": "wallaby embedded store", "version": VERSION},
        },
    )


def _page(names: list[str], request: Request) -> list[str]:
    start = request.json_option("startkey", request.json_option("start_key"))
    end = request.json_option("endkey", request.json_option("end_key"))
    descending = request.flag("descending")
    if descending:
        names = names[::-1]
    if start is not None:
        names = [n for n in names if (n <= start if descending else n >= start)]
    if end is not None:
        names = [n for n in names if (n >= end if descending else n <= end)]
    skip = request.number("skip", 0) or 0
    limit = request.number("limit")
    names = names[skip:]
    return names if limit is None else names[:limit]


@server_endpoint("_all_dbs")
async def all_dbs(store: Store, request: Request) -> Reply:
    """``GET /_all_dbs``."""
    names = await request.runtime.to_thread(store.names)
    return json_reply(200, _page(names, request))


@server_endpoint("_dbs_info")
async def dbs_info(store: Store, request: Request) -> Reply:
    """``GET /_dbs_info`` (paged like ``_all_dbs``) or ``POST`` with ``{"keys": [...]}``."""
    if request.method == "POST":
        keys = (await request.json_object()).get("keys")
        if not isinstance(keys, list):
            raise BadRequest("`keys` member must exist.")
    else:
        keys = _page(await request.runtime.to_thread(store.names), request)
    rows = []
    for name in keys:
        try:
            db = await request.runtime.to_thread(store.get, name)
        except NotFound:
            rows.append({"key": name, "error": "not_found"})
            continue
        rows.append({"key": name, "info": await db_info(db, request)})
    return json_reply(200, rows)


@server_endpoint("_uuids")
async def uuids(store: Store, request: Request) -> Reply:
    """``GET /_uuids?count=N``."""
    count = request.number("count", 1, least=0) or 0
    if count > 1000:
        raise BadRequest("count parameter too large", error="bad_request")
    return json_reply(200, {"uuids": [uuid.uuid4().hex for _ in range(count)]})


@server_endpoint("_up")
async def up(store: Store, request: Request) -> Reply:
    return json_reply(200, {"status": "ok"})


@server_endpoint("_active_tasks")
async def active_tasks(store: Store, request: Request) -> Reply:
    return json_reply(200, [])


@server_endpoint("_session")
async def session(store: Store, request: Request) -> Reply:
    """``/_session``: every session is an admin one (the store does not check credentials)."""
    if request.method == "DELETE":
        return json_reply(200, {"ok": True})
    if request.method == "POST":
        body = await request.read_body()
        name: str | None = None
        if body:
            try:
                form = orjson.loads(body)
                name = form.get("name") if isinstance(form, dict) else None
            except orjson.JSONDecodeError:
                from urllib.parse import parse_qs

                names = parse_qs(body.decode("utf-8", "replace")).get("name")
                name = names[0] if names else None
        return json_reply(
            200,
            {"ok": True, "name": name, "roles": ["_admin"]},
            {"Set-Cookie": "AuthSession=embedded; Version=1; Path=/; HttpOnly"},
        )
    return json_reply(
        200,
        {
            "ok": True,
            "userCtx": _ADMIN_CTX,
            "info": {"authentication_handlers": ["default"], "authenticated": "default"},
        },
    )


async def db_info(db: LocalDb, request: Request) -> dict[str, Any]:
    counters = db.counters
    active = await db.point_read(request.runtime, _active_size)
    return {
        "instance_start_time": db.instance_start_time,
        "db_name": db.name,
        "purge_seq": counters["purge_seq"],
        "update_seq": counters["update_seq"],
        "sizes": {"file": db.file_size() or active, "external": counters["external"], "active": active},
        "props": {"partitioned": True} if db.partitioned else {},
        "doc_del_count": counters["del_count"],
        "doc_count": counters["doc_count"],
        "disk_format_version": 1,
        "compact_running": db.compact_running,
        "cluster": {"q": 1, "n": 1, "w": 1, "r": 1},
    }


def _active_size(conn: Any) -> int:
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


async def database(store: Store, request: Request, name: str) -> Reply:
    """``/{db}``: GET/HEAD its info, PUT creates it, DELETE deletes it, POST saves a new document."""
    method = request.method
    runtime = request.runtime
    if method == "PUT":
        partitioned = request.flag("partitioned")
        await runtime.to_thread(lambda: store.create(name, partitioned=partitioned))
        return json_reply(201, {"ok": True}, {"Location": f"{request.url.split('?')[0]}"})
    if method == "DELETE":
        if "rev" in request.query:
            raise BadRequest(
                "You tried to DELETE a database with a ?=rev parameter. Did you mean to DELETE a document instead?"
            )
        db = await runtime.to_thread(store.delete, name)
        if HOOKS.database_deleted is not None:
            await runtime.to_thread(HOOKS.database_deleted, db)
        return json_reply(200, {"ok": True})
    db = store.get(name) if store.directory is None else await runtime.to_thread(store.get, name)
    if method in ("GET", "HEAD"):
        reply = json_reply(200, await db_info(db, request))
        if method == "HEAD":
            reply.body = b""
        return reply
    if method == "POST":
        from .documents import post_document

        return await post_document(request, db)
    raise method_not_allowed("DELETE,GET,HEAD,POST,PUT")


_REFUSED = {
    "_replicate": "the embedded store has no replicator of its own (replication is written against the Database API)",
    "_scheduler": "the embedded store has no replicator of its own",
    "_db_updates": "the embedded store keeps no _db_updates feed",
    "_node": "the embedded store has no nodes or configuration",
    "_config": "the embedded store has no configuration",
    "_membership": "the embedded store is not a cluster",
    "_cluster_setup": "the embedded store is not a cluster",
    "_reshard": "the embedded store is not a cluster",
    "_stats": "the embedded store keeps no server statistics",
    "_utils": "the embedded store has no Fauxton",
}


def _refuse(reason: str) -> ServerHandler:
    async def refuse(store: Store, request: Request) -> Reply:
        raise NotFound(reason)

    return refuse


for _name, _reason in _REFUSED.items():
    server_endpoint(_name)(_refuse(_reason))
