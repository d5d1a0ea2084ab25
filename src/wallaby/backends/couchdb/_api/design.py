"""Design documents and what they serve beyond one view query.

Rules kept here:

- A design document is named with or without ``_design/`` (``"d"`` and
  ``"_design/d"`` are the same); its name and each function name are sent as
  one encoded segment each, a document id as ``doc_segment`` encodes it
  (``/`` included: CouchDB keeps ``path%2Fdoc`` whole, PouchDB Server cuts it).
- ``view_queries`` sends its queries in a JSON body, so their options are
  JSON values as they are (no JSON-in-a-string as in a query string).
- Show, list and update functions answer anything: the result is a
  ``Rendered`` with the body as bytes and its Content-Type (``.json()`` and
  ``.text()`` decode it), and for update functions the id and new rev
  CouchDB reports in ``X-Couch-Id`` / ``X-Couch-Update-NewRev``.
- ``put_design`` writes the design document it is given, in place of the
  stored one (whose rev and attachments it keeps); when nothing changed it
  writes nothing, so indexes are not touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import unquote

from .._core.checks import as_list, text
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType, NotFound
from .._core.json import JSON_TYPE, dumps, loads
from .._core.params import VIEW, query_string
from .._core.urls import ddoc_name, ddoc_segment, doc_segment, segment, view_path

__all__ = ["Design", "Rendered", "queries_body"]

_DESIGN = "_design/"


def queries_body(queries: object) -> dict[str, Any]:
    """The body of ``POST .../queries``: each query's options checked, values kept as JSON values."""
    if not isinstance(queries, (list, tuple)):
        raise InvalidType(f"queries must be a list of dicts, not {type(queries).__name__}")
    checked = []
    for query in queries:
        if not isinstance(query, Mapping):
            raise InvalidType(f"each query must be a dict of view options, not {type(query).__name__}")
        query = dict(query)
        if "count" in query:
            if "limit" in query:
                raise InvalidArgument("give count or limit, not both")
            query["limit"] = query.pop("count")
        VIEW.check(query)
        if "keys" in query:
            as_list(query["keys"], "keys")
        checked.append(query)
    return {"queries": checked}


