"""What a Follower does with a cluster's feed when a node is lost.

After a node is lost, a cluster's ``_changes`` resumes that node's shard
ranges from another copy at an older checkpoint and sends some changes
again: a Follower hands each (id, rev) over once, remembering a bounded
number of them. While the node is down CouchDB may also refuse the feed with
412 ``nodedown`` ("progress not possible"), which passes once the node is
back: a Follower retries it. Here the asyncio runtime answers a normal feed
with pages as such a cluster does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from hosts import Canned
from wallaby.backends.couchdb._core.errors import PreconditionFailed
from wallaby.backends.couchdb._core.feeds import REMEMBERED, Follower, _Repeats, feed_request
from wallaby.backends.couchdb._core.http import Http
from wallaby.backends.couchdb._core.json import dumps
from wallaby.backends.couchdb._core.retry import Backoff
from wallaby.backends.couchdb._core.runtime import Timeouts
from wallaby.backends.couchdb.aio._runtime import AioRuntime

FAST = Backoff(first=0.001, cap=0.01)


def change(docid: str, *revs: str, seq: str | None = None) -> dict[str, Any]:
    return {"seq": seq or f"{docid}-{revs[-1]}", "id": docid, "changes": [{"rev": rev} for rev in revs]}


# --- the memory of pairs ------------------------------------------------------------


def test_a_row_seen_before_is_dropped_and_a_new_rev_of_the_same_doc_is_kept():
    repeats = _Repeats()
    assert repeats.fresh([change("a", "1-x"), change("b", "1-x")]) == [change("a", "1-x"), change("b", "1-x")]
    assert repeats.fresh([change("b", "1-x", seq="later"), change("a", "2-y")]) == [change("a", "2-y")]


def test_a_row_is_a_repeat_only_when_every_rev_it_lists_was_handed_over():
    repeats = _Repeats()
    repeats.fresh([change("a", "3-x")])
    both = change("a", "3-x", "3-y")  # style=all_docs: a conflict arrived
    assert repeats.fresh([both]) == [both]
    assert repeats.fresh([change("a", "3-y", "3-x")]) == []


def test_rows_without_an_id_and_revs_are_never_dropped():
    repeats = _Repeats()
    event = {"db_name": "mydb", "type": "updated", "seq": "7-g"}  # /_db_updates
    no_revs = {"seq": "8-g", "id": "a", "changes": []}
    assert repeats.fresh([event, event, no_revs, no_revs]) == [event, event, no_revs, no_revs]


def test_memory_holds_the_last_pairs_only_and_the_oldest_is_forgotten_first():
    repeats = _Repeats(size=3)
    repeats.fresh([change(name, "1-x") for name in "abcd"])
    assert repeats.fresh([change("a", "1-x")]) == [change("a", "1-x")]  # forgotten: handed over again
    assert repeats.fresh([change("d", "1-x")]) == []


def test_the_bound_is_ten_thousand_pairs():
    repeats = _Repeats()
    first = [change(f"doc{n}", "1-x") for n in range(REMEMBERED)]
    assert len(repeats.fresh(first)) == REMEMBERED
    assert repeats.fresh(first) == []
    assert len(repeats.fresh([change("one-more", "1-x")])) == 1
    assert repeats.fresh([first[0]]) == [first[0]]  # the oldest has gone
    assert len(repeats._seen) == len(repeats._order) == REMEMBERED


# --- a Follower reading a rewound feed ------------------------------------------------


class PagesRuntime(AioRuntime):
    """The asyncio runtime, answering each request with the next page and recording its ``since``."""

    def __init__(self, pages: list[Any]) -> None:
        super().__init__(Timeouts())
        self.pages = deque(pages)
        self.since: list[str | None] = []
        self.request = self.answer  # the runtime's request is its pool's, set per instance

    async def answer(self, method: str, url: str, headers: Any, body: Any, read_timeout: Any) -> Any:
        self.since.append(parse_qs(urlsplit(url).query).get("since", [None])[0])
        page = self.pages.popleft()
        status, answer = page if isinstance(page, tuple) else (200, page)
        return Canned(status, dumps(answer))


def follow(pages: list[Any], page_size: int = 3) -> tuple[list[dict[str, Any]], Any, list[Any]]:
    """Every change a normal feed over ``pages`` hands over, its last_seq, and the since of each request."""
    runtime = PagesRuntime(pages)

    async def main() -> tuple[list[dict[str, Any]], Any]:
        http = Http(runtime, "http://couch.example", None, Timeouts())
        request = feed_request(
            "/db/_changes", feed="normal", since=None, heartbeat=1000, limit=None, page_size=page_size
        )
        follower = Follower(http, lambda coro: runtime.spawn(coro, lambda: None), request, backoff=FAST)
        handed = [row async for row in follower]
        return handed, follower.last_seq

    handed, last_seq = asyncio.run(main())
    return handed, last_seq, runtime.since


def test_a_rewound_page_hands_over_only_what_is_new():
    first = [change("a", "1-x"), change("b", "1-x"), change("c", "1-x")]
    rewound = [change("b", "1-x", seq="r1"), change("c", "1-x", seq="r2"), change("d", "1-x")]
    handed, last_seq, since = follow(
        [
            {"results": first, "last_seq": "c-1-x"},
            {"results": rewound, "last_seq": "d-1-x"},
            {"results": [], "last_seq": "d-1-x"},
        ]
    )
    assert [row["id"] for row in handed] == ["a", "b", "c", "d"]
    assert last_seq == "d-1-x"
    assert since == [None, "c-1-x", "d-1-x"]


def test_a_page_of_repeats_only_moves_the_reader_on_and_hands_nothing_over():
    first = [change("a", "1-x"), change("b", "1-x"), change("c", "1-x")]
    repeats = [change("a", "1-x", seq="r1"), change("b", "1-x", seq="r2"), change("c", "1-x", seq="r3")]
    handed, last_seq, since = follow(
        [
            {"results": first, "last_seq": "c-1-x"},
            {"results": repeats, "last_seq": "r3"},
            {"results": [change("e", "1-x")], "last_seq": "e-1-x"},
        ]
    )
    assert [row["id"] for row in handed] == ["a", "b", "c", "e"]
    assert since == [None, "c-1-x", "r3"]  # the next request starts after the dropped rows
    assert last_seq == "e-1-x"


NODEDOWN = (412, {"error": "nodedown", "reason": "progress not possible"})


def test_nodedown_is_retried_until_the_node_is_back():
    first = [change("a", "1-x"), change("b", "1-x"), change("c", "1-x")]
    handed, last_seq, since = follow(
        [
            {"results": first, "last_seq": "c-1-x"},
            NODEDOWN,
            NODEDOWN,
            {"results": [change("d", "1-x")], "last_seq": "d-1-x"},
        ]
    )
    assert [row["id"] for row in handed] == ["a", "b", "c", "d"]
    assert since == [None, "c-1-x", "c-1-x", "c-1-x"]  # each try resumes where the feed was
    assert last_seq == "d-1-x"


def test_another_412_ends_the_feed_with_its_error():
    with pytest.raises(PreconditionFailed):
        follow([(412, {"error": "file_exists", "reason": "no"})])
