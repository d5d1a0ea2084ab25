"""The path of a view under its database (``_views.view_path``)."""

from __future__ import annotations

import pytest

import wire
from wallaby.backends.couchdb._core.errors import InvalidArgument, InvalidType
from wallaby.backends.couchdb._core.urls import view_path


@pytest.mark.parametrize(
    ("path", "encoded"),
    [
        ("_design/wire/_view/by_n", "_design/wire/_view/by_n"),
        ("wire/by_n", "_design/wire/_view/by_n"),
        ("_all_docs", "_all_docs"),
        ("_design_docs", "_design_docs"),
        ("_local_docs", "_local_docs"),
        ("_design/my ddoc/_view/by name", "_design/my%20ddoc/_view/by%20name"),
        ("my ddoc/by+name", "_design/my%20ddoc/_view/by%2Bname"),
        ("_design/ünï/_view/文字", "_design/%C3%BCn%C3%AF/_view/%E6%96%87%E5%AD%97"),
        ("_design/d/_view/a/b", "_design/d/_view/a%2Fb"),
        ("d/_view", "_design/d/_view/_view"),
    ],
    ids=[
        "seed-form",
        "short-form",
        "all-docs",
        "design-docs",
        "local-docs",
        "names-encoded",
        "short-form-encoded",
        "unicode-names",
        "slash-in-view-name",
        "view-named-like-a-keyword",
    ],
)
def test_view_path_encodes_ddoc_and_view_as_one_segment_each(path, encoded):
    assert view_path(path) == encoded


@pytest.mark.parametrize(
    "path",
    [
        "",
        "by_n",
        "_design/wire",
        "_design/wire/by_n",
        "_design/wire/_view/",
        "_design//_view/by_n",
        "_design/wire/_list/l",
        "_design/wire/_show/s/doc",
        "wire/by_n/extra",
        "/wire/by_n",
        "wire/",
        "/by_n",
        "_all_docs/x",
        "_changes",
        "_design/_view",
    ],
    ids=[
        "empty",
        "no-ddoc",
        "ddoc-only",
        "no-view-keyword",
        "no-view-name",
        "no-ddoc-name",
        "list-function",
        "show-function",
        "three-parts",
        "leading-slash",
        "trailing-slash",
        "empty-ddoc",
        "builtin-with-more",
        "other-endpoint",
        "underscore-short-form",
    ],
)
def test_view_path_refuses_what_is_not_a_view(path):
    with pytest.raises(InvalidArgument) as raised:
        view_path(path)
    assert type(raised.value) is InvalidArgument
    assert repr(path) in str(raised.value)


@pytest.mark.parametrize("path", [None, b"wire/by_n", ["wire", "by_n"]], ids=["none", "bytes", "list"])
def test_view_path_refuses_a_non_str_path(path):
    with pytest.raises(InvalidType):
        view_path(path)


def _recorded_view_paths():
    """Every view path CouchDB answered, in its seed form and its short form."""
    for exchange in wire.exchanges("views.json"):
        path = exchange["request"]["path"]
        db, _, rest = path.lstrip("/").partition("/")
        parts = rest.split("/")
        if len(parts) == 4 and parts[0] == "_design" and parts[2] == "_view":
            yield f"{exchange['name']}:seed-form", rest, rest
            yield f"{exchange['name']}:short-form", f"{parts[1]}/{parts[3]}", rest


def _unique(rows):
    seen = set()
    for test_id, path, encoded in rows():
        if (path, encoded) not in seen:
            seen.add((path, encoded))
            yield test_id, path, encoded


@wire.parametrize("path, encoded", lambda: _unique(_recorded_view_paths))
def test_view_path_matches_every_recorded_view_request(path, encoded):
    assert view_path(path) == encoded
