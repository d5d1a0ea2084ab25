"""CouchDB's built-in reduces: their answers and their errors (as couch_query_servers gives them)."""

from __future__ import annotations

from typing import Any

import pytest

from wallaby.backends.couchdb._store.js import Sandbox
from wallaby.backends.couchdb._store.reduce import SUM_ERROR, ReduceError, check_reduce, reduce_rows


def rows(*values: Any) -> list[tuple[Any, str, Any]]:
    return [(i, f"d{i}", v) for i, v in enumerate(values)]


def no_js() -> Sandbox:
    raise AssertionError("a built-in needs no JavaScript")


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("_sum", [1, 2, 3.5], 6.5),
        ("_sum", [[1, 2], [3], 4], [8, 2]),
        ("_sum", [{"b": 1, "a": 2}, {"a": 3, "c": [1, 1]}], {"a": 5, "b": 1, "c": [1, 1]}),
        ("_sum", [{"a": {"x": 1}}, {"a": {"x": 2, "y": 1}}], {"a": {"x": 3, "y": 1}}),
        ("_sum", [1, "x"], {"error": "builtin_reduce_error", "reason": SUM_ERROR, "caused_by": "x"}),
        ("_count", ["a", None, 3], 3),
        ("_stats", [1, 2, 3], {"sum": 6, "count": 3, "min": 1, "max": 3, "sumsqr": 14}),
        (
            "_stats",
            [[1, 10], [3, 20]],
            [
                {"sum": 4, "count": 2, "min": 1, "max": 3, "sumsqr": 10},
                {"sum": 30, "count": 2, "min": 10, "max": 20, "sumsqr": 500},
            ],
        ),
        (
            "_stats",
            [{"sum": 5, "count": 2, "min": 1, "max": 4, "sumsqr": 17}, 3],
            {"sum": 8, "count": 3, "min": 1, "max": 4, "sumsqr": 26},
        ),
        ("_top_2", [3, 1, 5, 5, "a"], ["a", 5]),
        ("_bottom_3", [3, 1, 5, None], [None, 1, 3]),
        ("_first", ["x", "y"], "x"),
        ("_last", ["x", "y"], "y"),
    ],
)
def test_builtin_reduce_answers(source: str, values: list[Any], expected: Any) -> None:
    assert reduce_rows(source, rows(*values), no_js) == expected


def test_approx_count_distinct_counts_keys_exactly_when_few() -> None:
    keyed = [(k, f"d{i}", 1) for i, k in enumerate(["a", "b", "a", 1, 1.0, [1], [1], {"x": 1}])]
    assert reduce_rows("_approx_count_distinct", keyed, no_js) == 5


def test_approx_count_distinct_is_close_for_many() -> None:
    keyed = [(i, f"d{i}", 1) for i in range(20000)]
    assert abs(reduce_rows("_approx_count_distinct", keyed, no_js) - 20000) < 20000 * 0.05


def test_stats_of_a_string_fails_the_query() -> None:
    with pytest.raises(ReduceError) as caught:
        reduce_rows("_stats", rows(1, "x"), no_js)
    assert (caught.value.status, caught.value.error) == (500, "invalid_value")
    assert caught.value.reason.endswith("not '<<120>>'")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("_bogus", "`_bogus` is not a supported reduce function."),
        ("_top_0", "rank value must be between 1 and 100"),
        ("_top_x", "invalid rank reducer"),
    ],
)
def test_unknown_builtins_are_refused_on_save(source: str, reason: str) -> None:
    with pytest.raises(ReduceError) as caught:
        check_reduce(source)
    assert (caught.value.error, caught.value.reason) == ("invalid_design_doc", reason)


def test_a_javascript_reduce_runs_in_chunks_then_rereduces() -> None:
    box = Sandbox()
    source = "function(keys, values, rereduce) { return rereduce ? sum(values) : values.length * 10 }"
    box.compile("r", source)
    assert reduce_rows(source, rows(*range(450)), lambda: box, "r") == 4500


def test_a_reduce_that_does_not_shrink_is_an_overflow_error() -> None:
    box = Sandbox()
    source = "function(keys, values, rereduce) { return values.concat(values) }"
    box.compile("r", source)
    result = reduce_rows(source, rows(*(["x" * 50] * 300)), lambda: box, "r")
    assert set(result) == {"reduce_overflow_error"}
