"""Query strings: Python values in, the text CouchDB reads out.

CouchDB reads some parameters as JSON (a view's ``key``, ``startkey``...;
a document's ``open_revs``): those are JSON-encoded here, so ``key="a"`` sends
``key=%22a%22`` (except ``open_revs="all"``, which CouchDB reads as a word).
Booleans are ``true``/``false``; other values are sent as text.
A ``None`` is left out, except for a JSON parameter, where it means ``null``.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping
from urllib.parse import quote

from ._errors import InvalidArgument, InvalidType
from ._json import dumps

__all__ = [
    "DOC_PARAMS",
    "VIEW_PARAMS",
    "CHANGES_PARAMS",
    "ALL_DBS_PARAMS",
    "query_string",
    "check_params",
]

# Parameter name -> does CouchDB read it as JSON.
DOC_PARAMS: Mapping[str, bool] = {
    "rev": False,
    "revs": False,
    "revs_info": False,
    "open_revs": True,
    "atts_since": True,
    "attachments": False,
    "att_encoding_info": False,
    "conflicts": False,
    "deleted_conflicts": False,
    "latest": False,
    "local_seq": False,
    "meta": False,
}

WRITE_PARAMS: Mapping[str, bool] = {"batch": False, "new_edits": False, "rev": False}

VIEW_PARAMS: Mapping[str, bool] = {
    "conflicts": False,
    "descending": False,
    "endkey": True,
    "end_key": True,
    "endkey_docid": False,
    "end_key_doc_id": False,
    "group": False,
    "group_level": False,
    "include_docs": False,
    "attachments": False,
    "att_encoding_info": False,
    "inclusive_end": False,
    "key": True,
    "keys": True,
    "limit": False,
    "reduce": False,
    "skip": False,
    "sorted": False,
    "stable": False,
    "stale": False,
    "startkey": True,
    "start_key": True,
    "startkey_docid": False,
    "start_key_doc_id": False,
    "update": False,
    "update_seq": False,
}

# ``GET /_all_dbs`` and ``GET /_dbs_info`` page through database names alike.
ALL_DBS_PARAMS: Mapping[str, bool] = {
    "descending": False,
    "endkey": True,
    "end_key": True,
    "limit": False,
    "skip": False,
    "startkey": True,
    "start_key": True,
}

CHANGES_PARAMS: Mapping[str, bool] = {
    "doc_ids": True,
    "conflicts": False,
    "descending": False,
    "feed": False,
    "filter": False,
    "heartbeat": False,
    "include_docs": False,
    "attachments": False,
    "att_encoding_info": False,
    "last-event-id": False,
    "limit": False,
    "style": False,
    "since": False,
    "timeout": False,
    "view": False,
    "seq_interval": False,
}


def check_params(params: Mapping[str, Any], known: Mapping[str, bool], what: str) -> None:
    """Refuse a parameter name CouchDB does not know for ``what``."""
    unknown = [name for name in params if name not in known]
    if unknown:
        raise InvalidArgument(
            f"unknown {what} option{'s' if len(unknown) > 1 else ''}: {', '.join(sorted(unknown))}"
        )


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


def query_string(params: Mapping[str, Any], json_names: Mapping[str, bool] | Iterable[str] = ()) -> str:
    """``?a=1&b=%22x%22`` for ``params``; empty when there are none."""
    if not params:
        return ""
    if not isinstance(json_names, Mapping):
        json_names = dict.fromkeys(json_names, True)
    pieces = []
    for name, value in params.items():
        as_json = json_names.get(name, False)
        if value is None and not as_json:
            continue
        pieces.append(f"{quote(name, safe='')}={quote(_text(name, value, as_json), safe='')}")
    return "?" + "&".join(pieces) if pieces else ""
