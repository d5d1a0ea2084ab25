"""The requests of the Mango, design-document and partition methods, checked against the wire corpus.

PouchDB Server has no ``/queries``, no ``/_partition/...``, no bookmarks, and
crashes on some of these requests, so their behaviour tests run only against
Apache CouchDB. Here each method runs on a Runtime that answers with the
recorded CouchDB exchanges, in order: the requests the method builds must be
the recorded ones (method, path, query, body, Content-Type) and the recorded
answers must come back as the documented result. No server, no loop.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import wire
from hosts import classes
from wallaby.backends.couchdb._api.design import Rendered
from wallaby.backends.couchdb._core.errors import BadRequest, CouchDBError, InvalidArgument, NotFound, ViewError
from wallaby.backends.couchdb._core.json import dumps, loads

BASE = "http://127.0.0.1:5985"
FILES = ("views.json", "mango.json", "partitioned.json")


class Answer:
    """A Response with a known status, headers and body (sent in small chunks, as a stream would be)."""

    def __init__(self, status: int, headers: dict[str, Any], body: bytes) -> None:
        self.status = status
        self._headers = {name.lower(): value for name, value in headers.items()}
        self._body = body

    def header(self, name: str) -> str | None:
        return self._headers.get(name.lower())

    def header_values(self, name: str) -> list[str]:
        value = self._headers.get(name.lower())
        return [] if value is None else [value]

    async def read(self) -> bytes:
        return self._body

    async def chunks(self) -> Any:
        for start in range(0, len(self._body), 7):
            yield self._body[start : start + 7]

    def close(self) -> None:
        pass


def recorded(exchange: dict[str, Any]) -> Answer:
    response = exchange["couchdb"]
    return Answer(response["status"], response["headers"], wire.raw_body(response))


class Replay:
    """A Runtime answering each request with the next of ``answers`` and keeping what was sent."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str, dict[str, str], bytes | None]] = []

    async def request(self, method: str, url: str, headers: Any, body: bytes | None, read_timeout: Any) -> Answer:
        self.sent.append((method, url, dict(headers), body))
        if not self.answers:
            raise AssertionError(f"one request too many: {method} {url}")
        return self.answers.pop(0)

    def is_awaitable(self, value: Any) -> bool:
        return inspect.isawaitable(value)

    async def close(self) -> None:
        pass


def database(name: str, answers: list[Answer]) -> tuple[Any, Replay]:
    runtime = Replay(answers)

    Server, _ = classes(lambda *config: runtime)
    return Server(BASE).database(name), runtime


