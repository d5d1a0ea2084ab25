"""Many documents per request: ``_bulk_docs``, ``_bulk_get``, ``_all_docs`` and its kin, ``_dbs_info``.

Rules kept here:

- Per-document failures of ``_bulk_docs`` and ``_bulk_get`` are CouchDB's
  answer, returned in the results; only a failure of the whole request raises.
- Bad input is refused before anything is sent: a document that is not a
  dict, a ``_bulk_get`` item without an id, ``new_edits=False`` with a
  document lacking ``_id`` or ``_rev``.
- ``_all_docs``, ``_design_docs`` and ``_local_docs`` are views: they take
  every view option and go through ``view()``, which encodes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, MutableMapping, Sequence

from ._documents import _check_doc, doc_id
from ._errors import InvalidArgument, InvalidType
from ._checks import as_list, flag
from ._json import dumps, loads
from ._params import ALL_DBS_PARAMS, check_params, query_string
from ._views import stream_rows

if TYPE_CHECKING:
    from ._http import Http
    from ._server import Server
    from ._streams import Stream

__all__ = ["Bulk", "ServerBulk", "bulk_get_items"]

_BULK_GET_KEYS = frozenset({"id", "rev", "atts_since"})



def _bulk_get_item(item: object) -> dict[str, Any]:
    if isinstance(item, str):
        return {"id": doc_id(item)}
    if not isinstance(item, Mapping):
        raise InvalidType(f"a _bulk_get item must be an id or a dict with an 'id', not {type(item).__name__}")
    unknown = sorted(set(item) - _BULK_GET_KEYS)
    if unknown:
        raise InvalidArgument(f"unknown _bulk_get item key{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if "id" not in item:
        raise InvalidArgument("a _bulk_get item needs an 'id'")
    if not isinstance(item["id"], str):
        raise InvalidType(f"a _bulk_get item's id must be a str, not {type(item['id']).__name__}")
    doc_id(item["id"])  # refuses an empty id
    if "rev" in item and (not isinstance(item["rev"], str) or not item["rev"]):
        raise InvalidType(f"a _bulk_get item's rev must be a non-empty str, not {item['rev']!r}")
    if "atts_since" in item and not all(isinstance(rev, str) for rev in as_list(item["atts_since"], "atts_since")):
        raise InvalidType("atts_since must be a list of revs (str)")
    return dict(item)


def bulk_get_items(docs: object) -> list[dict[str, Any]]:
    """The ``docs`` of a ``_bulk_get`` body from ids and ``{"id", "rev", "atts_since"}`` dicts."""
    return [_bulk_get_item(item) for item in as_list(docs, "docs")]


def _check_replicated(docs: list[Any]) -> None:
    """With ``new_edits=False`` each document names its own ``_id`` and ``_rev`` (or ``_revisions``)."""
    for doc in docs:
        _check_doc(doc)
        if "_id" not in doc:
            raise InvalidArgument("with new_edits=False every document needs an _id")
        if not doc.get("_rev") and not doc.get("_revisions"):
            raise InvalidArgument(f"with new_edits=False document {doc['_id']!r} needs a _rev or _revisions")


class Bulk:
    _http: Http
    _path: str
    _server: Server

    async def bulk_docs(
        self,
        docs: Sequence[MutableMapping[str, Any]],
        new_edits: bool = True,
        all_or_nothing: bool = False,
    ) -> list[dict[str, Any]]:
        """``POST /{db}/_bulk_docs``: create, update and delete many documents in one request.

        Returns one result per document (``{"ok", "id", "rev"}`` or
        ``{"id", "error", "reason"}``): a conflict in one row is reported there,
        not raised. Each new rev is written into its document, as ``save()`` does.
        ``new_edits=False`` stores the given ``_rev``s as they are (replication;
        CouchDB then answers ``[]``). ``all_or_nothing`` is refused by CouchDB
        2.0 and later (417, raised as ClientError).
        """
        docs = as_list(docs, "docs")
        params: dict[str, Any] = {}
        if not flag(new_edits, "new_edits"):
            _check_replicated(docs)
            params["new_edits"] = False
        if flag(all_or_nothing, "all_or_nothing"):
            params["all_or_nothing"] = True
        return await self._bulk_save({"docs": docs}, params)  # type: ignore[attr-defined,no-any-return]

    async def bulk_get(
        self, docs: Sequence[str | Mapping[str, Any]], revs: bool = False, latest: bool = False
    ) -> list[dict[str, Any]]:
        """``POST /{db}/_bulk_get``: many documents (or given revisions) in one request.

        ``docs`` holds ids and ``{"id": ..., "rev": ...}`` dicts. Returns
        CouchDB's ``results``: per request ``{"id", "docs": [{"ok": doc} or
        {"error": {...}}]}``, all leaves of a conflicted document when no rev is
        given. ``revs=True`` adds each ``_revisions``; ``latest=True`` answers a
        rev that is not a leaf with its latest leaf.
        """
        query, body = _bulk_get_request(docs, revs, latest)
        response = await self._http.send("POST", f"{self._path}/_bulk_get", query, body=body, content_type="application/json")
        return loads(await response.read())["results"]  # type: ignore[no-any-return]

    def stream_bulk_get(
        self, docs: Sequence[str | Mapping[str, Any]], revs: bool = False, latest: bool = False
    ) -> Stream[dict[str, Any]]:
        """``POST /{db}/_bulk_get`` as a Stream of results, each read as it arrives.

        The arguments and result items of ``bulk_get()``; memory holds one
        result at a time, however many documents are asked for.
        """
        query, body = _bulk_get_request(docs, revs, latest)
        meta: dict[str, Any] = {}
        results = stream_rows(self._http, "POST", f"{self._path}/_bulk_get", query, body, "results", meta)
        return self._server._stream_class(self._http.runtime, results, meta)

    async def all_docs(self, **params: Any) -> Any:
        """``GET /{db}/_all_docs``: a row per document, by id; ``POST`` when ``keys=`` is given.

        Every view option is accepted (``include_docs``, ``startkey``/``endkey``,
        ``key``, ``keys``, ``limit``, ``skip``, ``descending``, ``conflicts``,
        ``update_seq``...), as Python values; the result is what
        ``view("_all_docs", ...)`` returns: the rows (``(rows, total_rows)`` with
        ``include_count=True``).
        """
        return await self.view("_all_docs", **params)  # type: ignore[attr-defined]

    async def design_docs(self, **params: Any) -> Any:
        """``GET /{db}/_design_docs``: a row per design document; the options of ``all_docs()``."""
        return await self.view("_design_docs", **params)  # type: ignore[attr-defined]

    async def local_docs(self, **params: Any) -> Any:
        """``GET /{db}/_local_docs``: a row per ``_local/`` document; the options of ``all_docs()``."""
        return await self.view("_local_docs", **params)  # type: ignore[attr-defined]


def _bulk_get_request(docs: Sequence[str | Mapping[str, Any]], revs: bool, latest: bool) -> tuple[str, bytes]:
    body = dumps({"docs": bulk_get_items(docs)})
    return query_string({"revs": flag(revs, "revs") or None, "latest": flag(latest, "latest") or None}), body


class ServerBulk:
    _http: Http

    async def dbs_info(self, keys: Sequence[str] | None = None, **params: Any) -> list[dict[str, Any]]:
        """``GET /_dbs_info``, or ``POST`` with ``keys``: the info of many databases at once.

        Each row is ``{"key": name, "info": {...}}``, or ``{"key": name,
        "error": "not_found"}`` for a missing one. Without ``keys`` the options
        of ``all_dbs()`` page through all databases (CouchDB 3.2 and later).
        """
        if keys is None:
            check_params(params, ALL_DBS_PARAMS, "_dbs_info")
            return await self._http.json("GET", "/_dbs_info", query_string(params, ALL_DBS_PARAMS))  # type: ignore[no-any-return]
        if params:
            raise InvalidArgument("give keys or paging options to dbs_info, not both")
        names = as_list(keys, "keys")
        for name in names:
            if not isinstance(name, str):
                raise InvalidType(f"keys must hold database names (str), not {type(name).__name__}")
        return await self._http.json("POST", "/_dbs_info", "", {"keys": names})  # type: ignore[no-any-return]
