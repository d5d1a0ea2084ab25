"""A database's revision trees: ``_revs_diff``, ``_missing_revs``, ``_purge``, ``_revs_limit``.

Rules kept here:

- The three POSTs take ``{docid: [rev, ...]}``; anything else (a rev given
  as a bare str, an empty id, a non-str rev) is refused before sending.
- ``_revs_limit`` is a bare JSON number, read and written as an int.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._core.checks import whole_number
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType, ProtocolError

__all__ = ["Revisions", "revs_mapping"]


def revs_mapping(revs: object) -> dict[str, list[str]]:
    """``{docid: [rev, ...]}`` checked and copied, as ``_revs_diff``/``_missing_revs``/``_purge`` read it."""
    if not isinstance(revs, Mapping):
        raise InvalidType(f"revs must be a dict of {{docid: [rev, ...]}}, not {type(revs).__name__}")
    checked: dict[str, list[str]] = {}
    for docid, doc_revs in revs.items():
        if not isinstance(docid, str):
            raise InvalidType(f"revs must be keyed by document id (str), not {type(docid).__name__}")
        if not docid:
            raise InvalidArgument("revs has an empty document id")
        if not isinstance(doc_revs, (list, tuple)):
            raise InvalidType(f"the revs of {docid!r} must be a list of revs, not {type(doc_revs).__name__}")
        for rev in doc_revs:
            if not isinstance(rev, str) or not rev:
                raise InvalidType(f"the revs of {docid!r} must be non-empty str, not {rev!r}")
        checked[docid] = list(doc_revs)
    return checked


class Revisions(Resource):
    async def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """``POST /{db}/_revs_diff``: which of these revs the database lacks.

        ``{docid: [rev, ...]}`` in, ``{docid: {"missing": [...],
        "possible_ancestors": [...]}}`` out, for the documents with a missing rev.
        """
        return await self._client.json_dict("POST", f"{self._path}/_revs_diff", "", revs_mapping(revs))

    async def missing_revs(self, revs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """``POST /{db}/_missing_revs``: ``{docid: [missing rev, ...]}`` for these revs (CouchDB's ``missing_revs``)."""
        result = await self._client.json_dict("POST", f"{self._path}/_missing_revs", "", revs_mapping(revs))
        missing: dict[str, list[str]] = result["missing_revs"]
        return missing

    async def purge(self, revs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """``POST /{db}/_purge``: remove these leaf revisions for good, as if never written.

        Returns ``{"purge_seq": ..., "purged": {docid: [rev, ...]}}``: the revs
        that were purged (none for an unknown document or rev). Admins only.
        """
        return await self._client.json_dict("POST", f"{self._path}/_purge", "", revs_mapping(revs))

    async def revs_limit(self) -> int:
        """``GET /{db}/_revs_limit``: how many revisions of each document's history are kept."""
        path = f"{self._path}/_revs_limit"
        limit = await self._client.json("GET", path)
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ProtocolError(
                f"_revs_limit answered {limit!r}, not a number", method="GET", url=self._client.url(path)
            )
        return limit

    async def set_revs_limit(self, limit: int) -> dict[str, Any]:
        """``PUT /{db}/_revs_limit``: keep ``limit`` revisions of history (a positive int)."""
        whole_number(limit, "revs limit", 1)
        return await self._client.json_dict("PUT", f"{self._path}/_revs_limit", "", limit)
