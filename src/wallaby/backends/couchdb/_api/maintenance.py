"""Housekeeping of a database: compaction, view index cleanup, full commit.

CouchDB reads these POSTs only with ``Content-Type: application/json``
(415 otherwise), though they carry no body; they start work in the
background and answer ``{"ok": true}`` at once (202).
"""

from __future__ import annotations

from typing import Any

from .._core.client import Resource
from .._core.json import JSON_TYPE
from .._core.urls import ddoc_name, segment

__all__ = ["Maintenance"]


class Maintenance(Resource):
    async def _post_empty(self, endpoint: str) -> dict[str, Any]:
        answer = await self._client.json("POST", f"{self._path}/{endpoint}", data=b"", content_type=JSON_TYPE)
        return answer if isinstance(answer, dict) else {}

    async def compact(self, ddoc: str | None = None) -> dict[str, Any]:
        """``POST /{db}/_compact``: compact the database; ``POST /{db}/_compact/{ddoc}``: a design doc's views.

        ``ddoc`` is the design document's name, with or without ``_design/``.
        Compaction runs in the background (see ``info()["compact_running"]``).
        """
        if ddoc is None:
            return await self._post_empty("_compact")
        return await self._post_empty("_compact/" + segment(ddoc_name(ddoc), "design document name"))

    async def view_cleanup(self) -> dict[str, Any]:
        """``POST /{db}/_view_cleanup``: delete the index files no design document uses any more."""
        return await self._post_empty("_view_cleanup")

    async def ensure_full_commit(self) -> dict[str, Any]:
        """``POST /{db}/_ensure_full_commit``: a no-op kept for old replicators (CouchDB 3 commits every write)."""
        return await self._post_empty("_ensure_full_commit")