def run(coro: Any) -> Any:
    """Run a coroutine that never waits to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine waited for something")


async def _drain(stream: Any) -> list[Any]:
    return [item async for item in stream]


def drain(stream: Any) -> list[Any]:
    return run(_drain(stream))


def check_sent(sent: tuple[str, str, dict[str, str], bytes | None], exchange: dict[str, Any]) -> None:
    expected = wire.request(exchange)
    method, url, headers, body = sent
    target = urlsplit(url)
    assert method == expected["method"]
    assert target.path == expected["path"]
    assert dict(parse_qsl(target.query, keep_blank_values=True)) == expected["query"]
    if expected["body_encoding"] == "json":
        assert json.loads(body) == expected["body"]
        assert headers.get("Content-Type") == expected["headers"].get("Content-Type") == "application/json"
    else:
        assert not body


def by_name() -> dict[str, dict[str, Any]]:
    return {x["name"]: x for file in FILES for x in wire.exchanges(file)}


def body_of(exchange: dict[str, Any]) -> Any:
    return exchange["couchdb"]["body"]


def req(exchange: dict[str, Any]) -> Any:
    return wire.request(exchange)["body"]


def rendered(exchange: dict[str, Any]) -> Rendered:
    response = exchange["couchdb"]
    headers = response["headers"]
    docid = headers.get("X-Couch-Id")
    return Rendered(
        wire.raw_body(response),
        headers.get("Content-Type"),
        None if docid is None else docid.replace("%2F", "/"),
        headers.get("X-Couch-Update-NewRev"),
    )


# (exchange name, call(db, exchange), expected result from the exchange)
CASES: list[tuple[str, Callable[..., Any], Callable[[dict[str, Any]], Any]]] = [
    # views.json: /queries, handlers, design info
    (
        "view_queries",
        lambda db, x: db.view_queries("wire/by_n", req(x)["queries"]),
        lambda x: body_of(x)["results"],
    ),
    ("ddoc_info", lambda db, x: db.view_info("wire"), body_of),
    ("show_doc", lambda db, x: db.show("wire", "s", "v01", q="x"), rendered),
    ("show_no_doc", lambda db, x: db.show("_design/wire", "s"), rendered),
    ("show_slash_id", lambda db, x: db.show("wire", "s", "path/doc"), rendered),
    ("show_json", lambda db, x: db.show("wire", "j", "v02"), rendered),
    ("list_view", lambda db, x: db.list_view("wire", "l", "by_n", limit=3), rendered),
    ("update_existing", lambda db, x: db.update("wire", "u", "v01", {"x": 1}), rendered),
    ("update_new_slash_encoded", lambda db, x: db.update("wire", "u", "new/slash", {}), rendered),
    ("update_existing_slash_encoded", lambda db, x: db.update("wire", "u", "path/doc", {}), rendered),
    # mango.json
    (
        "index_create",
        lambda db, x: db.create_index(["type", "n"], name="type-n", ddoc="mango-ddoc", type="json"),
        body_of,
    ),
    ("index_create_auto_name", lambda db, x: db.create_index(["n"]), body_of),
    (
        "index_create_partial",
        lambda db, x: db.create_index(
            ["n"], name="n-only-a", ddoc="_design/ddoc-c", partial_filter_selector={"type": "a"}
        ),
        body_of,
    ),
    ("index_list", lambda db, x: db.indexes(), lambda x: body_of(x)["indexes"]),
    ("find_selector", lambda db, x: db.find({"type": "a"}), body_of),
    (
        "find_fields_sort_limit",
        lambda db, x: db.find(
            {"type": "a", "n": {"$gt": 2}},
            fields=["_id", "n", "nested.x"],
            sort=[{"type": "asc"}, {"n": "asc"}],
            limit=3,
        ),
        body_of,
    ),
    ("find_skip", lambda db, x: db.find({"n": {"$gte": 1}}, fields=["_id"], skip=2, limit=2, sort=["n"]), body_of),
    ("find_execution_stats", lambda db, x: db.find({"type": "a"}, fields=["_id"], execution_stats=True), body_of),
    (
        "find_use_index",
        lambda db, x: db.find({"type": "a", "n": {"$gt": 0}}, fields=["_id"], use_index=["mango-ddoc", "type-n"]),
        body_of,
    ),
    (
        "find_use_index_ddoc_only",
        lambda db, x: db.find({"type": "a", "n": {"$gt": 0}}, fields=["_id"], use_index="_design/mango-ddoc"),
        body_of,
    ),
    (
        "find_page_2",
        lambda db, x: db.find({"n": {"$gte": 1}}, fields=["_id", "n"], limit=4, bookmark=req(x)["bookmark"]),
        body_of,
    ),
    (
        "explain",
        lambda db, x: db.explain({"type": "a", "n": {"$gt": 2}}, fields=["_id"], sort=[{"type": "asc"}, {"n": "asc"}]),
        body_of,
    ),
    ("index_delete_encoded_ddoc", lambda db, x: db.delete_index("ddoc-del3", "del3"), body_of),
    ("index_delete_encoded_ddoc", lambda db, x: db.delete_index("_design/ddoc-del3", "del3", "json"), body_of),
    # partitioned.json
    ("part_db_create", lambda db, x: db.create(partitioned=True), body_of),
    ("part_info", lambda db, x: db.partition_info("sensor1"), body_of),
    ("part_info_missing_partition", lambda db, x: db.partition_info("nobody"), body_of),
    ("part_all_docs", lambda db, x: db.all_docs(partition="sensor1"), lambda x: body_of(x)["rows"]),
    ("part_view", lambda db, x: db.view("p/by_v", partition="sensor1", reduce=False), lambda x: body_of(x)["rows"]),
    (
        "part_view_reduce",
        lambda db, x: db.view("_design/p/_view/by_v", partition="sensor2"),
        lambda x: body_of(x)["rows"],
    ),
    (
        "part_index_create",
        lambda db, x: db.create_index(["v"], name="v-idx", ddoc="pidx", partitioned=True),
        body_of,
    ),
    ("part_find", lambda db, x: db.find({"v": {"$gt": 1}}, fields=["_id", "v"], partition="sensor1"), body_of),
    ("part_explain", lambda db, x: db.explain({"v": {"$gt": 1}}, partition="sensor1"), body_of),
]


def _rows() -> list[tuple[Any, ...]]:
    exchanges = by_name()
    rows, seen = [], set()
    for name, call, expected in CASES:
        test_id = name if name not in seen else f"{name}-again"
        seen.add(name)
        rows.append((test_id, exchanges[name], call, expected))
    return rows


def db_of(exchange: dict[str, Any]) -> str:
    return wire.request(exchange)["path"].split("/")[1].split("?")[0]


@wire.parametrize("exchange, call, expected", _rows)
def test_the_request_is_couchdbs_and_the_answer_is_the_result(exchange, call, expected):
    db, runtime = database(db_of(exchange), [recorded(exchange)])
    result = run(call(db, exchange))
    assert len(runtime.sent) == 1
    check_sent(runtime.sent[0], exchange)
    assert result == expected(exchange)


# Streams: the same requests, the docs or rows yielded one by one, the rest in meta.
STREAMS: list[tuple[str, Callable[..., Any], str]] = [
    ("find_execution_stats", lambda db, x: db.stream_find({"type": "a"}, fields=["_id"], execution_stats=True), "docs"),
    ("part_find", lambda db, x: db.stream_find({"v": {"$gt": 1}}, fields=["_id", "v"], partition="sensor1"), "docs"),
    ("part_all_docs", lambda db, x: db.stream_all_docs(partition="sensor1"), "rows"),
    ("part_view", lambda db, x: db.stream_view("p/by_v", partition="sensor1", reduce=False), "rows"),
]


def _stream_rows() -> list[tuple[Any, ...]]:
    exchanges = by_name()
    return [(name, exchanges[name], call, member) for name, call, member in STREAMS]


@wire.parametrize("exchange, call, member", _stream_rows)
def test_a_stream_sends_the_same_request_and_yields_the_recorded_items(exchange, call, member):
    db, runtime = database(db_of(exchange), [recorded(exchange)])
    stream = call(db, exchange)
    assert runtime.sent == []  # nothing is sent before iteration
    items = drain(stream)
    check_sent(runtime.sent[0], exchange)
    answer = body_of(exchange)
    assert items == answer[member]
    assert stream.meta == {key: value for key, value in answer.items() if key != member}


# --- find_all over the recorded bookmark pages ------------------------------------------------


def _pages() -> list[tuple[Any, ...]]:
    exchanges = by_name()
    return [("find_page_1-2-3", [exchanges[f"find_page_{n}"] for n in (1, 2, 3)])]


@wire.parametrize("pages", _pages)
def test_find_all_follows_couchdbs_bookmarks_and_stops_at_a_short_page(pages):
    db, runtime = database("wire_mango", [recorded(page) for page in pages])
    stream = db.find_all({"n": {"$gte": 1}}, fields=["_id", "n"], page_size=4)
    docs = drain(stream)
    assert len(runtime.sent) == 3  # page 3 holds 2 docs: no fourth request
    for sent, page in zip(runtime.sent, pages, strict=False):
        check_sent(sent, page)
    assert docs == [doc for page in pages for doc in body_of(page)["docs"]]
    assert [doc["n"] for doc in docs] == list(range(1, 11))
    assert stream.meta["paging"] == "bookmark"
    assert stream.meta["bookmark"] == body_of(pages[-1])["bookmark"]


def page(docs: list[Any], **members: Any) -> Answer:
    return Answer(200, {"Content-Type": "application/json"}, dumps({"docs": docs, **members}))


def doc_ids(*ids: str) -> list[dict[str, str]]:
    return [{"_id": i} for i in ids]


def sent_bodies(runtime: Replay) -> list[Any]:
    return [loads(body) for _, _, _, body in runtime.sent]


def test_find_all_pages_by_skip_where_no_bookmark_comes_back():
    # PouchDB Server: no bookmark; a page may be short while more match (it filters after limit)
    db, runtime = database("db", [page(doc_ids("a", "b")), page(doc_ids("c", "d", "e")), page(doc_ids("f")), page([])])
    stream = db.find_all({"n": {"$gt": 0}}, page_size=3)
    assert [doc["_id"] for doc in drain(stream)] == ["a", "b", "c", "d", "e", "f"]
    bodies = sent_bodies(runtime)
    assert [body.get("skip") for body in bodies] == [None, 3, 6, 9]
    assert all(body["limit"] == 3 and "bookmark" not in body for body in bodies)
    assert stream.meta["paging"] == "skip"


def test_find_all_refuses_a_server_that_answers_the_first_page_again():
    first = doc_ids("a", "b")
    db, runtime = database("db", [page(first, bookmark="b1"), page(first, bookmark="b2")])
    stream = db.find_all({}, page_size=2)
    assert run(stream.__anext__()) == {"_id": "a"}
    assert run(stream.__anext__()) == {"_id": "b"}
    with pytest.raises(CouchDBError) as caught:
        run(stream.__anext__())  # before yielding anything twice
    assert "first page again" in str(caught.value)
    assert caught.value.url == f"{BASE}/db/_find"
    assert sent_bodies(runtime)[1]["bookmark"] == "b1"


def test_find_all_refuses_a_bookmark_that_does_not_advance():
    db, runtime = database("db", [page(doc_ids("a", "b"), bookmark="b1"), page(doc_ids("c", "d"), bookmark="b1")])
    with pytest.raises(CouchDBError) as caught:
        drain(db.find_all({}, page_size=2))
    assert "did not advance" in str(caught.value)


def test_find_all_with_no_results_sends_one_request():
    db, runtime = database("db", [page([], bookmark="nil")])
    assert drain(db.find_all({"x": 1})) == []
    assert len(runtime.sent) == 1


# --- errors ------------------------------------------------------------------------------------

ERRORS: list[tuple[str, Callable[..., Any], type[Exception], str | None]] = [
    (
        "find_bad_bookmark",
        lambda db, x: db.find({"n": {"$gte": 1}}, fields=["_id", "n"], limit=4, bookmark="garbage"),
        BadRequest,
        "invalid_bookmark",
    ),
    ("find_invalid_operator", lambda db, x: db.find({"n": {"$bogus": 1}}), BadRequest, "invalid_operator"),
    ("update_post_no_id", lambda db, x: db.update("wire", "u", body={"x": 1}), BadRequest, "no id"),
    ("show_missing_function", lambda db, x: db.show("wire", "nope", "v01"), NotFound, "not_found"),
    ("list_missing", lambda db, x: db.list_view("wire", "nope", "by_n"), NotFound, "not_found"),
    ("view_missing", lambda db, x: db.view_queries("wire/nope", [{}]), ViewError, None),
    ("part_on_plain_db", lambda db, x: db.partition_info("x"), BadRequest, "bad_request"),
    ("part_view_global_query", lambda db, x: db.view("p/by_v"), BadRequest, "query_parse_error"),
    ("part_global_view_in_partition", lambda db, x: db.view("g/by_v", partition="sensor1"), BadRequest, None),
]


def _error_rows() -> list[tuple[Any, ...]]:
    exchanges = by_name()
    return [(name, exchanges[name], call, kind, error) for name, call, kind, error in ERRORS]


@wire.parametrize("exchange, call, kind, error", _error_rows)
def test_couchdbs_error_answers_are_raised_typed(exchange, call, kind, error):
    db, runtime = database(db_of(exchange), [recorded(exchange)])
    with pytest.raises(kind) as caught:
        run(call(db, exchange))
    if exchange["name"] != "view_missing":  # that one answers a GET; /queries is a POST
        check_sent(runtime.sent[0], exchange)
    if error is not None:
        assert caught.value.error == error


def test_a_find_answer_without_the_bookmark_sent_is_an_error():
    db, _ = database("db", [page(doc_ids("a"))])
    with pytest.raises(CouchDBError) as caught:
        run(db.find({}, bookmark="g1AAAA"))
    assert "ignored" in str(caught.value)


# --- argument checks (pure) ------------------------------------------------------------------


@pytest.mark.parametrize("partition", ["_bad", "a:b", ""])
def test_a_bad_partition_is_refused_before_sending(partition):
    db, runtime = database("wire_part", [])
    with pytest.raises(InvalidArgument):
        run(db.partition_info(partition))
    with pytest.raises(InvalidArgument):
        run(db.find({}, partition=partition))
    assert runtime.sent == []


def test_a_partition_name_is_sent_as_one_encoded_segment():
    db, runtime = database("db", [Answer(200, {}, b"{}")])
    run(db.partition_info("a/b c"))
    assert urlsplit(runtime.sent[0][1]).path == "/db/_partition/a%2Fb%20c"
