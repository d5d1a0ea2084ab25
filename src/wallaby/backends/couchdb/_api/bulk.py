"""Many documents per request: ``_bulk_docs``, ``_bulk_get``, ``_dbs_info``.

Rules kept here:

- Per-document failures of ``_bulk_docs`` and ``_bulk_get`` are CouchDB's
  answer, returned in the results; only a failure of the whole request raises.
- Bad input is refused before anything is sent: a document that is not a
  dict, a ``_bulk_get`` item without an id, ``new_edits=False`` with a
  document lacking ``_id`` or ``_rev``.
- Each new rev of ``_bulk_docs`` is written into its document, matched by
  position when the answer lines up with the request, else by id.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from .._core.checks import as_list, check_doc, doc_id, flag, refuse_unknown, whole_number
from .._core.client import Client, Resource
from .._core.errors import InvalidArgument, InvalidType
from .._core.json import JSON_TYPE, dumps, loads
from .._core.params import ALL_DBS, query_string
from .._core.streams import Stream

__all__ = ["Bulk", "ServerBulk", "bulk_get_items", "save_docs", "write_back"]

_BULK_GET_KEYS = frozenset({"id", "rev", "atts_since"})
_BULK_DOCS_OPTIONS = frozenset({"new_edits", "all_or_nothing", "w"})


def _bulk_get_item(item: object) -> dict[str, Any]:
    if type(item) is dict and len(item) == 2 and type(item.get("id")) is str and type(item.get("rev")) is str:
        if item["id"] and item["rev"]:  # {"id", "rev"}, as a replicator asks: nothing else to check
            return dict(item)
    if isinstance(item, str):
        return {"id": doc_id(item)}
    if not isinstance(item, Mapping):
        raise InvalidType(f"a _bulk_get item must be an id or a dict with an 'id', not {type(item).__name__}")
    refuse_unknown(item, _BULK_GET_KEYS, "_bulk_get item")
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
        check_doc(doc)
        if "_id" not in doc:
            raise InvalidArgument("with new_edits=False every document needs an _id")
        if not doc.get("_rev") and not doc.get("_revisions"):
            raise InvalidArgument(f"with new_edits=False document {doc['_id']!r} needs a _rev or _revisions")


def write_back(docs: list[Any], results: list[Any]) -> None:
    """Put each successful result's rev (and new id) into its document."""
    if not results:  # new_edits=false: CouchDB answers only the failures
        return
    positional = len(docs) == len(results) and all(
        "_id" not in doc or doc["_id"] == res.get("id") for doc, res in zip(docs, results, strict=False)
    )
    if positional:
        pairs: Any = zip(docs, results, strict=False)
    else:  # some servers answer in another order: match by id
        by_id = {res.get("id"): res for res in results}
        pairs = ((doc, by_id.get(doc.get("_id"))) for doc in docs if "_id" in doc)
    for doc, res in pairs:
        if res and "rev" in res and "error" not in res:
            doc["_rev"] = res["rev"]
            doc.setdefault("_id", res.get("id"))


async def save_docs(
    client: Client,
    db_path: str,
    request: MutableMapping[str, Any],
    params: Mapping[str, Any],
    *,
    checked: bool = False,
) -> list[Any]:
    """``POST /{db}/_bulk_docs`` with ``request`` (``{"docs": [...]}``, options); revs written back.

    ``checked``: the caller has checked each document already (``check_doc``).
    """
    docs = request["docs"]
    if not isinstance(docs, list):
        raise InvalidType(f"docs must be a list, not {type(docs).__name__}")
    if not checked:
        for doc in docs:
            check_doc(doc)
    body = {**request, **params}
    refuse_unknown([name for name in body if name != "docs"], _BULK_DOCS_OPTIONS, "_bulk_docs")
    results = await client.json_list("POST", f"{db_path}/_bulk_docs", "", body)
    write_back(docs, results)
    return results


def _bulk_get_request(docs: Sequence[str | Mapping[str, Any]], revs: bool, latest: bool) -> tuple[str, bytes]:
    body = dumps({"docs": bulk_get_items(docs)})
    return query_string({"revs": flag(revs, "revs") or None, "latest": flag(latest, "latest") or None}), body


class Bulk(Resource):
    async def bulk_docs(
        self,
        docs: Sequence[MutableMapping[str, Any]],
        new_edits: bool = True,
        all_or_nothing: bool = False,
        w: int | None = None,
    ) -> list[dict[str, Any]]:
        """``POST /{db}/_bulk_docs``: create, update and delete many documents in one request.

        Returns one result per document (``{"ok", "id", "rev"}`` or
        ``{"id", "error", "reason"}``): a conflict in one row is reported there,
        not raised. Each new rev is written into its document, as ``save()`` does.
        ``new_edits=False`` stores the given ``_rev``s as they are (replication;
        CouchDB then answers ``[]``). ``all_or_nothing`` is refused by CouchDB
        2.0 and later (417, raised as ClientError). ``w``: on a cluster, how
        many copies of each document must be written before CouchDB answers
        (a majority unless told).
        """
        checked = as_list(docs, "docs")
        params: dict[str, Any] = {}
        replicated = not flag(new_edits, "new_edits")
        if replicated:
            _check_replicated(checked)  # check_doc included: each document is checked once
            params["new_edits"] = False
        if flag(all_or_nothing, "all_or_nothing"):
            params["all_or_nothing"] = True
        if w is not None:
            params["w"] = whole_number(w, "w", 1)
        return await save_docs(self._client, self._path, {"docs": checked}, params, checked=replicated)

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
        response = await self._client.send("POST", f"{self._path}/_bulk_get", query, body=body, content_type=JSON_TYPE)
        results: list[dict[str, Any]] = loads(await response.read())["results"]
        return results

    def stream_bulk_get(
        self, docs: Sequence[str | Mapping[str, Any]], revs: bool = False, latest: bool = False
    ) -> Stream[dict[str, Any]]:
        """``POST /{db}/_bulk_get`` as a Stream of results, each read as it arrives.

        The arguments and result items of ``bulk_get()``; memory holds one
        result at a time, however many documents are asked for.
        """
        query, body = _bulk_get_request(docs, revs, latest)
        return self._client.stream_rows("POST", f"{self._path}/_bulk_get", query, body, "results")


class ServerBulk(Resource):
    async def dbs_info(self, keys: Sequence[str] | None = None, **params: Any) -> list[dict[str, Any]]:
        """``GET /_dbs_info``, or ``POST`` with ``keys``: the info of many databases at once.

        Each row is ``{"key": name, "info": {...}}``, or ``{"key": name,
        "error": "not_found"}`` for a missing one. Without ``keys`` the options
        of ``all_dbs()`` page through all databases (CouchDB 3.2 and later).
        """
        if keys is None:
            ALL_DBS.check(params, "_dbs_info")
            return await self._client.json_list("GET", "/_dbs_info", ALL_DBS.query(params))
        if params:
            raise InvalidArgument("give keys or paging options to dbs_info, not both")
        names = as_list(keys, "keys")
        for name in names:
            if not isinstance(name, str):
                raise InvalidType(f"keys must hold database names (str), not {type(name).__name__}")
        return await self._client.json_list("POST", "/_dbs_info", "", {"keys": names})
