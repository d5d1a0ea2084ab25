"""Query strings: Python values in, the text CouchDB reads out (``_params.py``)."""

from __future__ import annotations

import json

import pytest

import wire
from wallaby.backends.couchdb._core.errors import InvalidArgument, InvalidType
from wallaby.backends.couchdb._core.params import DOC, VIEW, Options, query_string

# The options of GET /{db}/_changes as the recorder sent them (the library POSTs doc_ids)
CHANGES = Options(
    "changes",
    text=(
        "conflicts",
        "descending",
        "feed",
        "filter",
        "heartbeat",
        "include_docs",
        "attachments",
        "att_encoding_info",
        "last-event-id",
        "limit",
        "style",
        "since",
        "timeout",
        "view",
        "seq_interval",
    ),
    json=("doc_ids",),
)

# --- query_string ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({}, ""),
        ({"limit": 10}, "?limit=10"),
        ({"skip": 0}, "?skip=0"),
        ({"descending": True}, "?descending=true"),
        ({"include_docs": False}, "?include_docs=false"),
        ({"stale": "ok", "update": "lazy"}, "?stale=ok&update=lazy"),
        ({"limit": 2, "skip": 1, "reduce": False}, "?limit=2&skip=1&reduce=false"),
        ({"startkey_docid": "a/b c"}, "?startkey_docid=a%2Fb%20c"),
        ({"endkey_docid": "ü"}, "?endkey_docid=%C3%BC"),
    ],
    ids=[
        "none",
        "number",
        "zero-is-sent",
        "true",
        "false",
        "text-as-is",
        "order-kept",
        "text-percent-encoded",
        "text-as-utf8",
    ],
)
def test_query_string_sends_plain_values_as_text(params, query):
    assert VIEW.query(params) == query


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"key": "a"}, "?key=%22a%22"),
        ({"key": 3}, "?key=3"),
        ({"key": 1.5}, "?key=1.5"),
        ({"key": True}, "?key=true"),
        ({"key": None}, "?key=null"),
        ({"key": ["a", 3]}, "?key=%5B%22a%22%2C3%5D"),
        ({"startkey": ["b"], "endkey": ["b", {}]}, "?startkey=%5B%22b%22%5D&endkey=%5B%22b%22%2C%7B%7D%5D"),
        ({"start_key": "b", "end_key": "b\ufff0"}, "?start_key=%22b%22&end_key=%22b%EF%BF%B0%22"),
        ({"keys": [5, 1, 99]}, "?keys=%5B5%2C1%2C99%5D"),
        ({"key": 'say "hi"'}, "?key=%22say%20%5C%22hi%5C%22%22"),
    ],
    ids=[
        "string-quoted",
        "number",
        "float",
        "bool",
        "none-is-null",
        "array",
        "array-range",
        "start-key-spelling",
        "keys",
        "quotes-escaped",
    ],
)
def test_query_string_json_encodes_what_couchdb_reads_as_json(params, query):
    assert VIEW.query(params) == query


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"limit": None}, ""),
        ({"limit": None, "skip": 2}, "?skip=2"),
        ({"rev": None}, ""),
    ],
    ids=["only-none", "none-among-others", "doc-param"],
)
def test_query_string_leaves_out_none_for_a_plain_parameter(params, query):
    assert Options("any", text=VIEW.known | DOC.known, json=VIEW.json | DOC.json).query(params) == query


def test_options_encode_only_their_json_names_as_json():
    assert CHANGES.query({"doc_ids": ["a"], "filter": "_doc_ids"}) == "?doc_ids=%5B%22a%22%5D&filter=_doc_ids"


def test_query_string_sends_everything_as_text_without_json_names():
    assert query_string({"rev": "1-abc", "batch": "ok"}) == "?rev=1-abc&batch=ok"


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"open_revs": "all"}, "?open_revs=all"),
        ({"open_revs": ["1-a", "2-b"]}, "?open_revs=%5B%221-a%22%2C%222-b%22%5D"),
        ({"atts_since": ["1-a"]}, "?atts_since=%5B%221-a%22%5D"),
    ],
    ids=["open-revs-all-is-a-word", "open-revs-list-is-json", "atts-since-is-json"],
)
def test_query_string_encodes_document_options_as_couchdb_reads_them(params, query):
    assert DOC.query(params) == query


