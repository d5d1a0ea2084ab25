"""The options of a view query (``_all_docs`` and design views alike), read as CouchDB reads them.

Rules kept here (couch_mrview_http.erl, checked against CouchDB 3.5):

- ``key``, ``keys``, ``startkey``/``start_key``, ``endkey``/``end_key`` are
  JSON; a value that is not JSON is ``400 bad_request invalid UTF-8 JSON``.
  ``keys`` may also come as the ``{"keys": [...]}`` body of a POST (then it
  must be an array). ``key=k`` is ``startkey=endkey=k``.
- ``limit`` and ``skip`` are whole numbers ≥ 0 (``query_parse_error``
  otherwise); booleans are ``true``/``false``.
- Unknown options are ignored, as CouchDB ignores them.
- ``POST .../queries`` takes ``{"queries": [{...}, ...]}``: each query's
  options are JSON values, read as if they had come in a query string.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from .errors import BadRequest
from .requests import Request

__all__ = ["MISSING", "ViewOptions", "each_query"]

MISSING: Any = object()


def _positive(request: Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f'Invalid value for integer: "{value}"', error="query_parse_error") from None
    if number < 0:
        raise BadRequest(f'Invalid value for positive integer: "{value}"', error="query_parse_error")
    return number


class ViewOptions:
    """A view query's options; ``start``/``end`` are MISSING when not given."""

    __slots__ = (
        "start",
        "end",
        "start_docid",
        "end_docid",
        "inclusive_end",
        "descending",
        "limit",
        "skip",
        "keys",
        "include_docs",
        "conflicts",
        "attachments",
        "update_seq",
        "reduce",
        "group",
        "group_level",
        "update",
        "sorted",
        "extra",
    )

    def __init__(self) -> None:
        self.start: Any = MISSING
        self.end: Any = MISSING
        self.start_docid: str | None = None
        self.end_docid: str | None = None
        self.inclusive_end = True
        self.descending = False
        self.limit: int | None = None
        self.skip = 0
        self.keys: list[Any] | None = None
        self.include_docs = False
        self.conflicts = False
        self.attachments = False
        self.update_seq = False
        self.reduce: bool | None = None
        self.group: bool | None = None
        self.group_level: int | None = None
        self.update = "true"
        self.sorted = True
        self.extra: dict[str, Any] = {}

    @classmethod
    async def of(cls, request: Request, body: dict[str, Any] | None = None) -> ViewOptions:
        """The options of ``request`` (its query string, and a POST body's ``keys``)."""
        options = cls()
        json = request.json_option
        if "key" in request.query:
            options.start = options.end = json("key")
        for name in ("startkey", "start_key"):
            if name in request.query:
                options.start = json(name)
        for name in ("endkey", "end_key"):
            if name in request.query:
                options.end = json(name)
        options.start_docid = request.query.get("startkey_docid", request.query.get("start_key_doc_id"))
        options.end_docid = request.query.get("endkey_docid", request.query.get("end_key_doc_id"))
        if "keys" in request.query:
            keys = json("keys")
            if not isinstance(keys, list):
                raise BadRequest("`keys` member must be an array.")
            options.keys = keys
        if request.method == "POST":
            if body is None:
                raw = await request.read_body()
                body = await request.json_object() if raw else {}
            if "keys" in body:
                if not isinstance(body["keys"], list):
                    raise BadRequest("`keys` body member must be an array.")
                options.keys = body["keys"]
        options.inclusive_end = request.flag("inclusive_end", True)
        options.descending = request.flag("descending")
        options.limit = _positive(request, "limit")
        options.skip = _positive(request, "skip") or 0
        options.include_docs = request.flag("include_docs")
        options.conflicts = request.flag("conflicts")
        options.attachments = request.flag("attachments")
        options.update_seq = request.flag("update_seq")
        if "reduce" in request.query:
            options.reduce = request.flag("reduce")
        if "group" in request.query:
            options.group = request.flag("group")
        options.group_level = _positive(request, "group_level")
        options.sorted = request.flag("sorted", True)
        stale = request.query.get("stale")
        if stale in ("ok", "update_after"):
            options.update = "false" if stale == "ok" else "lazy"
        options.update = request.query.get("update", options.update)
        return options


_JSON_OPTIONS = ("key", "keys", "startkey", "start_key", "endkey", "end_key")


def _as_query_string(query: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in query.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, str) and name not in _JSON_OPTIONS:
            out[name] = value
        else:
            out[name] = orjson.dumps(value).decode()
    return out


def each_query(request: Request, body: dict[str, Any]) -> Iterator[tuple[Request, list[Any] | None]]:
    """The queries of a ``POST .../queries`` body: for each, a GET request with its options, and its keys."""
    queries = body.get("queries")
    if not isinstance(queries, list):
        raise BadRequest("Query must include a 'queries' object")
    for item in queries:
        if not isinstance(item, dict):
            raise BadRequest("Each query must be a JSON object")
        keys = item.get("keys")
        if keys is not None and not isinstance(keys, list):
            raise BadRequest("`keys` member must be an array.")
        sub = Request("GET", "/", "", {}, None, request.runtime, request.url)
        sub.query = _as_query_string({k: v for k, v in item.items() if k != "keys"})
        sub.partition = request.partition
        yield sub, keys
