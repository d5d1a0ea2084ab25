"""Mango: ``_find``, ``_explain`` and ``_index``.

Rules kept here:

- A query is a JSON body: the selector and options are Python values, checked
  before anything is sent (a wrong type is ``InvalidType``, an unknown option
  or a bad value ``InvalidArgument``) and sent as they are, not re-encoded.
- ``find`` returns CouchDB's whole answer (``docs``, ``bookmark``, ``warning``,
  ``execution_stats``); ``stream_find`` yields the docs as they arrive and
  puts the other members into the Stream's ``meta``.
- ``find_all`` pages through every result, one page in memory at a time at
  most (each page is itself streamed): by ``bookmark`` while the server sends
  one; a full page asks for the next, a short page is the last. A server
  that sends no bookmark (PouchDB Server) is paged with ``skip`` instead,
  until a page comes back empty (such a server may return a short page while
  more match; it skips as many rows as it was asked for per page, not as
  many documents as it answered). A bookmark that does not advance, or a page that starts again
  with the first page's first document, stops the stream with an error
  rather than yielding documents twice.
- Passing ``bookmark=`` to ``find`` on a server that answers without one
  (it ignored the bookmark and answered the first page) is an error, not a
  silent repeat. CouchDB answers a bookmark of another query with 400
  ``invalid_bookmark`` (``BadRequest``).
- Index design documents are named with or without ``_design/``; deleting
  one sends ``/_index/_design%2F{ddoc}/{type}/{name}``, the form both CouchDB
  and PouchDB Server accept (PouchDB Server refuses the others).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .._core.checks import as_list, flag, mapping, non_empty, refuse_unknown, whole_number
from .._core.client import Client, Resource
from .._core.errors import InvalidArgument, InvalidType, ProtocolError
from .._core.json import dumps
from .._core.params import query_string
from .._core.streams import Stream
from .._core.urls import ddoc_name, partition_path, segment

__all__ = ["Mango", "find_body", "index_body", "index_path"]

_DESIGN = "_design/"

# Other _find options: name -> accepted types (bool is an int, so listed apart).
_OPTIONS: Mapping[str, tuple[type, ...]] = {
    "conflicts": (bool,),
    "r": (int,),
    "update": (bool,),
    "stable": (bool,),
    "stale": (str,),
    "allow_fallback": (bool,),
}


def _sort(sort: object) -> list[Any]:
    items = as_list(sort, "sort")
    for item in items:
        if isinstance(item, str):
            continue
        if not isinstance(item, Mapping):
            raise InvalidType(f"a sort item is a field name or {{field: 'asc'|'desc'}}, not {type(item).__name__}")
        if len(item) != 1 or not all(isinstance(k, str) for k in item):
            raise InvalidArgument(f"a sort item names one field: {item!r}")
        if next(iter(item.values())) not in ("asc", "desc"):
            raise InvalidArgument(f"a sort direction is 'asc' or 'desc': {item!r}")
    return items


def _use_index(use_index: object) -> Any:
    if isinstance(use_index, str):
        if not use_index:
            raise InvalidArgument("use_index must not be empty")
        return use_index
    names = as_list(use_index, "use_index")
    if not 1 <= len(names) <= 2 or not all(isinstance(n, str) and n for n in names):
        raise InvalidArgument("use_index is a design document name or [design document, index name]")
    return names


def find_body(
    selector: object,
    fields: object = None,
    sort: object = None,
    limit: object = None,
    skip: object = None,
    use_index: object = None,
    execution_stats: object = False,
    bookmark: object = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of a ``_find`` or ``_explain`` request, checked."""
    body: dict[str, Any] = {"selector": mapping(selector, "selector")}
    if fields is not None:
        names = as_list(fields, "fields")
        if not all(isinstance(name, str) and name for name in names):
            raise InvalidType("fields must be a list of field names (str)")
        body["fields"] = names
    if sort is not None:
        body["sort"] = _sort(sort)
    if limit is not None:
        body["limit"] = whole_number(limit, "limit")
    if skip is not None:
        body["skip"] = whole_number(skip, "skip")
    if use_index is not None:
        body["use_index"] = _use_index(use_index)
    if flag(execution_stats, "execution_stats"):
        body["execution_stats"] = True
    if bookmark is not None:
        body["bookmark"] = non_empty(bookmark, "bookmark (leave it out for the first page)")
    for name, value in (options or {}).items():
        refuse_unknown([name], _OPTIONS, "_find")
        kinds = _OPTIONS[name]
        if value is None:
            continue
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise InvalidType(f"option {name} must be a {kinds[0].__name__}, not {type(value).__name__}")
        body[name] = value
    return body


