"""Documents' pure helpers: ids, revs and the ``_rev`` write-back (``_documents.py``)."""

from __future__ import annotations

import copy

import pytest

import wire
from wallaby.backends.couchdb._api.bulk import write_back as _write_back
from wallaby.backends.couchdb._core.checks import doc_id, doc_id_rev
from wallaby.backends.couchdb._core.errors import InvalidArgument, InvalidType

# --- doc_id / doc_id_rev -----------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "docid"),
    [
        ("doc1", "doc1"),
        ({"_id": "doc1"}, "doc1"),
        ({"_id": "a/b", "_rev": "1-x", "n": 1}, "a/b"),
        ("_design/d1", "_design/d1"),
    ],
    ids=["id-given", "dict", "dict-with-rev", "design-id"],
)
def test_doc_id_takes_an_id_or_a_document(doc, docid):
    assert doc_id(doc) == docid


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ("", InvalidArgument),
        ({}, InvalidArgument),
        ({"_id": ""}, InvalidArgument),
        ({"_id": None}, InvalidArgument),
        ({"_id": 5}, InvalidArgument),
        (None, InvalidType),
        (5, InvalidType),
        (["doc1"], InvalidType),
    ],
    ids=["empty-id", "no-id", "empty-id-member", "null-id", "number-id", "none", "number", "list"],
)
def test_doc_id_refuses_a_document_without_an_id(doc, error):
    with pytest.raises(error):
        doc_id(doc)


def test_doc_id_rev_returns_both():
    assert doc_id_rev({"_id": "doc1", "_rev": "1-abc", "n": 1}) == ("doc1", "1-abc")


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"_id": "doc1"}, InvalidArgument),
        ({"_id": "doc1", "_rev": ""}, InvalidArgument),
        ({"_id": "doc1", "_rev": 1}, InvalidArgument),
        ({"_rev": "1-abc"}, InvalidArgument),
        ("doc1", InvalidType),
    ],
    ids=["no-rev", "empty-rev", "number-rev", "no-id", "id-only"],
)
def test_doc_id_rev_needs_a_stored_document(doc, error):
    with pytest.raises(error):
        doc_id_rev(doc)


# --- _write_back -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("docs", "results", "written"),
    [
        (
            [{"_id": "b1", "n": 1}, {"_id": "b2", "n": 2}],
            [{"ok": True, "id": "b1", "rev": "1-a"}, {"ok": True, "id": "b2", "rev": "1-b"}],
            [{"_id": "b1", "n": 1, "_rev": "1-a"}, {"_id": "b2", "n": 2, "_rev": "1-b"}],
        ),
        (
            [{"_id": "b1", "n": 1}, {"n": 3}],
            [{"ok": True, "id": "b1", "rev": "1-a"}, {"ok": True, "id": "cdd6f7", "rev": "1-c"}],
            [{"_id": "b1", "n": 1, "_rev": "1-a"}, {"n": 3, "_id": "cdd6f7", "_rev": "1-c"}],
        ),
        (
            [{"_id": "b1", "n": 10}, {"_id": "b2", "_rev": "1-b", "n": 20}],
            [
                {"id": "b1", "error": "conflict", "reason": "Document update conflict."},
                {"ok": True, "id": "b2", "rev": "2-b"},
            ],
            [{"_id": "b1", "n": 10}, {"_id": "b2", "_rev": "2-b", "n": 20}],
        ),
        (
            [{"_id": "v5"}, {"_id": "v6"}],
            [{"id": "v6", "error": "forbidden", "reason": "forbid is set"}, {"ok": True, "id": "v5", "rev": "1-v"}],
            [{"_id": "v5", "_rev": "1-v"}, {"_id": "v6"}],
        ),
        (
            [{"_id": "v7", "_rev": "1-ab"}],
            [{"id": "v7", "rev": "1-ab", "error": "forbidden", "reason": "forbid is set"}],
            [{"_id": "v7", "_rev": "1-ab"}],
        ),
        (
            [{"_id": "ne1", "_rev": "3-c"}, {"_id": "ne2", "_rev": "1-a"}],
            [],
            [{"_id": "ne1", "_rev": "3-c"}, {"_id": "ne2", "_rev": "1-a"}],
        ),
        (
            [{"_id": "a"}, {"n": 1}, {"_id": "b"}],
            [
                {"ok": True, "id": "b", "rev": "1-b"},
                {"ok": True, "id": "new", "rev": "1-n"},
                {"ok": True, "id": "a", "rev": "1-a"},
            ],
            [{"_id": "a", "_rev": "1-a"}, {"n": 1}, {"_id": "b", "_rev": "1-b"}],
        ),
        (
            [{"_id": "b2", "_rev": "2-b", "_deleted": True}],
            [{"ok": True, "id": "b2", "rev": "3-b"}],
            [{"_id": "b2", "_rev": "3-b", "_deleted": True}],
        ),
        ([], [], []),
    ],
    ids=[
        "in-order",
        "new-id-written",
        "error-row-left-alone",
        "results-reordered-matched-by-id",
        "error-with-rev-left-alone",
        "no-results-new-edits-false",
        "reordered-doc-without-id-left-alone",
        "tombstone-rev",
        "empty",
    ],
)
def test_write_back_puts_each_successful_rev_into_its_document(docs, results, written):
    _write_back(docs, results)
    assert docs == written


def test_write_back_keeps_the_callers_dicts():
    doc = {"_id": "b1"}
    docs = [doc]
    _write_back(docs, [{"ok": True, "id": "b1", "rev": "1-a"}])
    assert docs[0] is doc and doc["_rev"] == "1-a"


# --- against the recorded exchanges ------------------------------------------------


def _recorded_bulk_saves():
    files = ("documents.json", "security.json", "errors.json")
    for file, exchange, server, response in wire.answers(*files):
        body = wire.request(exchange, server).get("body")
        if (
            exchange["request"]["path"].endswith("/_bulk_docs")
            and response["status"] == 201
            and isinstance(body, dict)
            and isinstance(body.get("docs"), list)
        ):
            yield f"{file}:{exchange['name']}:{server}", body["docs"], response["body"]


@wire.parametrize("docs, results", _recorded_bulk_saves)
def test_write_back_matches_every_recorded_bulk_docs_answer(docs, results):
    before = copy.deepcopy(docs)
    after = copy.deepcopy(docs)
    _write_back(after, results)
    by_id = {res["id"]: res for res in results}
    for old, new in zip(before, after, strict=False):
        res = by_id.get(new.get("_id"))
        if res and "rev" in res and "error" not in res:
            assert new == {**old, "_id": res["id"], "_rev": res["rev"]}
        else:
            assert new == old
    assert sum("_rev" in new and new != old for old, new in zip(before, after, strict=False)) == sum(
        "rev" in res and "error" not in res for res in results
    )
