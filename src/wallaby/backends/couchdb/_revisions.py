"""A database's revision trees: ``_revs_diff``, ``_missing_revs``, ``_purge``, ``_revs_limit``.

Rules kept here:

- The three POSTs take ``{docid: [rev, ...]}``; anything else (a rev given
  as a bare str, an empty id, a non-str rev) is refused before sending.
- ``_revs_limit`` is a bare JSON number, read and written as an int.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ._errors import InvalidArgument, InvalidType

if TYPE_CHECKING:
    from ._http import Http

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


class Revisions:
    _http: Http
    _path: str

    async def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """``POST /{db}/_revs_diff``: which of these revs the database lacks.

        ``{docid: [rev, ...]}`` in, ``{docid: {"missing": [...],
        "possible_ancestors": [...]}}`` out, for the documents with a missing rev.
        """
        return await self._http.json("POST", f"{self._path}/_revs_diff", "", revs_mapping(revs))  # type: ignore[no-any-return]

    async def missing_revs(self, revs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """``POST /{db}/_missing_revs``: ``{docid: [missing rev, ...]}`` for these revs (CouchDB's ``missing_revs``)."""
        result = await self._http.json("POST", f"{self._path}/_missing_revs", "", revs_mapping(revs))
        return result["missing_revs"]  # type: ignore[no-any-return]

    async def purge(self, revs: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """``POST /{db}/_purge``: remove these leaf revisions for good, as if never written.

        Returns ``{"purge_seq": ..., "purged": {docid: [rev, ...]}}``: the revs
        that were purged (none for an unknown document or rev). Admins only.
        """
        return await self._http.json("POST", f"{self._path}/_purge", "", revs_mapping(revs))  # type: ignore[no-any-return]

    async def revs_limit(self) -> int:
        """``GET /{db}/_revs_limit``: how many revisions of each document's history are kept."""
        return await self._http.json("GET", f"{self._path}/_revs_limit")  # type: ignore[no-any-return]

    async def set_revs_limit(self, limit: int) -> dict[str, Any]:
        """``PUT /{db}/_revs_limit``: keep ``limit`` revisions of history (a positive int)."""
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise InvalidType(f"revs limit must be an int, not {type(limit).__name__}")
        if limit < 1:
            raise InvalidArgument(f"revs limit must be at least 1, not {limit}")
        return await self._http.json("PUT", f"{self._path}/_revs_limit", "", limit)  # type: ignore[no-any-return]
