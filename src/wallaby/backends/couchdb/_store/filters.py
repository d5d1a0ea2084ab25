"""The ``_changes`` filters of the query side: ``_selector``, ``_view`` and a design document's ``filters``.

Rules kept here (checked against CouchDB 3.5):

- ``filter=_selector`` takes ``{"selector": {...}}`` from a POST body (a GET
  is ``400`` "Selector must be specified in POST payload"; a selector that
  is not an object ``400`` "Selector error: expected a JSON object"), and
  keeps the changes whose document it matches.
- ``filter=_view&view=ddoc/name`` keeps the changes for which the view's map
  emits anything (``400`` without ``view``).
- ``filter=ddoc/name`` runs ``filters.name(doc, req)``: ``req.query`` holds
  the query options (``filter_params`` arrive there), ``req.userCtx`` the
  embedded store's user (``{"db", "name": null, "roles": ["_admin"]}``).
- A design document that is not there is ``404 missing``; a function it
  does not have ``404 missing json key: name``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .._core.json import loads
from .database import Busy, LocalDb
from .errors import BadRequest, HttpError, NotFound
from .extensions import HOOKS
from .js import JSError, sandbox_for
from .requests import Request
from .selector import MangoError, match, normalize

__all__ = ["changes_filter"]

Filter = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _read_design(db: LocalDb, ddoc_id: str) -> dict[str, Any]:
    from .view_endpoints import read_design

    try:
        ddoc = db.read_here(read_design, ddoc_id)
    except Busy:
        ddoc = db.read_blocking(read_design, ddoc_id)
    if ddoc is None:
        raise NotFound("missing")
    return ddoc


def _function(ddoc: dict[str, Any], section: str, name: str) -> Any:
    functions = ddoc.get(section)
    if not isinstance(functions, dict) or name not in functions:
        raise NotFound(f"missing json key: {name}" if isinstance(functions, dict) else f"missing json key: {section}")
    return functions[name]


def _http(exc: JSError) -> HttpError:
    return HttpError(exc.reason, status=exc.status, error=exc.error)


def _selector_filter(request: Request) -> Filter:
    body = request.body if isinstance(request.body, bytes) else b""
    payload = loads(body) if body else None
    if request.method != "POST" or not isinstance(payload, dict) or "selector" not in payload:
        raise BadRequest("Selector must be specified in POST payload")
    if not isinstance(payload["selector"], dict):
        raise BadRequest("Selector error: expected a JSON object")
    try:
        selector = normalize(payload["selector"])
    except MangoError as exc:
        raise _http(exc) from None

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row for row in rows if isinstance(row.get("doc"), dict) and match(selector, row["doc"])]

    return keep


def _split(name: str, what: str) -> tuple[str, str]:
    ddoc, _, function = name.partition("/")
    if not ddoc or not function:
        raise BadRequest(f"`{what}` must be of the form `designname/{what}name`")
    return "_design/" + ddoc, function


def _view_filter(request: Request, db: LocalDb) -> Filter:
    view = request.query.get("view")
    if not view:
        raise BadRequest("`view` filter parameter is not provided.")
    ddoc_id, name = _split(view, "view")
    ddoc = _read_design(db, ddoc_id)
    definition = _function(ddoc, "views", name)
    source = definition.get("map") if isinstance(definition, dict) else None
    if not isinstance(source, str):
        raise NotFound(f"missing json key: {name}")
    lib = ddoc.get("views", {}).get("lib")
    signature = "filter-view:" + ddoc_id + ddoc["_rev"]

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        box = sandbox_for(signature, name=ddoc_id)
        try:
            box.compile("map:" + source, source, {"views": {"lib": lib}})
            passed = box.filter_view("map:" + source, [row.get("doc") for row in rows])
        except JSError as exc:
            raise _http(exc) from None
        return [row for row, ok in zip(rows, passed, strict=True) if ok]

    return keep


def _js_filter(request: Request, db: LocalDb, name: str) -> Filter:
    ddoc_id, function = _split(name, "filter")
    ddoc = _read_design(db, ddoc_id)
    source = _function(ddoc, "filters", function)
    if not isinstance(source, str):
        raise NotFound(f"missing json key: {function}")
    security = db.counters.get("security")
    req = {
        "info": {"db_name": db.name, "update_seq": db.update_seq},
        "id": None,
        "method": request.method,
        "path": [db.name, "_changes"],
        "query": dict(request.query),
        "headers": dict(request.headers),
        "body": "undefined",
        "peer": "127.0.0.1",
        "form": {},
        "cookie": {},
        "userCtx": {"db": db.name, "name": None, "roles": ["_admin"]},
        "secObj": orjson.loads(security) if isinstance(security, str) else (security or {}),
    }
    signature = "filter:" + ddoc_id + ddoc["_rev"]

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        box = sandbox_for(signature, name=ddoc_id)
        try:
            box.compile("filter:" + source, source, ddoc)
            passed = box.filter("filter:" + source, ddoc, [row.get("doc") for row in rows], req)
        except JSError as exc:
            raise _http(exc) from None
        return [row for row, ok in zip(rows, passed, strict=True) if ok]

    return keep


def changes_filter(request: Request, db: LocalDb) -> Filter:
    """The filter ``_changes?filter=`` names (``_selector``, ``_view`` or ``ddoc/name``)."""
    name = request.query.get("filter", "")
    if name == "_selector":
        return _selector_filter(request)
    if name == "_view":
        return _view_filter(request, db)
    return _js_filter(request, db, name)


HOOKS.changes_filter = changes_filter
