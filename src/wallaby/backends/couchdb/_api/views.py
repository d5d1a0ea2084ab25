"""Views and ``_all_docs``: rows, with JSON-encoded keys.

Rules kept here:

- Every option CouchDB reads as JSON (``key``, ``startkey``, ``keys``...) is
  given as a Python value and encoded here; ``count`` is the seed's name for
  ``limit``; ``keys`` is sent as a ``POST`` body.
- ``_all_docs``, ``_design_docs`` and ``_local_docs`` are views: they take
  every view option and go the same way.
- A failed query raises the ``View*`` twin of its error (``ViewNotFound`` is
  a ``NotFound`` and a ``ViewError``).
"""

from __future__ import annotations

from typing import Any

from .._core.checks import as_list
from .._core.client import Resource
from .._core.errors import InvalidArgument
from .._core.json import JSON_TYPE, dumps, loads
from .._core.params import VIEW
from .._core.streams import Stream
from .._core.urls import partition_path, view_path

__all__ = ["ViewQuery", "Views"]


class ViewQuery:
    """A view query checked and encoded: GET with a query string, or POST with ``keys``."""

    __slots__ = ("where", "query", "body", "with_count")

    def __init__(self, db_path: str, path: str, params: dict[str, Any]) -> None:
        encoded = view_path(path)
        self.with_count = bool(params.pop("include_count", False)) | bool(params.pop("includeCount", False))
        if "count" in params:
            if "limit" in params:
                raise InvalidArgument("give count or limit, not both")
            params["limit"] = params.pop("count")
        keys = params.pop("keys", None)
        partition = params.pop("partition", None)
        if partition is not None and encoded in ("_design_docs", "_local_docs"):
            raise InvalidArgument(f"{encoded} has no partitioned form")
        VIEW.check(params)
        self.query = VIEW.query(params)
        self.where = f"{partition_path(db_path, partition)}/{encoded}"
        self.body = None if keys is None else dumps({"keys": as_list(keys, "keys")})

    @property
    def method(self) -> str:
        return "GET" if self.body is None else "POST"


class Views(Resource):
    async def view(self, path: str, **params: Any) -> Any:
        """``GET /{db}/_design/{ddoc}/_view/{view}``: the rows of a view.

        Every CouchDB query option is accepted as a Python value and encoded as
        CouchDB reads it (``key="a"``, ``startkey=["x", 1]``); ``count`` is the
        seed's name for ``limit``. ``keys=[...]`` is sent as a ``POST`` body.
        ``partition="p"`` queries one partition of a partitioned database
        (``/{db}/_partition/{p}/_design/...``, ``/{db}/_partition/{p}/_all_docs``).
        With ``include_count=True`` (``includeCount``) the result is
        ``(rows, total_rows)``. ``_all_docs`` works the same way.
        """
        q = ViewQuery(self._path, path, params)
        content_type = None if q.body is None else JSON_TYPE
        response = await self._client.send(
            q.method, q.where, q.query, body=q.body, content_type=content_type, view=True
        )
        result = loads(await response.read())
        rows = result["rows"]
        return (rows, result.get("total_rows")) if q.with_count else rows

    def stream_view(self, path: str, **params: Any) -> Stream[dict[str, Any]]:
        """``GET /{db}/_design/{ddoc}/_view/{view}`` as a Stream of rows, read as they arrive.

        The options of ``view()``; memory holds one row at a time, whatever
        the size of the result. ``meta`` gets ``total_rows``, ``offset`` and
        ``update_seq``. A body cut short raises ``TruncatedBody`` or ``NetworkError``.
        """
        q = ViewQuery(self._path, path, params)
        return self._client.stream_rows(q.method, q.where, q.query, q.body, "rows", view=True)

    async def all_docs(self, **params: Any) -> Any:
        """``GET /{db}/_all_docs``: a row per document, by id; ``POST`` when ``keys=`` is given.

        Every view option is accepted (``include_docs``, ``startkey``/``endkey``,
        ``key``, ``keys``, ``limit``, ``skip``, ``descending``, ``conflicts``,
        ``update_seq``...), as Python values; the result is what
        ``view("_all_docs", ...)`` returns: the rows (``(rows, total_rows)`` with
        ``include_count=True``).
        """
        return await self.view("_all_docs", **params)

    def stream_all_docs(self, **params: Any) -> Stream[dict[str, Any]]:
        """``GET /{db}/_all_docs`` (``POST`` with ``keys``) as a Stream of rows."""
        return self.stream_view("_all_docs", **params)

    async def design_docs(self, **params: Any) -> Any:
        """``GET /{db}/_design_docs``: a row per design document; the options of ``all_docs()``."""
        return await self.view("_design_docs", **params)

    async def local_docs(self, **params: Any) -> Any:
        """``GET /{db}/_local_docs``: a row per ``_local/`` document; the options of ``all_docs()``."""
        return await self.view("_local_docs", **params)