@pytest.mark.parametrize(
    "value",
    [object(), {1: "non-str key"}, b"bytes", {"a": {1, 2}}],
    ids=["object", "non-str-key", "bytes", "set-inside"],
)
def test_query_string_refuses_a_json_value_json_cannot_hold(value):
    with pytest.raises(InvalidArgument):
        VIEW.query({"key": value})


@pytest.mark.xfail(strict=True, reason="orjson writes NaN and infinities as null; _json.dumps does not check")
@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "infinity"])
def test_query_string_refuses_a_number_json_cannot_hold(value):
    with pytest.raises(InvalidArgument):
        VIEW.query({"key": value})


@pytest.mark.parametrize(
    "value",
    [[1], {"a": 1}, b"1-abc", object()],
    ids=["list", "dict", "bytes", "object"],
)
def test_query_string_refuses_a_plain_value_that_is_not_text_number_or_bool(value):
    with pytest.raises(InvalidType, match="limit"):
        VIEW.query({"limit": value})


# --- Options.check ------------------------------------------------------------------


def test_options_check_accepts_known_names():
    VIEW.check({"limit": 1, "key": "a", "include_docs": True})


def test_options_check_accepts_no_params():
    VIEW.check({})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limitt": 1}, "unknown view option: limitt"),
        ({"zeta": 1, "limit": 1, "alpha": 2}, "unknown view options: alpha, zeta"),
        ({"count": 5}, "unknown view option: count"),
    ],
    ids=["one", "several-sorted", "seed-name-not-translated-here"],
)
def test_options_check_names_every_unknown_option(params, message):
    with pytest.raises(InvalidArgument) as raised:
        VIEW.check(params)
    assert str(raised.value) == message


def test_options_check_error_names_what_was_checked():
    with pytest.raises(InvalidArgument, match="unknown changes option: key"):
        CHANGES.check({"key": "a"})


# --- against the recorded exchanges ------------------------------------------------


_WORDS = {("open_revs", "all")}  # JSON parameters that also take a bare word


class _Malformed(ValueError):
    """A value the recorder sent malformed on purpose (``key=abc``)."""


def _python_value(name, text, as_json):
    """What a caller passes to get the recorded query value."""
    if as_json:
        if (name, text) in _WORDS:
            return text
        try:
            return json.loads(text)
        except ValueError:
            raise _Malformed(text) from None
    if text in ("true", "false"):
        return text == "true"
    if text.lstrip("-").isdigit():
        return int(text)
    return text


def _recorded_queries(files, known, keep):
    for file in files:
        for exchange in wire.exchanges(file):
            request = exchange["request"]
            query = request["query"]
            path = request["path"]
            if not isinstance(query, dict) or not query or not keep(path):
                continue
            if not all(name in known.known for name in query):
                continue
            try:
                params = {name: _python_value(name, text, name in known.json) for name, text in query.items()}
            except _Malformed:
                continue
            recorded = request["target"][len(path) :]
            yield f"{file}:{exchange['name']}", params, recorded


def _view_queries():
    def is_view(path):
        return "/_view/" in path and not path.endswith("/queries") or path.endswith("/_all_docs")

    files = ("views.json", "documents.json", "partitioned.json", "misc.json")
    return _recorded_queries(files, VIEW, is_view)


@wire.parametrize("params, recorded", _view_queries)
def test_query_string_reproduces_every_recorded_view_query(params, recorded):
    assert VIEW.query(params) == recorded


def _changes_queries():
    return _recorded_queries(("changes.json",), CHANGES, lambda path: path.endswith("/_changes"))


@wire.parametrize("params, recorded", _changes_queries)
def test_query_string_reproduces_every_recorded_changes_query(params, recorded):
    assert CHANGES.query(params) == recorded


def _document_queries():
    def is_doc(path):
        parts = path.lstrip("/").split("/")
        return len(parts) == 2 and not parts[1].startswith("_") or len(parts) == 3 and parts[1] == "_local"

    return _recorded_queries(("documents.json", "attachments.json"), DOC, is_doc)


@wire.parametrize("params, recorded", _document_queries)
def test_query_string_reproduces_every_recorded_document_query(params, recorded):
    assert DOC.query(params) == recorded