class Rendered(NamedTuple):
    """What a show, list or update function answered."""

    body: bytes
    content_type: str | None
    id: str | None = None
    rev: str | None = None

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body decoded as JSON."""
        return loads(self.body)


def _update_body(body: object, content_type: str | None) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, content_type
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), content_type or "application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), content_type or "text/plain; charset=utf-8"
    if isinstance(body, (Mapping, list, tuple)):
        return dumps(body), content_type or JSON_TYPE
    raise InvalidType(f"an update body is a dict, list, str or bytes, not {type(body).__name__}")


def _views(views: object) -> dict[str, Any]:
    if not isinstance(views, Mapping):
        raise InvalidType(
            f"views must be a dict of view name -> {{'map': ..., 'reduce': ...}}, not {type(views).__name__}"
        )
    checked: dict[str, Any] = {}
    for name, view in views.items():
        if not isinstance(name, str) or not name:
            raise InvalidType("a view name must be a non-empty str")
        if isinstance(view, str):
            view = {"map": view}
        if not isinstance(view, Mapping) or "map" not in view:
            raise InvalidArgument(f"view {name!r} needs a 'map' function")
        checked[name] = dict(view)
    return checked


class Design(Resource):
    def _ddoc_path(self, ddoc: object) -> str:
        return f"{self._path}/{ddoc_segment(ddoc)}"

    async def _render(
        self, method: str, path: str, query: str, body: bytes | None, content_type: str | None, accept: str
    ) -> Rendered:
        text(accept, "accept")
        response = await self._client.send(
            method, path, query, body=body, content_type=content_type, headers={"Accept": accept}
        )
        data = await response.read()
        docid = response.header("X-Couch-Id")
        return Rendered(
            data,
            response.header("Content-Type"),
            unquote(docid) if docid is not None else None,
            response.header("X-Couch-Update-NewRev"),
        )

    async def view_queries(self, path: str, queries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """``POST /{db}/_design/{ddoc}/_view/{view}/queries``: several queries of one view in one request.

        ``queries`` is a list of dicts of view options (``keys``, ``startkey``,
        ``limit``, ``reduce``...), Python values as for ``view()``. Returns one
        result per query, in order: ``{"total_rows", "offset", "rows"}`` (or
        ``{"rows"}`` for a reduce). ``path`` is any form ``view()`` takes,
        ``_all_docs`` included. Not on PouchDB Server.
        """
        body = queries_body(queries)
        answer = await self._client.json_dict("POST", f"{self._path}/{view_path(path)}/queries", "", body, view=True)
        results: list[dict[str, Any]] = answer["results"]
        return results

    async def show(
        self, ddoc: str, name: str, docid: str | None = None, *, accept: str = "*/*", **params: Any
    ) -> Rendered:
        """``GET /{db}/_design/{ddoc}/_show/{name}[/{docid}]``: a show function's answer.

        ``params`` go to the function as ``req.query`` (text); without
        ``docid`` (or for a missing document) the function gets ``doc=null``.
        ``accept`` is the Accept header its ``provides()`` chooses by.
        """
        path = f"{self._ddoc_path(ddoc)}/_show/{segment(name, 'show function name')}"
        if docid is not None:
            path = f"{path}/{doc_segment(docid)}"
        return await self._render("GET", path, query_string(params), None, None, accept)

    async def list_view(self, ddoc: str, name: str, view: str, *, accept: str = "*/*", **params: Any) -> Rendered:
        """``GET /{db}/_design/{ddoc}/_list/{name}/{view}``: a list function run over a view's rows.

        ``view`` is a view of the same design document, or ``"other/view"``
        for another one's. View options are encoded as for ``view()``
        (``keys=`` is POSTed); other ``params`` reach the function as text.
        """
        other, _, view_name = text(view, "view").rpartition("/")
        where = segment(view_name, "view name")
        if other:
            where = f"{segment(ddoc_name(other), 'design document name')}/{where}"
        path = f"{self._ddoc_path(ddoc)}/_list/{segment(name, 'list function name')}/{where}"
        keys = params.pop("keys", None)
        query = VIEW.query(params)
        if keys is None:
            return await self._render("GET", path, query, None, None, accept)
        return await self._render("POST", path, query, dumps({"keys": as_list(keys, "keys")}), JSON_TYPE, accept)

    async def update(
        self,
        ddoc: str,
        name: str,
        docid: str | None = None,
        body: Any = None,
        *,
        content_type: str | None = None,
        accept: str = "*/*",
        **params: Any,
    ) -> Rendered:
        """``PUT /{db}/_design/{ddoc}/_update/{name}/{docid}`` (``POST`` without a docid): run an update function.

        ``body`` is sent as JSON (dict or list), text (str) or bytes, with
        ``content_type`` if given; ``params`` reach the function as
        ``req.query``. The result's ``id`` and ``rev`` are the document the
        function saved (``rev`` is None when it saved nothing). An id with
        ``/`` is sent encoded; PouchDB Server cuts it at the ``/``.
        """
        path = f"{self._ddoc_path(ddoc)}/_update/{segment(name, 'update function name')}"
        if docid is not None:
            path = f"{path}/{doc_segment(docid)}"
        data, ctype = _update_body(body, content_type)
        method = "POST" if docid is None else "PUT"
        return await self._render(method, path, query_string(params), data, ctype, accept)

    async def put_design(self, name: str, views: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """``PUT /{db}/_design/{name}``: create a design document, or replace the stored one.

        ``views`` maps view names to ``{"map": ..., "reduce": ...}`` (a bare
        map function is enough); ``fields`` are the other members
        (``shows``, ``lists``, ``updates``, ``filters``,
        ``validate_doc_update``, ``options={"partitioned": ...}``,
        ``language``...). The stored document's rev and attachments are kept;
        if nothing changed nothing is written. Returns ``{"ok", "id", "rev"}``.
        """
        path = self._ddoc_path(name)
        docid = _DESIGN + ddoc_name(name)
        content: dict[str, Any] = {}
        if views is not None:
            content["views"] = _views(views)
        for key, value in fields.items():
            if key.startswith("_"):
                raise InvalidArgument(f"put_design sets {key} itself; give the design document's fields only")
            content[key] = value
        content = loads(dumps(content))  # what CouchDB will store, to compare with
        try:
            stored = await self._client.json_dict("GET", path)
        except NotFound:
            stored = None
        doc: dict[str, Any] = {"_id": docid}
        if stored is not None:
            if {k: v for k, v in stored.items() if not k.startswith("_")} == content:
                return {"ok": True, "id": docid, "rev": stored["_rev"]}
            doc["_rev"] = stored["_rev"]
            if "_attachments" in stored:
                doc["_attachments"] = stored["_attachments"]
        doc.update(content)
        return await self._client.write("PUT", path, "", doc)

    async def view_info(self, ddoc: str) -> dict[str, Any]:
        """``GET /{db}/_design/{ddoc}/_info``: the state of a design document's view index.

        ``{"name", "view_index": {"signature", "sizes", "update_seq",
        "updater_running", "updates_pending", ...}}``; PouchDB Server answers
        ``{"view_index": "Not implemented."}``.
        """
        return await self._client.json_dict("GET", f"{self._ddoc_path(ddoc)}/_info")
