"""Views and ``_all_docs``: rows, with JSON-encoded keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator
from urllib.parse import quote

from ._errors import InvalidArgument, InvalidType, TruncatedBody
from ._checks import as_list
from ._json import dumps, loads
from ._params import VIEW_PARAMS, check_params, query_string
from ._partitions import partition_path
from ._wire import RowParser

if TYPE_CHECKING:
    from ._http import Http
    from ._server import Server
    from ._streams import Stream

__all__ = ["Views", "ViewQuery", "stream_rows", "view_path"]

_BUILTIN = ("_all_docs", "_design_docs", "_local_docs")


def view_path(path: object) -> str:
    """The encoded path of a view under its database.

    ``_design/{ddoc}/_view/{view}`` (the seed's form), ``{ddoc}/{view}`` for
    short, or ``_all_docs`` / ``_design_docs`` / ``_local_docs``.
    """
    if not isinstance(path, str):
        raise InvalidType(f"a view path must be a str, not {type(path).__name__}")
    if path in _BUILTIN:
        return path
    parts = path.split("/", 3)
    if len(parts) == 4 and parts[0] == "_design" and parts[2] == "_view" and parts[1] and parts[3]:
        ddoc, view = parts[1], parts[3]
    elif len(parts) == 2 and all(parts) and not path.startswith("_"):
        ddoc, view = parts
    else:
        raise InvalidArgument(
            f"view path {path!r} is not '_design/DDOC/_view/VIEW', 'DDOC/VIEW' or '_all_docs'"
        )
    return f"_design/{quote(ddoc, safe='')}/_view/{quote(view, safe='')}"


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
        check_params(params, VIEW_PARAMS, "view")
        self.query = query_string(params, VIEW_PARAMS)
        self.where = f"{partition_path(db_path, partition)}/{encoded}"
        self.body = None
        if keys is not None:
            self.body = dumps({"keys": as_list(keys, "keys")})


async def stream_rows(
    http: Http,
    method: str,
    path: str,
    query: str,
    body: bytes | None,
    member: str,
    meta: dict[str, Any],
    view: bool = False,
) -> AsyncIterator[Any]:
    """Yield the elements of ``member`` in CouchDB's answer as they arrive; the rest goes to ``meta``."""
    response = await http.send(
        method,
        path,
        query,
        body=body,
        content_type="application/json" if body is not None else None,
        view=view,
    )
    parser = RowParser(member)
    parser.meta = meta
    try:
        async for chunk in response.chunks():
            for row in parser.feed(chunk):
                yield row
        parser.close()
    except TruncatedBody as exc:
        raise TruncatedBody(exc.reason, method=method, url=http.url(path, query)) from None
    finally:
        response.close()


class Views:
    _http: Http
    _path: str
    _server: Server

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
        if q.body is None:
            response = await self._http.send("GET", q.where, q.query, view=True)
        else:
            response = await self._http.send("POST", q.where, q.query, body=q.body, content_type="application/json", view=True)
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
        meta: dict[str, Any] = {}
        rows = stream_rows(self._http, "GET" if q.body is None else "POST", q.where, q.query, q.body, "rows", meta, view=True)
        return self._server._stream_class(self._http.runtime, rows, meta)

    def stream_all_docs(self, **params: Any) -> Stream[dict[str, Any]]:
        """``GET /{db}/_all_docs`` (``POST`` with ``keys``) as a Stream of rows."""
        return self.stream_view("_all_docs", **params)
