"""Attachments of a document: put, get, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, MutableMapping

from ._documents import doc_id, doc_id_rev
from ._errors import InvalidArgument, InvalidType
from ._json import loads
from ._params import query_string
from ._urls import attachment_segment, doc_segment

if TYPE_CHECKING:
    from ._http import Http

__all__ = ["Attachments"]


class Attachments:
    _http: Http
    _path: str

    def _attachment_path(self, docid: str, name: str) -> str:
        return f"{self._path}/{doc_segment(docid)}/{attachment_segment(name)}"

    async def put_attachment(
        self,
        doc: MutableMapping[str, Any],
        name: str,
        data: bytes | str,
        contentType: str | None = None,
        *,
        content_type: str | None = None,
    ) -> Any:
        """``PUT /{db}/{docid}/{attname}?rev=``: add or replace an attachment.

        ``doc`` is the document (its ``_rev`` is sent and the new one written
        back) or, for a document that does not exist yet, a dict with only an
        ``_id``. A ``str`` is sent as UTF-8 text.
        """
        if contentType is not None and content_type is not None and contentType != content_type:
            raise InvalidArgument("give contentType or content_type, not both")
        content_type = content_type or contentType
        if isinstance(data, str):
            data = data.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        elif isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        elif not isinstance(data, bytes):
            raise InvalidType(f"attachment data must be bytes or str, not {type(data).__name__}")
        if content_type is not None and not isinstance(content_type, str):
            raise InvalidType("content_type must be a str")
        if not isinstance(doc, MutableMapping):
            raise InvalidType(f"a document must be a dict, not {type(doc).__name__}")
        docid = doc_id(doc)
        rev = doc.get("_rev")
        path = self._attachment_path(docid, name)
        response = await self._http.send(
            "PUT",
            path,
            query_string({"rev": rev}),
            body=data,
            content_type=content_type or "application/octet-stream",
        )
        result = loads(await response.read())
        doc["_rev"] = result["rev"]
        return result

    async def get_attachment(self, doc: MutableMapping[str, Any] | str, name: str, rev: str | None = None) -> bytes:
        """``GET /{db}/{docid}/{attname}``: the attachment's bytes (``doc`` may be an id)."""
        response = await self._http.send("GET", self._attachment_path(doc_id(doc), name), query_string({"rev": rev}))
        return await response.read()

    async def delete_attachment(self, doc: MutableMapping[str, Any], name: str) -> Any:
        """``DELETE /{db}/{docid}/{attname}?rev=``: remove an attachment; the new rev is written back."""
        docid, rev = doc_id_rev(doc)
        result = await self._http.json("DELETE", self._attachment_path(docid, name), query_string({"rev": rev}))
        doc["_rev"] = result["rev"]
        return result
