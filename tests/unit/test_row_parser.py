"""RowParser: the rows of a JSON answer, one by one, however the bytes are cut."""

from __future__ import annotations

import json
import random

import orjson
import pytest

import wire
from wallaby.backends.couchdb._core.wire import RowParser, TruncatedBody

FRAMED = b'{"total_rows":3,"offset":0,"rows":[\r\n{"id":"a","key":"a","value":{"rev":"1-x"}},\r\n{"id":"b","key":"b]\\"{","value":{"rev":"1-y"}},\r\n{"id":"c","key":["c",1],"value":null}\r\n],\r\n"update_seq":"12-abc"}\n'  # noqa: E501
ONE_LINE = b'{"total_rows":3,"offset":0,"rows":[{"id":"a","key":"a","value":{"rev":"1-x"}},{"id":"b","key":"},{","value":{"rev":"1-y"}},{"id":"c","key":"c","value":[{"x":"}]"},{}]}]}'  # noqa: E501
CASES = {
    "couchdb framing, a tail member": (FRAMED, "rows"),
    "pouchdb one line, braces in strings": (ONE_LINE, "rows"),
    "find docs, bookmark after": (
        b'{"docs":[{"_id":"a","v":[1,{"w":"]"}]},{"_id":"b"}],"bookmark":"g1AA","warning":"no matching index"}',
        "docs",
    ),
    "empty rows": (b'{"total_rows":0,"offset":0,"rows":[]}', "rows"),
    "empty framed rows": (b'{"total_rows":0,"offset":0,"rows":[\r\n\r\n]}\n', "rows"),
    "a same-named member nested in the head": (b'{"x":{"rows":[9]},"rows":[{"a":1}]}', "rows"),
    "string elements with escapes": (b'{"rows":["a","b\\\\","c\\"d"]}', "rows"),
    "bulk_get results": (
        b'{"results":[{"id":"a","docs":[{"ok":{"_id":"a","n":[1,2]}}]},{"id":"b","docs":[{"error":{"id":"b","error":"not_found"}}]}]}',
        "results",
    ),
    "non-ascii text": ('{"rows":[{"id":"ünï-文字-😀","v":"\\u2028"}]}'.encode(), "rows"),
}


def split_at_random(body: bytes, seed: int, most: int) -> list[bytes]:
    rng = random.Random(seed)
    pieces, at = [], 0
    while at < len(body):
        size = rng.randint(1, most)
        pieces.append(body[at : at + size])
        at += size
    return pieces


def parse(pieces: list[bytes], member: str) -> tuple[list, dict]:
    parser = RowParser(member)
    rows = []
    for piece in pieces:
        rows.extend(parser.feed(piece))
    return rows, parser.close()


def expected(body: bytes, member: str) -> tuple[list, dict]:
    whole = orjson.loads(body)
    rows = whole.pop(member)
    return rows, whole


@pytest.mark.parametrize("body,member", CASES.values(), ids=list(CASES))
def test_rows_and_meta_match_a_whole_parse_for_any_cut(body, member):
    assert parse([body], member) == expected(body, member)
    assert parse([body[i : i + 1] for i in range(len(body))], member) == expected(body, member)
    for seed in range(200):
        assert parse(split_at_random(body, seed, 17), member) == expected(body, member)


@pytest.mark.parametrize("cut", [1, 20, 40, 80, len(FRAMED) - 4])
def test_a_body_cut_short_is_truncated(cut):
    parser = RowParser()
    parser.feed(FRAMED[:cut])
    with pytest.raises(TruncatedBody):
        parser.close()


def test_the_head_meta_is_there_with_the_first_row():
    parser = RowParser()
    rows = parser.feed(FRAMED[:120])
    assert rows and parser.meta == {"total_rows": 3, "offset": 0}


def test_memory_holds_only_the_unfinished_row():
    row = b'{"id":"doc%07d","key":"doc%07d","value":{"rev":"1-abcdef"}}'
    body = b'{"total_rows":1,"offset":0,"rows":[' + b",".join(row % (n, n) for n in range(20000)) + b"]}"
    parser = RowParser()
    largest = 0
    for at in range(0, len(body), 4096):
        parser.feed(body[at : at + 4096])
        largest = max(largest, len(parser._buf))
    parser.close()
    assert largest < 70_000  # one piece plus a partial row, never the whole 1.2 MB


def test_an_answer_without_the_member_is_an_error():
    with pytest.raises(Exception, match='no "rows" array'):
        RowParser().feed(b'{"error":"x","reason":"y"}')


def _row_bodies():
    for file in ("views.json", "documents.json", "mango.json", "misc.json"):
        for exchange in wire.exchanges(file):
            for server in wire.SERVERS:
                response = exchange[server]
                body = response.get("body")
                if response.get("status") != 200 or not isinstance(body, (dict, str)):
                    continue
                raw = body.encode() if response.get("body_encoding") == "text" else json.dumps(body).encode()
                try:
                    parsed = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                for member in ("rows", "docs", "results"):
                    if isinstance(parsed, dict) and isinstance(parsed.get(member), list):
                        yield f"{file}:{exchange['name']}:{server}", raw, member
                        break


@wire.parametrize("raw,member", _row_bodies)
def test_every_recorded_row_answer_parses_like_a_whole_parse(raw, member):
    assert parse(split_at_random(raw, 7, 64), member) == expected(raw, member)
