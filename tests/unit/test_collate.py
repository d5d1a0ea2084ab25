"""CouchDB's collation: the order of the docs' examples, the byte keys, and ICU itself.

The string order is checked against the system's ICU (the library CouchDB's
``couch_ejson_compare`` calls) when there is one; ``tests/behaviour`` checks
a view of Apache CouchDB itself (``test_view_collation``).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from wallaby.backends.couchdb._store.collate import compare, sort_key, string_key

sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))
import icu as icu_module  # noqa: E402

ICU = icu_module.load()

# the order of CouchDB's documentation ("Views Collation")
DOCUMENTED = [
    None,
    False,
    True,
    1,
    2,
    3.0,
    4,
    "a",
    "A",
    "aa",
    "b",
    "B",
    "ba",
    "bb",
    ["a"],
    ["b"],
    ["b", "c"],
    ["b", "c", "a"],
    ["b", "d"],
    ["b", "d", "e"],
    {"a": 1},
    {"a": 2},
    {"b": 1},
    {"b": 2},
    {"b": 2, "a": 1},
    {"b": 2, "c": 2},
]

# ASCII as CouchDB documents it: punctuation, symbols, digits, then letters, lower case first
ASCII = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ"

# letters, marks, scripts and code points where a table could go wrong
TRICKY = (
    list("aAbBzZ019 -_.,'\"!?@#$%^&*()[]{}<>/\\|~`+=:;\t\n\x00\x01\x7f")
    + list("éÉèêëàâäÅåæÆœßøØçñÑüÜıİŁłĳﬁ·΅αβΓΩЙйИиЁё中国人漢字日本語가각힣ㄱアイウあいうー々")
    + list("€£¥₹₩₿٠١٢１２३ไเกขแโใ่้ๆເກལྷཀྵྐ")
    + ["\u0301", "\u0306", "\u0308", "\u0323", "\u0387", "\u093c", "\u0952", "\u0dca", "\u0dcf", "\u0f71", "\u0f80"]
    + ["\U0001f600", "\U0001f3fb", "\u200d", "\ufeff", "\ufffd", "\uffff", "\ufff0", "\U00020000", "\U00031350"]
    + ["\u0378", "\ue000", "\U0010ffff", "L", "l"]
)

texts = st.lists(st.sampled_from(TRICKY), max_size=8).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=12,
)


def test_the_documented_order_is_kept() -> None:
    shuffled = DOCUMENTED[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=sort_key) == DOCUMENTED
    for a, b in zip(DOCUMENTED, DOCUMENTED[1:], strict=False):
        assert compare(a, b) == -1 and compare(b, a) == 1


def test_ascii_sorts_as_couchdb_documents() -> None:
    assert "".join(sorted(ASCII, key=string_key)) == ASCII


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (0, -0.0),
        ("a", "a\u0000"),  # a control character is ignorable
        ("\u00e9", "e\u0301"),  # precomposed and decomposed
        ([], []),
        ({}, {}),
    ],
)
def test_values_collation_finds_equal(a: Any, b: Any) -> None:
    assert compare(a, b) == 0
    assert sort_key(a) == sort_key(b)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (-1e300, -1),
        (-1, -0.5),
        (-0.5, 0),
        (0, 1e-300),
        (2, 10),
        ("", " "),
        ("a", "a "),
        ("abc", "abd"),
        ("e", "\u00e9"),  # accent at the secondary level
        ("E", "\u00e9"),  # an accent (secondary level) outweighs case (tertiary)
        ("\u00e6", "b"),
        ("\U0001f600", "\u4e2d"),  # emoji are symbols, before letters
        ("\U00020000", "\u0378"),  # unassigned code points after every assigned one
        ("\u0378", "\ufffd"),
        (["a"], ["a", None]),
        (["a", "b"], ["aa"]),
        ({"a": 1}, {"a": 1, "b": 0}),
        ({"a": 9}, {"b": 0}),
    ],
)
def test_pairs_in_order(low: Any, high: Any) -> None:
    assert compare(low, high) == -1
    assert sort_key(low) < sort_key(high)


def test_objects_compare_members_in_written_order_not_sorted() -> None:
    assert compare({"b": 1, "a": 2}, {"a": 2, "b": 1}) == 1


def test_a_key_that_is_not_json_is_refused() -> None:
    with pytest.raises(TypeError):
        sort_key({1, 2})


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_byte_keys_order_as_the_comparison(a: Any, b: Any) -> None:
    ka, kb = sort_key(a), sort_key(b)
    assert (ka > kb) - (ka < kb) == compare(a, b)


@settings(max_examples=100, deadline=None)
@given(json_values, json_values, json_values, json_values)
def test_a_key_never_runs_into_what_follows_it(a: Any, b: Any, x: Any, y: Any) -> None:
    ka, kb = sort_key([a, x]), sort_key([b, y])
    assert (ka > kb) - (ka < kb) == (compare(a, b) or compare(x, y))


needs_icu = pytest.mark.skipif(ICU is None, reason="no system ICU (libicui18n) to compare with")


@needs_icu
@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_strings_order_as_icu_root_does(a: str, b: str) -> None:
    assert ICU is not None
    ka, kb = string_key(a), string_key(b)
    assert (ka > kb) - (ka < kb) == ICU.compare(a, b), (a, b)


@needs_icu
def test_every_code_point_in_a_random_sample_orders_as_icu() -> None:
    assert ICU is not None
    points = [chr(cp) for cp in icu_module.code_points()]
    rnd = random.Random(1)
    for _ in range(30000):
        a, b = rnd.choice(points), rnd.choice(points)
        ka, kb = string_key(a), string_key(b)
        assert (ka > kb) - (ka < kb) == ICU.compare(a, b), (hex(ord(a)), hex(ord(b)))


@needs_icu
def test_random_strings_order_as_icu_root_does() -> None:
    assert ICU is not None
    rnd = random.Random(2)
    for _ in range(20000):
        a = "".join(rnd.choice(TRICKY) for _ in range(rnd.randint(0, 10)))
        b = list(a) or [""]
        b[rnd.randrange(len(b))] = rnd.choice(TRICKY)  # often a near miss
        other = "".join(b)
        ka, kb = string_key(a), string_key(other)
        assert (ka > kb) - (ka < kb) == ICU.compare(a, other), (a, other)


@needs_icu
def test_a_non_starter_after_a_contraction_joins_it_as_icu_does() -> None:
    assert ICU is not None
    # И + dot below + breve: the breve contracts with И across the dot below (UCA S2.1)
    for a, b in [("\u0418\u0323\u0306", "\u0419\u0323"), ("\u0418\u0323\u0306", "\u0418\u0323")]:
        ka, kb = string_key(a), string_key(b)
        assert (ka > kb) - (ka < kb) == ICU.compare(a, b)
