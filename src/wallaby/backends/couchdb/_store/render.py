"""Show, list and update functions of design documents on the embedded store (``couch_mrview_show``).

CouchDB 3 deprecates them but still answers them; so does the store, with
QuickJS. Rules kept here (checked against CouchDB 3.5):

- ``GET|POST /{db}/_design/{ddoc}/_show/{name}[/{docid}]`` runs
  ``shows[name](doc, req)``; ``doc`` is null without a docid or for a
  missing document. ``GET|POST .../_list/{name}/[{other ddoc}/]{view}`` runs
  ``lists[name](head, req)`` over the rows of the view queried with the
  request's view options (``head`` is ``{total_rows, offset}``). ``POST|PUT
  .../_update/{name}[/{docid}]`` runs ``updates[name](doc, req)``, which
  returns ``[doc to save or null, answer]``.
- A function that is not there is ``404 not_found`` "missing json key:
  {name}"; ``GET`` of an update function is ``405``.
- An answer is a string (the body) or ``{code, headers, body | json |
  base64}``. The default Content-Type is ``text/html; charset=utf-8`` for a
  body, ``application/json`` for json (and for a list), ``application/binary``
  for base64; the default code 200, 201 when an update function saved a
  document.
- An update that saves answers ``X-Couch-Id`` (URL-encoded) and
  ``X-Couch-Update-NewRev``; the save is an ordinary write (a stale
  ``_rev`` is ``409``, no ``_id`` is ``400 illegal_docid``, and
  ``validate_doc_update`` runs).
- ``req`` holds ``info`` (the database's), ``id``, ``uuid``, ``method``,
  ``requested_path``, ``path``, ``raw_path``, ``query``, ``headers``,
  ``body`` (``"undefined"`` when there is none), ``peer``, ``form`` (a
  form-encoded body), ``cookie``, ``userCtx`` (the embedded store's admin)
  and ``secObj``.
- A list function sees the view's rows all at once (``getRow()`` hands them
  out); CouchDB streams them. ``provides()``/``registerType()`` are not
  there: answer by ``req.headers.Accept`` yourself.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson

from .database import LocalDb
from .errors import HttpError, IllegalDocid, NotFound, method_not_allowed
from .extensions import design_endpoint
from .js import JSError, Sandbox, sandbox_for
from .requests import Reply, Request, collect
from .server import db_info
from .view_endpoints import design_of, http_error, one_query, read_design, security_object, user_context
from .viewopts import ViewOptions

__all__ = ["list_view", "show", "update"]

_HTML = "text/html; charset=utf-8"
_JSON = "application/json"


async def _function(request: Request, db: LocalDb, ddoc_id: str, kind: str, name: str) -> tuple[dict[str, Any], str]:
    ddoc = await db.read(request.runtime, read_design, ddoc_id)
    if ddoc is None:
        raise NotFound("missing")
    functions = ddoc.get(kind)
    source = functions.get(name) if isinstance(functions, dict) else None
    if not isinstance(source, str):
        raise NotFound(f"missing json key: {name}")
    return ddoc, source


async def _current(request: Request, db: LocalDb, docid: str) -> dict[str, Any] | None:
    """The document ``docid`` as ``GET /{db}/{docid}`` answers it, or None."""
    from .documents import document

    try:
        reply = await document(Request("GET", "/", "", {}, None, request.runtime, request.url), db, docid)
    except NotFound:
        return None
    doc: dict[str, Any] = orjson.loads(await collect(reply))
    return doc


async def _req(request: Request, db: LocalDb, docid: str | None, body: bytes) -> dict[str, Any]:
    url = urlsplit(request.url)
    content_type = (request.header("content-type") or "").split(";")[0].strip()
    text = body.decode("utf-8", "replace") if body else "undefined"
    return {
        "info": await db_info(db, request),
        "id": docid,
        "uuid": uuid.uuid4().hex,
        "method": request.method,
        "requested_path": request.parts,
        "path": request.parts,
        "raw_path": url.path + (f"?{url.query}" if url.query else ""),
        "query": dict(request.query),
        "headers": dict(request.headers),
        "body": text,
        "peer": "127.0.0.1",
        "form": dict(parse_qsl(text)) if content_type == "application/x-www-form-urlencoded" else {},
        "cookie": {},
        "userCtx": user_context(db),
        "secObj": security_object(db),
    }


def _reply(answer: dict[str, Any], status: int, headers: dict[str, str], content_type: str = _HTML) -> Reply:
    """The HTTP answer a function's ``{code, headers, body | json | base64}`` stands for."""
    given = answer.get("headers")
    out = {**headers, **({str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {})}
    if "json" in answer:
        body, content_type = orjson.dumps(answer["json"]), _JSON
    elif "base64" in answer:
        body, content_type = base64.b64decode(str(answer["base64"])), "application/binary"
    elif "body" in answer:
        body = str(answer["body"]).encode("utf-8")
    else:
        body, content_type = b"", _JSON
    if not any(name.lower() == "content-type" for name in out):
        out["Content-Type"] = content_type
    code = answer.get("code")
    return Reply(code if isinstance(code, int) and not isinstance(code, bool) else status, out, body)


def _sandbox(ddoc: dict[str, Any], kind: str, source: str) -> Sandbox:
    """This thread's sandbox for ``ddoc`` with ``source`` compiled (on a worker thread)."""
    box = sandbox_for("render:" + ddoc["_id"] + ddoc["_rev"], name=ddoc["_id"])
    box.compile(kind + ":" + source, source, ddoc)
    return box


async def _run(request: Request, call: Any) -> Any:
    try:
        return await request.runtime.to_thread(call)
    except JSError as exc:
        raise http_error(exc) from None


@design_endpoint("_show")
async def show(request: Request, db: LocalDb, ddoc_id: str, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_design/{ddoc}/_show/{name}[/{docid}]``: a show function's answer."""
    if request.method not in ("GET", "HEAD", "POST"):
        raise method_not_allowed("GET,HEAD,POST")
    if not rest or not rest[0]:
        raise NotFound("missing")
    ddoc, source = await _function(request, db, ddoc_id, "shows", rest[0])
    docid = "/".join(rest[1:]) or None
    doc = await _current(request, db, docid) if docid is not None else None
    req = await _req(request, db, docid, await request.read_body())
    answer = await _run(request, lambda: _sandbox(ddoc, "show", source).show("show:" + source, ddoc, doc, req))
    return _reply(answer, 200, {})


@design_endpoint("_list")
async def list_view(request: Request, db: LocalDb, ddoc_id: str, rest: list[str]) -> Reply:
    """``GET|POST /{db}/_design/{ddoc}/_list/{name}/[{other}/]{view}``: a list function over a view's rows."""
    if request.method not in ("GET", "HEAD", "POST"):
        raise method_not_allowed("GET,HEAD,POST")
    if len(rest) not in (2, 3) or not all(rest):
        raise NotFound("missing")
    ddoc, source = await _function(request, db, ddoc_id, "lists", rest[0])
    design = await design_of(request, db, ddoc_id if len(rest) == 2 else "_design/" + rest[1])
    raw = await request.read_body()
    body = await request.json_object() if request.method == "POST" and raw else None
    options = await ViewOptions.of(request, body)
    head = orjson.loads(await collect(await one_query(request, db, design, rest[-1], options)))
    rows_json = orjson.dumps(head.pop("rows")).decode()
    req = await _req(request, db, None, raw)

    def run() -> tuple[dict[str, Any], str]:
        return _sandbox(ddoc, "list", source).list("list:" + source, ddoc, head, req, rows_json)

    started, text = await _run(request, run)
    return _reply({**(started if isinstance(started, dict) else {}), "body": text}, 200, {}, _JSON)


@design_endpoint("_update")
async def update(request: Request, db: LocalDb, ddoc_id: str, rest: list[str]) -> Reply:
    """``POST|PUT /{db}/_design/{ddoc}/_update/{name}[/{docid}]``: an update function, and the save it asks for."""
    if request.method not in ("POST", "PUT"):
        raise HttpError(f"Update functions do not allow {request.method}", status=405, error="method_not_allowed")
    if not rest or not rest[0]:
        raise NotFound("missing")
    ddoc, source = await _function(request, db, ddoc_id, "updates", rest[0])
    docid = "/".join(rest[1:]) or None
    doc = await _current(request, db, docid) if docid is not None else None
    req = await _req(request, db, docid, await request.read_body())

    def run() -> tuple[dict[str, Any] | None, dict[str, Any]]:
        return _sandbox(ddoc, "update", source).update("update:" + source, ddoc, doc, req)

    new_doc, answer = await _run(request, run)
    if new_doc is None:
        return _reply(answer, 200, {})
    saved = await _save(request, db, new_doc)
    if saved.status >= 400:
        return saved
    result = orjson.loads(await collect(saved))
    headers = {"X-Couch-Id": quote(result["id"], safe=""), "X-Couch-Update-NewRev": result["rev"]}
    return _reply(answer, 201, headers)


async def _save(request: Request, db: LocalDb, doc: Any) -> Reply:
    from .documents import document

    docid = doc.get("_id") if isinstance(doc, dict) else None
    if not isinstance(docid, str) or not docid:
        raise IllegalDocid("Document id must not be empty")
    put = Request("PUT", "/", "", {"Content-Type": _JSON}, orjson.dumps(doc), request.runtime, request.url)
    return await document(put, db, docid)
