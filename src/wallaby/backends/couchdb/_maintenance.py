"""Housekeeping of a database: compaction, view index cleanup, full commit.

CouchDB reads these POSTs only with ``Content-Type: application/json``
(415 otherwise), though they carry no body; they start work in the
background and answer ``{"ok": true}`` at once (202).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import InvalidArgument, InvalidType
from ._json import loads
from ._urls import doc_segment

if TYPE_CHECKING:
    from ._http import Http

__all__ = ["Maintenance"]

_JSON = "application/json"
_DESIGN = "_design/"


class Maintenance:
    _http: Http
    _path: str

    async def _post_empty(self, endpoint: str) -> dict[str, Any]:
        response = await self._http.send("POST", f"{self._path}/{endpoint}", body=b"", content_type=_JSON)
        raw = await response.read()
        return loads(raw) if raw else {}

    async def compact(self, ddoc: str | None = None) -> dict[str, Any]:
        """``POST /{db}/_compact``: compact the database; ``POST /{db}/_compact/{ddoc}``: a design doc's views.

        ``ddoc`` is the design document's name, with or without ``_design/``.
        Compaction runs in the background (see ``info()["compact_running"]``).
        """
        if ddoc is None:
            return await self._post_empty("_compact")
        if not isinstance(ddoc, str):
            raise InvalidType(f"ddoc must be a str, not {type(ddoc).__name__}")
        name = ddoc[len(_DESIGN):] if ddoc.startswith(_DESIGN) else ddoc
        if not name:
            raise InvalidArgument("ddoc must name a design document")
        return await self._post_empty("_compact/" + doc_segment(_DESIGN + name)[len(_DESIGN):])

    async def view_cleanup(self) -> dict[str, Any]:
        """``POST /{db}/_view_cleanup``: delete the index files no design document uses any more."""
        return await self._post_empty("_view_cleanup")

    async def ensure_full_commit(self) -> dict[str, Any]:
        """``POST /{db}/_ensure_full_commit``: a no-op kept for old replicators (CouchDB 3 commits every write)."""
        return await self._post_empty("_ensure_full_commit")
