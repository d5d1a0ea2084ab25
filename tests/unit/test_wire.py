"""Splitting a continuous feed into lines (``_wire.LineSplitter``)."""

from __future__ import annotations

import pytest

import wire
from wallaby.backends.couchdb._core.wire import LineSplitter


def _feed_all(chunks):
    splitter = LineSplitter()
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines, splitter.pending


@pytest.mark.parametrize(
    ("chunks", "lines", "pending"),
    [
        ([b'{"seq":1}\n'], [b'{"seq":1}'], b""),
        ([b'{"se', b'q":1', b"}\n"], [b'{"seq":1}'], b""),
        ([b"1\n2\n3\n"], [b"1", b"2", b"3"], b""),
        ([b"1\n2", b"\n3\n"], [b"1", b"2", b"3"], b""),
        ([b"\n", b"\n", b"\n"], [], b""),
        ([b"\n1\n\n\n2\n\n"], [b"1", b"2"], b""),
        ([b"  \n", b"\t\n"], [], b""),
        ([b'{"seq":1}\n{"se'], [b'{"seq":1}'], b'{"se'),
        ([b"partial"], [], b"partial"),
        ([b"part", b"ial"], [], b"partial"),
        ([b""], [], b""),
        ([b"a", b"", b"b\n"], [b"ab"], b""),
        ([b'{"id":"\xc3', b'\xbc"}\n'], ['{"id":"ü"}'.encode()], b""),
        ([b"1\r\n"], [b"1\r"], b""),
    ],
    ids=[
        "one-line",
        "line-over-chunks",
        "lines-in-one-chunk",
        "lines-across-chunks",
        "heartbeats-dropped",
        "heartbeats-between-lines",
        "blank-lines-dropped",
        "unfinished-line-pending",
        "no-newline-yet",
        "pending-joined",
        "empty-chunk",
        "empty-chunk-in-a-line",
        "utf8-split-mid-character",
        "carriage-return-kept",
    ],
)
def test_line_splitter_returns_each_complete_line_once(chunks, lines, pending):
    assert _feed_all(chunks) == (lines, pending)


def test_line_splitter_pending_empties_once_the_line_completes():
    splitter = LineSplitter()
    assert splitter.feed(b'{"seq"') == []
    assert splitter.pending == b'{"seq"'
    assert splitter.feed(b":1}\n") == [b'{"seq":1}']
    assert splitter.pending == b""


def test_line_splitter_keeps_a_long_line_whole():
    line = b'{"doc":"' + b"x" * 100_000 + b'"}'
    chunks = [line[i : i + 1000] for i in range(0, len(line), 1000)] + [b"\n"]
    assert _feed_all(chunks) == ([line], b"")


# --- against the recorded feeds ----------------------------------------------------


def _recorded_continuous_feeds():
    for file, exchange, server, response in wire.answers("changes.json", "db_updates.json"):
        query = exchange["request"]["query"]
        chunks = response.get("stream", {}).get("chunks")
        if isinstance(query, dict) and query.get("feed") == "continuous" and chunks:
            body = response["body"].encode()
            *complete, unfinished = body.split(b"\n")
            expected = [line for line in complete if line.strip()]
            yield (
                f"{file}:{exchange['name']}:{server}",
                [text.encode() for _, text in chunks],
                expected,
                unfinished,
            )


@wire.parametrize("chunks, lines, pending", _recorded_continuous_feeds)
def test_line_splitter_splits_every_recorded_feed_as_received(chunks, lines, pending):
    assert _feed_all(chunks) == (lines, pending)


@wire.parametrize("chunks, lines, pending", _recorded_continuous_feeds)
def test_line_splitter_splits_every_recorded_feed_byte_by_byte(chunks, lines, pending):
    body = b"".join(chunks)
    assert _feed_all(body[i : i + 1] for i in range(len(body))) == (lines, pending)


@wire.parametrize("chunks, lines, pending", _recorded_continuous_feeds)
def test_line_splitter_splits_every_recorded_feed_cut_anywhere_in_two(chunks, lines, pending):
    body = b"".join(chunks)
    for cut in range(len(body) + 1):
        assert _feed_all([body[:cut], body[cut:]]) == (lines, pending), cut