def index_body(
    fields: object,
    name: object = None,
    ddoc: object = None,
    type: object = None,
    partial_filter_selector: object = None,
    partitioned: object = None,
    w: object = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /{db}/_index``, checked."""
    items = as_list(fields, "fields")
    if not items:
        raise InvalidArgument("an index needs at least one field")
    if type in (None, "json"):
        _sort(items)  # a field name or {field: direction}
    index: dict[str, Any] = {"fields": items}
    if partial_filter_selector is not None:
        index["partial_filter_selector"] = mapping(partial_filter_selector, "partial_filter_selector")
    body: dict[str, Any] = {"index": index}
    if name is not None:
        if not isinstance(name, str) or not name:
            raise InvalidType("an index name must be a non-empty str")
        body["name"] = name
    if ddoc is not None:
        body["ddoc"] = ddoc_name(ddoc)
    if type is not None:
        if not isinstance(type, str) or not type:
            raise InvalidType("an index type must be a str ('json', 'text', 'nouveau')")
        body["type"] = type
    if partitioned is not None:
        body["partitioned"] = flag(partitioned, "partitioned")
    if w is not None:
        body["w"] = whole_number(w, "w", 1)
    return body


def index_path(db_path: str, ddoc: object, name: object, type: object = "json") -> str:
    """``/{db}/_index/_design%2F{ddoc}/{type}/{name}``."""
    ddoc_segment = quote(_DESIGN, safe="") + segment(ddoc_name(ddoc), "ddoc")
    return f"{db_path}/_index/{ddoc_segment}/{segment(type, 'index type')}/{segment(name, 'index name')}"


def _first_id(doc: Any) -> Any:
    return doc.get("_id") if isinstance(doc, dict) else None


async def find_pages(
    client: Client, path: str, body: dict[str, Any], page_size: int, meta: dict[str, Any]
) -> AsyncIterator[Any]:
    """Every document that ``body`` selects, one streamed page after another."""
    bookmark: str | None = None
    skip = 0
    by_skip = False
    first_id: Any = None
    meta["paging"] = "bookmark"
    while True:
        page: dict[str, Any] = {**body, "limit": page_size}
        if by_skip:
            page["skip"] = skip
        elif bookmark is not None:
            page["bookmark"] = bookmark
        answer: dict[str, Any] = {}
        count = 0
        async for doc in client.rows("POST", path, "", dumps(page), "docs", answer):
            if count == 0:
                if skip == 0:  # the first page
                    first_id = _first_id(doc)
                elif first_id is not None and _first_id(doc) == first_id:
                    raise ProtocolError(
                        f"the server answered the first page again (document {first_id!r}): it ignores "
                        f"{'skip' if by_skip else 'the bookmark'}, so the results cannot be paged",
                        method="POST",
                        url=client.url(path),
                    )
            count += 1
            yield doc
        # A server applies skip and limit to the same sequence: the rows of its index, which
        # it may filter afterwards (PouchDB Server does for a range bound like $gt), so a
        # page stands for page_size rows even when it holds fewer documents.
        skip += page_size
        meta.update({k: v for k, v in answer.items() if k != "docs"})
        following = answer.get("bookmark")
        if not by_skip and (not isinstance(following, str) or not following):
            by_skip = True  # no bookmarks here (PouchDB Server): page on with skip
            meta["paging"] = "skip"
        if by_skip:  # such a server may answer a short page while more match: only an empty one ends
            if count == 0:
                return
            continue
        if count < page_size:
            return
        if following == bookmark:
            raise ProtocolError("the bookmark did not advance after a full page", method="POST", url=client.url(path))
        bookmark = following


class Mango(Resource):
    async def find(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = None,
        sort: Sequence[str | Mapping[str, str]] | None = None,
        limit: int | None = None,
        skip: int | None = None,
        use_index: str | Sequence[str] | None = None,
        execution_stats: bool = False,
        bookmark: str | None = None,
        partition: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """``POST /{db}/_find``: the documents a Mango selector matches.

        Returns CouchDB's answer: ``docs``, ``bookmark`` (pass it back as
        ``bookmark=`` for the next page), ``warning`` when no index fits and
        ``execution_stats`` when asked for. ``sort`` is a list of field names
        or ``{field: "asc"|"desc"}``; ``use_index`` a design document or
        ``[ddoc, index]``. Other options: ``conflicts``, ``r``, ``update``,
        ``stable``, ``stale``, ``allow_fallback``. ``partition=`` queries one
        partition (``/{db}/_partition/{p}/_find``). A bookmark the server
        ignored (it answered without one) raises ``ProtocolError``.
        """
        body = find_body(selector, fields, sort, limit, skip, use_index, execution_stats, bookmark, options)
        path = f"{partition_path(self._path, partition)}/_find"
        answer = await self._client.json_dict("POST", path, "", body)
        if bookmark is not None and "bookmark" not in answer:
            raise ProtocolError(
                "the server answered without a bookmark: it ignored the one sent and answered the first page",
                method="POST",
                url=self._client.url(path),
            )
        return answer

    def stream_find(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = None,
        sort: Sequence[str | Mapping[str, str]] | None = None,
        limit: int | None = None,
        skip: int | None = None,
        use_index: str | Sequence[str] | None = None,
        execution_stats: bool = False,
        bookmark: str | None = None,
        partition: str | None = None,
        **options: Any,
    ) -> Stream[dict[str, Any]]:
        """``POST /{db}/_find`` as a Stream of documents, read as they arrive.

        The options of ``find()``. ``meta`` gets ``bookmark``, ``warning`` and
        ``execution_stats`` once the last document is read.
        """
        body = find_body(selector, fields, sort, limit, skip, use_index, execution_stats, bookmark, options)
        path = f"{partition_path(self._path, partition)}/_find"
        return self._client.stream_rows("POST", path, "", dumps(body), "docs")

    def find_all(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = None,
        sort: Sequence[str | Mapping[str, str]] | None = None,
        page_size: int = 200,
        use_index: str | Sequence[str] | None = None,
        partition: str | None = None,
        **options: Any,
    ) -> Stream[dict[str, Any]]:
        """``POST /{db}/_find`` page after page: a Stream of every matching document.

        Pages of ``page_size`` documents are requested one after another with
        the ``bookmark`` of the page before, each streamed, so memory holds
        one document at a time whatever the number of results. A server that
        sends no bookmark (PouchDB Server) is paged with ``skip``. ``meta``
        gets the last ``bookmark``, any ``warning`` and ``paging``
        (``"bookmark"`` or ``"skip"``). A server that answers the first page
        again raises ``ProtocolError`` instead of repeating documents.
        """
        if whole_number(page_size, "page_size") == 0:
            raise InvalidArgument("page_size must be at least 1")
        for name in ("limit", "skip", "bookmark", "execution_stats"):
            if name in options:
                raise InvalidArgument(f"find_all pages by itself: {name} cannot be given")
        body = find_body(selector, fields, sort, use_index=use_index, options=options)
        path = f"{partition_path(self._path, partition)}/_find"
        meta: dict[str, Any] = {}
        return self._client.stream(find_pages(self._client, path, body, page_size, meta), meta)

    async def explain(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = None,
        sort: Sequence[str | Mapping[str, str]] | None = None,
        limit: int | None = None,
        skip: int | None = None,
        use_index: str | Sequence[str] | None = None,
        bookmark: str | None = None,
        partition: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """``POST /{db}/_explain``: which index a ``find()`` with these arguments would use, and how."""
        body = find_body(selector, fields, sort, limit, skip, use_index, False, bookmark, options)
        path = f"{partition_path(self._path, partition)}/_explain"
        return await self._client.json_dict("POST", path, "", body)

    async def create_index(
        self,
        fields: Sequence[str | Mapping[str, str]],
        name: str | None = None,
        ddoc: str | None = None,
        type: str | None = None,
        partial_filter_selector: Mapping[str, Any] | None = None,
        partitioned: bool | None = None,
        w: int | None = None,
    ) -> dict[str, Any]:
        """``POST /{db}/_index``: create a Mango index (nothing changes if it exists).

        ``fields`` are field names or ``{field: "asc"|"desc"}``; ``ddoc`` (with
        or without ``_design/``) and ``name`` are chosen by CouchDB when left
        out; ``type`` is CouchDB's default, ``"json"``, unless given (``"text"``
        and ``"nouveau"`` need a search service). ``partial_filter_selector``
        limits the index to the documents it matches; ``partitioned=False``
        makes a global index in a partitioned database. ``w``: on a cluster,
        how many copies of the design document must be written before CouchDB
        answers (2 unless told). Returns
        ``{"result": "created"|"exists", "id", "name"}``: CouchDB answers
        ``exists`` (and writes nothing) only for the definition spelled as it
        was stored; ``"n"`` after ``{"n": "asc"}`` is ``created``, the design
        document written again.
        """
        body = index_body(fields, name, ddoc, type, partial_filter_selector, partitioned, w)
        return await self._client.json_dict("POST", f"{self._path}/_index", "", body)

    async def indexes(self, limit: int | None = None, skip: int | None = None) -> list[dict[str, Any]]:
        """``GET /{db}/_index``: the database's Mango indexes, ``_all_docs`` (type ``special``) first."""
        params = {
            "limit": None if limit is None else whole_number(limit, "limit"),
            "skip": None if skip is None else whole_number(skip, "skip"),
        }
        answer = await self._client.json_dict("GET", f"{self._path}/_index", query_string(params))
        indexes: list[dict[str, Any]] = answer["indexes"]
        return indexes

    async def delete_index(self, ddoc: str, name: str, type: str = "json") -> dict[str, Any]:
        """``DELETE /{db}/_index/{ddoc}/{type}/{name}``: delete a Mango index; ``ddoc`` with or without ``_design/``."""
        return await self._client.json_dict("DELETE", index_path(self._path, ddoc, name, type))
