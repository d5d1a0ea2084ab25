"""Documents one at a time: get, save, delete; HEAD (does it exist, its rev) and COPY.

Rules kept here:

- ``save`` and ``delete`` write the new ``_rev`` (and a new ``_id``) back
  into the caller's dict; a dict ``{"docs": [...]}`` goes to ``_bulk_docs``.
- CouchDB's ETag for a document is its current rev in double quotes
  (``"4-f9c2..."``). Only such a strong ETag is read as a rev; a weak one
  (``W/"..."``: PouchDB Server's body hash, or what a compressing proxy makes
  of CouchDB's) or none at all says nothing about the rev, so ``head()`` then
  reads ``_rev`` with a ``GET`` instead: its answer is a rev on every server.
- A deleted document is a missing one: ``HEAD`` answers 404 for both.
- A ``PUT`` with ``new_edits=false`` answers ``{"ok", "id", "rev"}`` on
  CouchDB and a ``_bulk_docs``-like list on PouchDB Server: both are read
  as the first (an error in the list is raised as its status).
- ``COPY``'s ``Destination`` header holds the target id encoded as one path
  segment, then ``?rev=`` to overwrite an existing target; CouchDB decodes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import quote

from .._core.checks import check_doc, doc_id, doc_id_rev, non_empty
from .._core.client import Resource
from .._core.errors import NotFound, ProtocolError, error_from_response
from .._core.params import DOC, WRITE, query_string
from .._core.urls import doc_segment
from .bulk import save_docs

__all__ = ["Documents", "put_result", "rev_from_etag"]

_REV_ETAG = re.compile(r'"(\d+-[^"\s]+)"')
_STATUS_OF_ERROR = {"unauthorized": 401, "forbidden": 403, "conflict": 409, "missing_stub": 412}


def rev_from_etag(etag: str | None) -> str | None:
    """The rev in a document's ETag, or None when the ETag is not a strong quoted rev."""
    if not etag:
        return None
    match = _REV_ETAG.fullmatch(etag.strip())
    return match.group(1) if match else None


def put_result(answer: Any, docid: str, rev: Any, url: str) -> dict[str, Any]:
    """CouchDB's ``{"ok", "id", "rev"}``; PouchDB Server answers ``new_edits=false`` as ``_bulk_docs`` does."""
    if isinstance(answer, dict):
        return answer
    if isinstance(answer, list) and isinstance(rev, str):
        for item in answer:
            if isinstance(item, dict) and "error" in item:
                status = _STATUS_OF_ERROR.get(item["error"], 400)
                raise error_from_response(status, item, "PUT", url)
        return {"ok": True, "id": docid, "rev": rev}
    raise ProtocolError(f"a document PUT answered {answer!r:.200}", method="PUT", url=url)


class Documents(Resource):
    def _doc_path(self, docid: object) -> str:
        return f"{self._path}/{doc_segment(docid)}"

    async def get(self, id: str, rev: str | None = None, **params: Any) -> Any:
        """``GET /{db}/{docid}``: a document (``revs``, ``conflicts``, ``open_revs``...).

        On a cluster CouchDB reads ``r`` copies (a majority by default) and
        answers with the newest, so a document read follows a completed write.
        """
        path = self._doc_path(id)
        if rev is not None:
            params["rev"] = rev
        DOC.check(params)
        return await self._client.json("GET", path, DOC.query(params))

    async def save(self, doc: MutableMapping[str, Any], **params: Any) -> Any:
        """Store a document; the new ``_rev`` (and a new ``_id``) is written into ``doc``.

        ``PUT /{db}/{docid}`` for a document with an ``_id``, ``POST /{db}`` for
        one without (CouchDB picks the id). A dict ``{"docs": [...]}`` goes to
        ``POST /{db}/_bulk_docs``: each document gets its rev, and the per-document
        results are returned (an ``error`` in one result is not raised). Options:
        ``batch="ok"``, ``new_edits=False``, ``w`` (on a cluster: how many copies
        must have written it before CouchDB answers; a majority by default), and
        ``all_or_nothing`` for bulk. A single document's result holds
        ``"accepted": True`` when CouchDB answered 202 (fewer than ``w`` copies
        took it, or ``batch="ok"``).
        """
        check_doc(doc)
        if "docs" in doc and "_id" not in doc:
            return await save_docs(self._client, self._path, doc, params)
        WRITE.check(params)
        query = query_string(params)
        docid = doc.get("_id")
        if docid is None:
            result = await self._client.write("POST", self._path, query, doc)
        else:
            path = self._doc_path(docid)
            url, rev = self._client.url(path, query), doc.get("_rev")
            result = await self._client.write(
                "PUT", path, query, doc, reshape=lambda answer: put_result(answer, docid, rev, url)
            )
        if "rev" in result:
            doc["_rev"] = result["rev"]
        if "id" in result:  # with batch=ok CouchDB answers 202 with the id and no rev
            doc.setdefault("_id", result["id"])
        return result

    async def delete(self, doc: MutableMapping[str, Any]) -> Any:
        """``DELETE /{db}/{docid}?rev=``: delete a document; its tombstone rev is written back."""
        docid, rev = doc_id_rev(doc)
        result = await self._client.write("DELETE", self._doc_path(docid), query_string({"rev": rev}))
        doc["_rev"] = result["rev"]
        return result

    async def _head(self, id: str | Mapping[str, Any]) -> str | None:
        """The ETag of ``HEAD /{db}/{docid}``, '' when there is none; None for a missing doc."""
        try:
            response = await self._client.send("HEAD", self._doc_path(doc_id(id)))
        except NotFound:
            return None
        await response.read()
        return response.header("ETag") or ""

    async def head(self, id: str) -> str | None:
        """``HEAD /{db}/{docid}``: the document's current rev, or None when it is missing or deleted.

        CouchDB sends the rev as the ETag, so no body is transferred. A server
        whose ETag is not the rev (PouchDB Server) costs one ``GET`` more.
        A missing database gives None too: a HEAD answer carries no reason.
        """
        etag = await self._head(id)
        if etag is None:
            return None
        rev = rev_from_etag(etag)
        if rev is not None:
            return rev
        try:
            doc = await self._client.json_dict("GET", self._doc_path(doc_id(id)))
        except NotFound:  # deleted between the two requests
            return None
        found = doc.get("_rev")
        return found if isinstance(found, str) else None

    async def exists(self, id: str) -> bool:
        """``HEAD /{db}/{docid}``: does the document exist (a deleted one, or one in a missing database, does not)."""
        return await self._head(id) is not None

    async def copy(
        self,
        source_id: str,
        dest_id: str,
        dest_rev: str | None = None,
        *,
        rev: str | None = None,
    ) -> dict[str, Any]:
        """``COPY /{db}/{docid}``: copy a document (and its attachments) to ``dest_id``.

        ``dest_rev`` is the current rev of an existing target, which the copy
        replaces (without it CouchDB answers 409 for an existing target);
        ``rev`` copies that revision of the source instead of the current one.
        CouchDB answers ``{"ok": true, "id": ..., "rev": ...}``.
        """
        source = self._doc_path(doc_id(source_id))
        destination = doc_segment(dest_id)
        if dest_rev is not None:
            destination += "?rev=" + quote(non_empty(dest_rev, "dest_rev"), safe="")
        query = query_string({"rev": None if rev is None else non_empty(rev, "rev")})
        return await self._client.write("COPY", source, query, headers={"Destination": destination})
