"""Query strings: Python values in, the text CouchDB reads out.

CouchDB reads some parameters as JSON (a view's ``key``, ``startkey``...;
a document's ``open_revs``): those are JSON-encoded here, so ``key="a"`` sends
``key=%22a%22`` (except ``open_revs="all"``, which CouchDB reads as a word).
Booleans are ``true``/``false``; other values are sent as text.
A ``None`` is left out, except for a JSON parameter, where it means ``null``.

An endpoint's ``Options`` says which names it knows (``check`` refuses the
others before anything is sent) and which of them are JSON (``query``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from .checks import refuse_unknown
from .errors import InvalidType
from .json import dumps

__all__ = ["ALL_DBS", "DOC", "Options", "VIEW", "WRITE", "query_string"]

# JSON parameters that also take a bare word: ``open_revs=all``.
_WORDS = {("open_revs", "all")}


def _text(name: str, value: Any, as_json: bool) -> str:
    if as_json and not (isinstance(value, str) and (name, value) in _WORDS):
        return dumps(value).decode()
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise InvalidType(f"option {name} must be a str, number or bool, not {type(value).__name__}")


def _encode(params: Mapping[str, Any], json: frozenset[str]) -> str:
    pieces = []
    for name, value in params.items():
        as_json = name in json
        if value is None and not as_json:
            continue
        pieces.append(f"{quote(name, safe='')}={quote(_text(name, value, as_json), safe='')}")
    return "?" + "&".join(pieces) if pieces else ""


def query_string(params: Mapping[str, Any]) -> str:
    """``?a=1&b=x`` for ``params``, every value as text; empty when there are none."""
    return _encode(params, frozenset()) if params else ""


class Options:
    """The query options of one endpoint: the names it knows, and which CouchDB reads as JSON."""

    __slots__ = ("what", "json", "known")

    def __init__(self, what: str, *, text: Iterable[str] = (), json: Iterable[str] = ()) -> None:
        self.what = what
        self.json = frozenset(json)
        self.known = frozenset(text) | self.json

    def __repr__(self) -> str:
        return f"<Options of {self.what}: {', '.join(sorted(self.known))}>"

    def check(self, params: Mapping[str, Any], what: str | None = None) -> None:
        """Refuse a name this endpoint does not know, before anything is sent."""
        if params:
            refuse_unknown(params, self.known, what or self.what)

    def query(self, params: Mapping[str, Any]) -> str:
        """The query string of ``params``, JSON names encoded as JSON (other names as text)."""
        return _encode(params, self.json) if params else ""


DOC = Options(
    "document",
    text=(
        "rev",
        "revs",
        "revs_info",
        "attachments",
        "att_encoding_info",
        "conflicts",
        "deleted_conflicts",
        "latest",
        "local_seq",
        "meta",
        "r",
    ),
    json=("open_revs", "atts_since"),
)

WRITE = Options("save", text=("batch", "new_edits", "rev", "w"))

VIEW = Options(
    "view",
    text=(
        "conflicts",
        "descending",
        "endkey_docid",
        "end_key_doc_id",
        "group",
        "group_level",
        "include_docs",
        "attachments",
        "att_encoding_info",
        "inclusive_end",
        "limit",
        "reduce",
        "skip",
        "sorted",
        "stable",
        "stale",
        "startkey_docid",
        "start_key_doc_id",
        "update",
        "update_seq",
    ),
    json=("endkey", "end_key", "key", "keys", "startkey", "start_key"),
)

# ``GET /_all_dbs`` and ``GET /_dbs_info`` page through database names alike.
ALL_DBS = Options("_all_dbs", text=("descending", "limit", "skip"), json=("endkey", "end_key", "startkey", "start_key"))
