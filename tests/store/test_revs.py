"""Revisions as CouchDB parses, prints and orders them (checked against CouchDB 3.5)."""

import pytest

from wallaby.backends.couchdb._store.errors import BadRequest, DocValidation
from wallaby.backends.couchdb._store.revs import format_rev, id_bytes, parse_rev, parse_revision_ids

HEX = "abcdef0123456789abcdef0123456789"


@pytest.mark.parametrize(
    "text, rev",
    [
        ("1-" + HEX, (1, HEX)),
        ("1-" + HEX.upper(), (1, HEX)),  # 32 hex digits are bytes: printed back in lowercase
        ("1-abcdefghijklmnop", (1, "6162636465666768696a6b6c6d6e6f70")),  # 16 bytes print as hex
        ("1-zz", (1, "zz")),
        ("1-", (1, "")),
        ("0-abc", (0, "abc")),
        ("01-abc", (1, "abc")),
        ("+1-abc", (1, "abc")),
        ("1-a-b", (1, "a-b")),
        ("1-+bcdef0123456789abcdef012345678", (1, "+bcdef0123456789abcdef012345678")),
    ],
)
def test_a_rev_is_read_as_couchdb_reads_it(text, rev):
    assert parse_rev(text) == rev


@pytest.mark.parametrize("text", ["abc", "-1-abc", "x-abc", "1-" + "z" * 32, "", " 1-a", "1_0-a"])
def test_a_rev_couchdb_refuses_is_a_bad_request(text):
    with pytest.raises(BadRequest) as caught:
        parse_rev(text)
    assert caught.value.reason == "Invalid rev format"


def test_a_rev_that_is_not_a_string_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_rev(3)


def test_revision_ids_of_a_history_are_checked_as_doc_validation():
    assert parse_revision_ids([HEX, "x"]) == [HEX, "x"]
    with pytest.raises(DocValidation, match="valid hexadecimal"):
        parse_revision_ids(["q" * 32])
    with pytest.raises(DocValidation, match="isn't a string"):
        parse_revision_ids([1])
    with pytest.raises(DocValidation, match="isn't a array"):
        parse_revision_ids("x")


def test_ids_are_ordered_as_erlang_binaries():
    # a hex id is its 16 raw bytes; any other id its UTF-8 bytes; then byte by byte, shorter first
    assert id_bytes(HEX) == bytes.fromhex(HEX)
    assert id_bytes("zz") == b"zz"
    assert sorted(["b", "ab", "a", "ba"], key=id_bytes) == ["a", "ab", "b", "ba"]
    assert id_bytes("ffffffffffffffffffffffffffffffff") > id_bytes("fe")  # b"\xff..." vs b"fe"
    assert id_bytes("00000000000000000000000000000000") < id_bytes("0")  # b"\x00..." vs b"0"


def test_format_rev():
    assert format_rev((3, "abc")) == "3-abc"
