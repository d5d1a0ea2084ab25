"""Documents: get, save (one or ``_bulk_docs``), delete; the new ``_rev`` written back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, MutableMapping

from ._errors import InvalidArgument, InvalidType
from ._params import DOC_PARAMS, WRITE_PARAMS, check_params, query_string
from ._urls import doc_segment

if TYPE_CHECKING:
    from ._http import Http

__all__ = ["Documents", "doc_id", "doc_id_rev"]

_BULK_PARAMS = {"new_edits": False, "all_or_nothing": False}


def _check_doc(doc: object) -> MutableMapping[str, Any]:
    """A document to send: a dict whose ``_id``, when present, is a non-empty str."""
    # type() first: the ABC check costs more than encoding the document
    if type(doc) is not dict and not isinstance(doc, MutableMapping):
        raise InvalidType(f"a document must be a dict, not {type(doc).__name__}")
    docid = doc.get("_id", _NO_ID)  # type: ignore[union-attr]
    if docid is not _NO_ID:
        if not isinstance(docid, str):
            raise InvalidType(f"_id must be a str, not {type(docid).__name__}")
        if not docid:
            raise InvalidArgument("_id must not be empty (leave it out to let CouchDB pick one)")
    return doc


_NO_ID = object()


def doc_id(doc: object) -> str:
    """The id of a document given as a dict or as its id."""
    if isinstance(doc, str):
        if not doc:
            raise InvalidArgument("document id must not be empty")
        return doc
    docid = _check_doc(doc).get("_id")
    if not isinstance(docid, str) or not docid:
        raise InvalidArgument("the document has no _id")
    return docid


def doc_id_rev(doc: object) -> tuple[str, str]:
    """The ``_id`` and ``_rev`` of a stored document, both required."""
    docid = doc_id(_check_doc(doc))
    rev = doc.get("_rev")  # type: ignore[union-attr]
    if not isinstance(rev, str) or not rev:
        raise InvalidArgument(f"document {docid!r} has no _rev")
    return docid, rev


def _write_back(docs: list[Any], results: list[Any]) -> None:
    """Put each successful result's rev (and new id) into its document."""
    positional = len(docs) == len(results) and all(
        "_id" not in doc or doc["_id"] == res.get("id") for doc, res in zip(docs, results)
    )
    if positional:
        pairs = zip(docs, results)
    else:  # some servers answer in another order: match by id
        by_id = {res.get("id"): res for res in results}
        pairs = ((doc, by_id.get(doc.get("_id"))) for doc in docs if "_id" in doc)
    for doc, res in pairs:
        if res and "rev" in res and "error" not in res:
            doc["_rev"] = res["rev"]
            doc.setdefault("_id", res.get("id"))


class Documents:
    _http: Http
    _path: str

    async def get(self, id: str, rev: str | None = None, **params: Any) -> Any:
        """``GET /{db}/{docid}``: a document (``revs``, ``conflicts``, ``open_revs``...)."""
        segment = doc_segment(id)
        if rev is not None:
            params["rev"] = rev
        check_params(params, DOC_PARAMS, "document")
        return await self._http.json("GET", f"{self._path}/{segment}", query_string(params, DOC_PARAMS))

    async def save(self, doc: MutableMapping[str, Any], **params: Any) -> Any:
        """Store a document; the new ``_rev`` (and a new ``_id``) is written into ``doc``.

        ``PUT /{db}/{docid}`` for a document with an ``_id``, ``POST /{db}`` for
        one without (CouchDB picks the id). A dict ``{"docs": [...]}`` goes to
        ``POST /{db}/_bulk_docs``: each document gets its rev, and the per-document
        results are returned (an ``error`` in one result is not raised). Options:
        ``batch="ok"``, ``new_edits=False`` (and ``all_or_nothing`` for bulk).
        """
        _check_doc(doc)
        if "docs" in doc and "_id" not in doc:
            return await self._bulk_save(doc, params)
        check_params(params, WRITE_PARAMS, "save")
        query = query_string(params)
        docid = doc.get("_id")
        if docid is None:
            result = await self._http.json("POST", self._path, query, doc)
        else:
            result = await self._http.json("PUT", f"{self._path}/{doc_segment(docid)}", query, doc)
        if "rev" in result:
            doc["_rev"] = result["rev"]
        if "id" in result:  # with batch=ok CouchDB answers 202 with the id and no rev
            doc.setdefault("_id", result["id"])
        return result

    async def _bulk_save(self, request: MutableMapping[str, Any], params: dict[str, Any]) -> Any:
        docs = request["docs"]
        if not isinstance(docs, list):
            raise InvalidType(f"docs must be a list, not {type(docs).__name__}")
        for doc in docs:
            _check_doc(doc)
        body = {**request, **params}
        check_params({k: v for k, v in body.items() if k != "docs"}, _BULK_PARAMS, "_bulk_docs")
        results = await self._http.json("POST", f"{self._path}/_bulk_docs", "", body)
        _write_back(docs, results)
        return results

    async def delete(self, doc: MutableMapping[str, Any]) -> Any:
        """``DELETE /{db}/{docid}?rev=``: delete a document; its tombstone rev is written back."""
        docid, rev = doc_id_rev(doc)
        result = await self._http.json("DELETE", f"{self._path}/{doc_segment(docid)}", query_string({"rev": rev}))
        doc["_rev"] = result["rev"]
        return result
