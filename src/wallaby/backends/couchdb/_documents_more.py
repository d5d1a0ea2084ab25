"""Documents without their bodies: ``HEAD`` (does it exist, its current rev) and ``COPY``.

Rules kept here:

- CouchDB's ETag for a document is its current rev in double quotes
  (``"4-f9c2..."``). Only such a strong ETag is read as a rev; a weak one
  (``W/"..."``: PouchDB Server's body hash, or what a compressing proxy makes
  of CouchDB's) or none at all says nothing about the rev, so ``head()`` then
  reads ``_rev`` with a ``GET`` instead: its answer is a rev on every server.
- A deleted document is a missing one: ``HEAD`` answers 404 for both.
- ``COPY``'s ``Destination`` header holds the target id encoded as one path
  segment, then ``?rev=`` to overwrite an existing target; CouchDB decodes it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

from ._documents import doc_id
from ._errors import InvalidArgument, InvalidType, NotFound
from ._json import loads
from ._params import query_string
from ._urls import doc_segment

if TYPE_CHECKING:
    from ._http import Http

__all__ = ["DocumentsMore", "rev_from_etag"]

_REV_ETAG = re.compile(r'"(\d+-[^"\s]+)"')


def rev_from_etag(etag: str | None) -> str | None:
    """The rev in a document's ETag, or None when the ETag is not a strong quoted rev."""
    if not etag:
        return None
    match = _REV_ETAG.fullmatch(etag.strip())
    return match.group(1) if match else None


def _rev_arg(rev: object, what: str) -> str | None:
    if rev is None:
        return None
    if not isinstance(rev, str):
        raise InvalidType(f"{what} must be a str, not {type(rev).__name__}")
    if not rev:
        raise InvalidArgument(f"{what} must not be empty")
    return rev


class DocumentsMore:
    _http: Http
    _path: str

    async def _head(self, id: str | Mapping[str, Any]) -> str | None:
        """The ETag of ``HEAD /{db}/{docid}``, '' when there is none; None for a missing doc."""
        segment = doc_segment(doc_id(id))
        try:
            response = await self._http.send("HEAD", f"{self._path}/{segment}")
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
            doc = await self._http.json("GET", f"{self._path}/{doc_segment(doc_id(id))}")
        except NotFound:  # deleted between the two requests
            return None
        return doc.get("_rev")

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
        source = doc_segment(doc_id(source_id))
        if not isinstance(dest_id, str):
            raise InvalidType(f"dest_id must be a str, not {type(dest_id).__name__}")
        destination = doc_segment(dest_id)
        dest_rev = _rev_arg(dest_rev, "dest_rev")
        if dest_rev is not None:
            destination += "?rev=" + quote(dest_rev, safe="")
        query = query_string({"rev": _rev_arg(rev, "rev")})
        response = await self._http.send(
            "COPY", f"{self._path}/{source}", query, headers={"Destination": destination}
        )
        raw = await response.read()
        return loads(raw) if raw else {}
