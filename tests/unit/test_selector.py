"""Mango selectors: normalization, CouchDB's 400s, and what each operator matches."""

from __future__ import annotations

from typing import Any

import pytest

from wallaby.backends.couchdb._store.selector import (
    MangoError,
    has_required_fields,
    index_rows,
    match,
    normalize,
)

DOC = {
    "_id": "doc-10",
    "name": "Émile",
    "age": 31,
    "score": 7.5,
    "flag": True,
    "none": None,
    "tags": ["a", "b", "c"],
    "empty": [],
    "info": {"city": "Paris", "zip": 75001, "a.b": "dotted"},
    "list": [{"x": 1}, {"x": 5}],
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"age": 31}, True),
        ({"age": 31.0}, True),
        ({"age": "31"}, False),
        ({"age": {"$gt": 30, "$lt": 32}}, True),
        ({"age": {"$gt": "a"}}, False),  # collation: numbers sort before strings
        ({"name": {"$gt": 5}}, True),
        ({"age": {"$ne": 30}}, True),
        ({"missing": {"$ne": 1}}, False),  # a missing field fails all but $exists: false
        ({"missing": {"$exists": False}}, True),
        ({"age": {"$exists": True}}, True),
        ({"none": {"$type": "null"}}, True),
        ({"tags": {"$type": "array"}}, True),
        ({"info": {"$type": "object"}}, True),
        ({"flag": {"$type": "boolean"}}, True),
        ({"tags": "a"}, False),  # no implicit element match
        ({"tags": {"$elemMatch": {"$eq": "b"}}}, True),
        ({"tags": {"$allMatch": {"$in": ["a", "b", "c"]}}}, True),
        ({"empty": {"$allMatch": {"$eq": 1}}}, False),
        ({"tags": {"$all": ["c", "a"]}}, True),
        ({"tags": {"$all": []}}, False),
        ({"tags": {"$in": ["z", "b"]}}, True),
        ({"tags": {"$nin": ["z"]}}, True),
        ({"age": {"$in": []}}, False),
        ({"tags": {"$size": 3}}, True),
        ({"age": {"$mod": [4, 3]}}, True),
        ({"score": {"$mod": [2, 1]}}, False),  # integers only
        ({"name": {"$regex": "^É"}}, True),
        ({"name": {"$beginsWith": "Ém"}}, True),
        ({"age": {"$beginsWith": "3"}}, False),
        ({"info.city": "Paris"}, True),
        ({"info": {"city": "Paris"}}, True),
        ({"info.a\\.b": "dotted"}, True),
        ({"tags.1": "b"}, True),
        ({"list.1.x": 5}, True),
        ({"list": {"$elemMatch": {"x": {"$gt": 4}}}}, True),
        ({"info": {"$keyMapMatch": {"$eq": "zip"}}}, True),
        ({"$or": [{"age": 1}, {"name": "Émile"}]}, True),
        ({"$or": []}, True),
        ({"$and": []}, True),
        ({"$nor": [{"age": 1}, {"name": "x"}]}, True),
        ({"$not": {"age": 31}}, False),
        ({"age": {"$not": {"$lt": 20}}}, True),
        ({"missing": {"$not": {"$eq": 1}}}, False),  # $not is pushed down: still needs the field
        ({"_id": {"$gt": "doc-1"}}, True),
        ({"_id": {"$lt": "doc-9"}}, True),  # _id compares by bytes, not by collation
        ({}, True),
    ],
)
def test_what_a_selector_matches(selector: dict[str, Any], expected: bool) -> None:
    assert match(normalize(selector), DOC) is expected


def test_normalization_pushes_fields_down_and_negations_to_the_leaves() -> None:
    assert normalize({"a": {"b": {"$gt": 1}}, "c": 2}) == {"$and": [{"a.b": {"$gt": 1}}, {"c": {"$eq": 2}}]}
    assert normalize({"$not": {"$and": [{"a": {"$gt": 1}}, {"b": {"$in": [1]}}]}}) == {
        "$or": [{"a": {"$lte": 1}}, {"b": {"$nin": [1]}}]
    }


@pytest.mark.parametrize(
    ("selector", "error", "reason"),
    [
        ({"a": {"$foo": 1}}, "invalid_operator", "Invalid operator: $foo"),
        ({"a": {"$in": 1}}, "bad_arg", "Bad argument for operator $in: 1"),
        ({"a": {"$mod": [1]}}, "bad_arg", "Bad argument for operator $mod: [1]"),
        ({"a": {"$regex": "("}}, "bad_arg", "Bad argument for operator $regex: <<40>>"),
        ({"a": {"$size": -1}}, "bad_arg", "Bad argument for operator $size: -1"),
        ({"$and": {"a": 1}}, "bad_arg", "Bad argument for operator $and: {[{<<97>>,1}]}"),
        ({"a": {"$where": "x"}}, "not_supported", "Unsupported operator: $where"),
        ({"$gt": 1}, "invalid_selector", "One or more conditions is missing a field name."),
    ],
)
def test_bad_selectors_are_couchdbs_400s(selector: dict[str, Any], error: str, reason: str) -> None:
    with pytest.raises(MangoError) as caught:
        normalize(selector)
    assert (caught.value.status, caught.value.error, caught.value.reason) == (400, error, reason)


def test_required_fields_see_through_and_but_not_exists_false() -> None:
    selector = normalize({"a": 1, "b": {"$gt": 2}, "c": {"$exists": False}})
    assert has_required_fields(selector, ["a", "b"])
    assert not has_required_fields(selector, ["c"])
    assert has_required_fields(normalize({"$or": [{"a": 1}, {"a": 2}]}), ["a"])
    assert not has_required_fields(normalize({"$or": [{"a": 1}, {"b": 2}]}), ["a"])


def test_an_index_keeps_documents_with_every_field_that_pass_its_filter() -> None:
    mapping = {"fields": {"info.city": "asc", "age": "asc"}, "partial_filter_selector": {"flag": True}}
    assert index_rows(mapping, DOC) == [[["Paris", 31], None]]
    assert index_rows(mapping, {**DOC, "flag": False}) == []
    assert index_rows(mapping, {"info": {"city": "Paris"}}) == []
