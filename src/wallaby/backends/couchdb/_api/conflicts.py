"""Conflicts: list a document's conflicting revisions, and resolve them in one bulk request.

Rules kept here:

- A conflict is a live (not deleted) leaf revision other than the winner;
  deleted leaves are not conflicts and are left alone.
- Resolving keeps one leaf and deletes every other live leaf, all in ONE
  ``POST /{db}/_bulk_docs``; per-document failures (a leaf changed meanwhile)
  come back in its results, not as an exception.
- A chooser sees every live leaf and returns the one to keep. It may return
  that leaf changed (a merge): the change is saved onto that leaf in the same
  request. It must keep the leaf's ``_id`` and ``_rev``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._core.checks import doc_id
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType, NotFound
from .._core.params import query_string
from .._core.urls import doc_segment

__all__ = ["Chooser", "Conflicts"]

Chooser = Callable[[list[dict[str, Any]]], Any]


def _deletion(docid: str, rev: str) -> dict[str, Any]:
    return {"_id": docid, "_rev": rev, "_deleted": True}


class Conflicts(Resource):
    async def conflicts(self, id: str) -> list[str]:
        """``GET /{db}/{docid}?conflicts=true``: the revs of the leaves that lost to the current one."""
        path = f"{self._path}/{doc_segment(doc_id(id))}"
        doc = await self._client.json_dict("GET", path, query_string({"conflicts": True}))
        return list(doc.get("_conflicts", ()))

    async def resolve_conflicts(self, id: str, choose: Chooser | None = None) -> list[dict[str, Any]]:
        """Keep one leaf of a conflicted document, delete the others in one ``POST /{db}/_bulk_docs``.

        Without ``choose`` CouchDB's winner is kept (``GET ?conflicts=true``).
        With it, every live leaf is fetched (``GET ?open_revs=all``) and
        ``choose(leaves)`` returns the document to keep: one of the leaves, or
        one changed (a merge; it keeps that leaf's ``_id`` and ``_rev``), which
        is then saved too. ``choose`` may return an awaitable. The result is
        ``_bulk_docs``'s per-document results, ``[]`` when there was nothing to do.
        """
        docid = doc_id(id)
        if choose is not None and not callable(choose):
            raise InvalidType(f"choose must be a function, not {type(choose).__name__}")
        path = f"{self._path}/{doc_segment(docid)}"
        if choose is None:
            doc = await self._client.json_dict("GET", path, query_string({"conflicts": True}))
            writes = [_deletion(docid, rev) for rev in doc.get("_conflicts", ())]
        else:
            writes = await self._chosen(docid, path, choose)
        if not writes:
            return []
        return await self._client.json_list("POST", f"{self._path}/_bulk_docs", "", {"docs": writes})

    async def _chosen(self, docid: str, path: str, choose: Chooser) -> list[dict[str, Any]]:
        answer = await self._client.json_list("GET", path, query_string({"open_revs": "all"}))
        leaves = [item["ok"] for item in answer if "ok" in item and not item["ok"].get("_deleted")]
        if not leaves:
            raise NotFound("missing", status=404, error="not_found", method="GET", url=self._client.url(path))
        if len(leaves) == 1:
            return []
        by_rev = {leaf["_rev"]: leaf for leaf in leaves}
        kept = choose([dict(leaf) for leaf in leaves])
        if self._client.runtime.is_awaitable(kept):
            kept = await kept
        if not isinstance(kept, Mapping):
            raise InvalidType(f"choose must return one of the leaf documents, not {type(kept).__name__}")
        rev = kept.get("_rev")
        if kept.get("_id") != docid or rev not in by_rev:
            raise InvalidArgument(
                f"choose must return a leaf of {docid!r} (with its _id and one of the revs {sorted(by_rev)}), "
                f"not _id={kept.get('_id')!r} _rev={rev!r}"
            )
        writes = [_deletion(docid, other) for other in by_rev if other != rev]
        if dict(kept) != by_rev[rev]:
            writes.insert(0, dict(kept))
        return writes
