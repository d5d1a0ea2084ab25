"""Views and ``_all_docs``: rows, with JSON-encoded keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._errors import InvalidArgument, InvalidType
from ._params import VIEW_PARAMS, check_params, query_string

if TYPE_CHECKING:
    from ._http import Http

__all__ = ["Views", "view_path"]

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


class Views:
    _http: Http
    _path: str

    async def view(self, path: str, **params: Any) -> Any:
        """``GET /{db}/_design/{ddoc}/_view/{view}``: the rows of a view.

        Every CouchDB query option is accepted as a Python value and encoded as
        CouchDB reads it (``key="a"``, ``startkey=["x", 1]``); ``count`` is the
        seed's name for ``limit``. ``keys=[...]`` is sent as a ``POST`` body.
        With ``include_count=True`` (``includeCount``) the result is
        ``(rows, total_rows)``. ``_all_docs`` works the same way.
        """
        encoded = view_path(path)
        with_count = bool(params.pop("include_count", False)) | bool(params.pop("includeCount", False))
        if "count" in params:
            if "limit" in params:
                raise InvalidArgument("give count or limit, not both")
            params["limit"] = params.pop("count")
        keys = params.pop("keys", None)
        check_params(params, VIEW_PARAMS, "view")
        query = query_string(params, VIEW_PARAMS)
        where = f"{self._path}/{encoded}"
        if keys is None:
            result = await self._http.json("GET", where, query, view=True)
        else:
            if not isinstance(keys, (list, tuple)):
                raise InvalidType(f"keys must be a list, not {type(keys).__name__}")
            result = await self._http.json("POST", where, query, {"keys": keys}, view=True)
        rows = result["rows"]
        return (rows, result.get("total_rows")) if with_count else rows
