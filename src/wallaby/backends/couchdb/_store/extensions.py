"""Where the engine's endpoints are registered, and the hooks the query side fills in.

An endpoint module registers its handlers when imported (``router.py``
imports them all). The query side (views, Mango, JavaScript) plugs in the
same way, without the engine naming it:

- ``server_endpoint("_x")``: ``handler(store, request) -> Reply`` for ``/_x...``.
- ``db_endpoint("_x")``: ``handler(request, db, rest) -> Reply`` for
  ``/{db}/_x/{rest...}`` (``_all_docs``, ``_find``, ``_partition``...).
- ``design_endpoint("_x")``: ``handler(request, db, ddoc_id, rest) -> Reply``
  for ``/{db}/_design/{name}/_x/{rest...}`` (``_view``, ``_info``, ``_show``...).
- ``PARTITIONED``: the names of the endpoints that honour
  ``request.partition`` (``_all_docs``, ``_find``, ``_view``...); under
  ``/{db}/_partition/{p}/`` any other is refused (``400``), never answered
  for the whole database.
- ``HOOKS``: functions the document engine calls at fixed points (each
  ``None`` until something registers one):

  ``validator(db, conn)``
      on the writer's thread, once per write transaction: a function
      ``check(new_doc, old_doc)`` raising ``HttpError`` (403 ``forbidden``,
      401 ``unauthorized``) to refuse a document, or None when the
      database has no ``validate_doc_update``.
  ``design_check(ddoc)``
      on the writer's thread, for each design document written (not deleted):
      raises ``HttpError`` to refuse it (its views do not compile).
  ``changes_filter(request, db)``
      for ``_changes?filter=`` other than ``_doc_ids`` and ``_design``
      (``_selector``, ``_view``, ``ddoc/name``): returns a function taking a
      list of change rows (each with its ``doc`` parsed) on a worker thread
      and returning the rows that pass.
  ``collate(a, b)``
      CouchDB's collation of two JSON values (-1, 0, 1), for whoever needs it
      (``_all_docs`` orders ids by code point, as CouchDB does).
  ``database_deleted(db)`` / ``view_cleanup(db)`` / ``compact_design(db, ddoc_id)``
      drop or tidy what the query side keeps for a database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .database import LocalDb
    from .requests import Reply, Request
    from .store import Store

__all__ = [
    "DB_ENDPOINTS",
    "DESIGN_ENDPOINTS",
    "HOOKS",
    "PARTITIONED",
    "SERVER_ENDPOINTS",
    "Hooks",
    "db_endpoint",
    "design_endpoint",
    "server_endpoint",
]

ServerHandler = Callable[["Store", "Request"], Awaitable["Reply"]]
DbHandler = Callable[["Request", "LocalDb", list[str]], Awaitable["Reply"]]
DesignHandler = Callable[["Request", "LocalDb", str, list[str]], Awaitable["Reply"]]

SERVER_ENDPOINTS: dict[str, ServerHandler] = {}
DB_ENDPOINTS: dict[str, DbHandler] = {}
DESIGN_ENDPOINTS: dict[str, DesignHandler] = {}
PARTITIONED: set[str] = {"_all_docs"}


def server_endpoint(name: str) -> Callable[[ServerHandler], ServerHandler]:
    def register(handler: ServerHandler) -> ServerHandler:
        SERVER_ENDPOINTS[name] = handler
        return handler

    return register


def db_endpoint(name: str) -> Callable[[DbHandler], DbHandler]:
    def register(handler: DbHandler) -> DbHandler:
        DB_ENDPOINTS[name] = handler
        return handler

    return register


def design_endpoint(name: str) -> Callable[[DesignHandler], DesignHandler]:
    def register(handler: DesignHandler) -> DesignHandler:
        DESIGN_ENDPOINTS[name] = handler
        return handler

    return register


class Hooks:
    """The functions the document engine calls where the query side has a say (None: nothing to do)."""

    validator: Callable[[LocalDb, Any], Callable[[dict[str, Any], dict[str, Any] | None], None] | None] | None = None
    design_check: Callable[[dict[str, Any]], None] | None = None
    changes_filter: Callable[[Request, LocalDb], Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] | None = None
    collate: Callable[[Any, Any], int] | None = None
    database_deleted: Callable[[LocalDb], None] | None = None
    view_cleanup: Callable[[LocalDb], None] | None = None
    compact_design: Callable[[LocalDb, str], None] | None = None


HOOKS = Hooks()
