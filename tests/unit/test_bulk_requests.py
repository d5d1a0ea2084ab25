"""The requests of the bulk, revision, maintenance and document-extra methods, checked
against what CouchDB was sent and answered in the wire corpus.

Many of these endpoints are missing on PouchDB Server (``_local_docs``,
``_design_docs``, ``_missing_revs``, ``_purge``, ``_revs_limit``, ``_compact/{ddoc}``,
``/_dbs_info``), so their behaviour tests run only against Apache CouchDB. Here each
method runs on a Runtime that replays one recorded CouchDB exchange: the request the
method builds must be the recorded one (method, path, query, body, the headers that
matter), and the recorded answer must come back as the documented result. No server,
no loop: the coroutine never has to wait, so it is run to its end by hand.
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
from wallaby.backends.couchdb._api.bulk import bulk_get_items
from wallaby.backends.couchdb._api.documents import rev_from_etag
from wallaby.backends.couchdb._api.revisions import revs_mapping
from wallaby.backends.couchdb._core.errors import ClientError, InvalidArgument, InvalidType

BASE = "http://127.0.0.1:5985"


class Recorded:
    """A recorded answer, as a Runtime Response."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.status = response["status"]
        self._headers = {name.lower(): value for name, value in response["headers"].items()}
        self._body = wire.raw_body(response)

    def header(self, name: str) -> str | None:
        return self._headers.get(name.lower())

    async def read(self) -> bytes:
        return self._body

    def close(self) -> None:
        pass


class Replay:
    """A Runtime that answers every request with one recorded CouchDB answer and keeps what was sent."""

    def __init__(self, exchange: dict[str, Any]) -> None:
        self.exchange = exchange
        self.sent: list[tuple[str, str, dict[str, str], bytes | None]] = []

    async def request(self, method: str, url: str, headers: Any, body: bytes | None, read_timeout: Any) -> Recorded:
        self.sent.append((method, url, dict(headers), body))
        return Recorded(self.exchange["couchdb"])

    def is_awaitable(self, value: Any) -> bool:
        return inspect.isawaitable(value)

    async def close(self) -> None:
        pass


def replaying(exchange: dict[str, Any]) -> tuple[Any, Replay]:
    """A core Server whose requests all go to a Replay of ``exchange``."""
    runtime = Replay(exchange)

    Server, _ = classes(lambda *config: runtime)
    return Server(BASE), runtime


def run(coro: Any) -> Any:
    """Run a coroutine that never waits to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine waited for something")


def check_sent(runtime: Replay, exchange: dict[str, Any]) -> None:
    """The one request sent is the recorded one."""
    expected = wire.request(exchange)
    assert len(runtime.sent) == 1, runtime.sent
    method, url, headers, body = runtime.sent[0]
    target = urlsplit(url)
    assert method == expected["method"]
    assert target.path == expected["path"]
    assert dict(parse_qsl(target.query, keep_blank_values=True)) == expected["query"]
    encoding = expected["body_encoding"]
    if encoding == "json":
        assert json.loads(body) == expected["body"]
    elif encoding == "text":
        assert body.decode() == expected["body"]
    else:
        assert not body
    for name in ("Content-Type", "Destination"):
        assert headers.get(name) == expected["headers"].get(name), name


def couchdb_body(exchange: dict[str, Any]) -> Any:
    return exchange["couchdb"]["body"]


def req_body(exchange: dict[str, Any]) -> Any:
    return wire.request(exchange)["body"]


def db_of(exchange: dict[str, Any]) -> str:
    return wire.request(exchange)["path"].split("/")[1]


# (file, exchange name, call(db, server, exchange), expected result from the exchange)
CASES: list[tuple[str, str, Callable[..., Any], Callable[[dict[str, Any]], Any]]] = [
    ("documents.json", "doc_head", lambda db, srv, x: db.head("doc1"), lambda x: "4-f9c2de6a8a0ec2b080be85de587e51c4"),
    ("documents.json", "doc_head_missing", lambda db, srv, x: db.head("nope"), lambda x: None),
    ("documents.json", "doc_copy", lambda db, srv, x: db.copy("doc1", "doc1copy"), couchdb_body),
    (
        "documents.json",
        "doc_copy_existing_with_rev",
        lambda db, srv, x: db.copy("doc1", "doc1copy", "1-5f0d492c5cb2b3611237bf1224380d16"),
        couchdb_body,
    ),
    ("documents.json", "doc_copy_destination_encoded", lambda db, srv, x: db.copy("doc1", "copy/slash"), couchdb_body),
    (
        "documents.json",
        "doc_get_conflicts",
        lambda db, srv, x: db.conflicts("doc1"),
        lambda x: couchdb_body(x)["_conflicts"],
    ),
    (
        "documents.json",
        "doc_get_deleted_conflicts",
        lambda db, srv, x: db.get("doc1", deleted_conflicts=True),
        couchdb_body,
    ),
    (
        "documents.json",
        "doc_open_revs_latest",
        lambda db, srv, x: db.get("doc1", open_revs=["2-c5fabf33c1323d14a983f56ade37ab72"], latest=True),
        couchdb_body,
    ),
    ("documents.json", "local_docs", lambda db, srv, x: db.local_docs(), lambda x: couchdb_body(x)["rows"]),
    ("documents.json", "design_docs", lambda db, srv, x: db.design_docs(), lambda x: couchdb_body(x)["rows"]),
    (
        "documents.json",
        "bulk_docs_new_edits_false_branch",
        lambda db, srv, x: db.bulk_docs(req_body(x)["docs"], new_edits=False),
        couchdb_body,
    ),
    (
        "documents.json",
        "bulk_get",
        lambda db, srv, x: db.bulk_get([d if "rev" in d else d["id"] for d in req_body(x)["docs"]]),
        lambda x: couchdb_body(x)["results"],
    ),
    (
        "documents.json",
        "bulk_get_revs",
        lambda db, srv, x: db.bulk_get(["ne1"], revs=True),
        lambda x: couchdb_body(x)["results"],
    ),
    (
        "documents.json",
        "all_docs_keys_post",
        lambda db, srv, x: db.all_docs(keys=req_body(x)["keys"], include_docs=True),
        lambda x: couchdb_body(x)["rows"],
    ),
    ("documents.json", "revs_diff", lambda db, srv, x: db.revs_diff(req_body(x)), couchdb_body),
    (
        "documents.json",
        "missing_revs",
        lambda db, srv, x: db.missing_revs(req_body(x)),
        lambda x: couchdb_body(x)["missing_revs"],
    ),
    ("documents.json", "purge", lambda db, srv, x: db.purge(req_body(x)), couchdb_body),
    ("documents.json", "revs_limit_get", lambda db, srv, x: db.revs_limit(), lambda x: 1000),
    ("documents.json", "revs_limit_put", lambda db, srv, x: db.set_revs_limit(500), couchdb_body),
    ("documents.json", "compact", lambda db, srv, x: db.compact(), couchdb_body),
    ("documents.json", "compact_design", lambda db, srv, x: db.compact("d1"), couchdb_body),
    ("documents.json", "compact_design", lambda db, srv, x: db.compact("_design/d1"), couchdb_body),
    ("documents.json", "view_cleanup", lambda db, srv, x: db.view_cleanup(), couchdb_body),
    ("databases.json", "db_ensure_full_commit", lambda db, srv, x: db.ensure_full_commit(), couchdb_body),
    (
        "server.json",
        "dbs_info_get",
        lambda db, srv, x: srv.dbs_info(startkey="wire_srv_a", endkey="wire_srv_b"),
        couchdb_body,
    ),
    ("server.json", "dbs_info_post", lambda db, srv, x: srv.dbs_info(req_body(x)["keys"]), couchdb_body),
]


def _rows() -> list[tuple[Any, ...]]:
    by_name = {(file, x["name"]): x for file in {case[0] for case in CASES} for x in wire.exchanges(file)}
    rows = []
    seen: set[str] = set()
    for file, name, call, expected in CASES:
        test_id = name if name not in seen else f"{name}-again"
        seen.add(name)
        rows.append((test_id, by_name[(file, name)], call, expected))
    return rows


@wire.parametrize("exchange, call, expected", _rows)
def test_the_request_is_couchdbs_and_the_answer_is_the_result(exchange, call, expected):
    server, runtime = replaying(exchange)
    db = server.database(db_of(exchange)) if not wire.request(exchange)["path"].startswith("/_") else None
    result = run(call(db, server, exchange))
    check_sent(runtime, exchange)
    assert result == expected(exchange)


def _all_or_nothing() -> list[tuple[Any, ...]]:
    [exchange] = [x for x in wire.exchanges("errors.json") if x["name"] == "conflict_bulk_docs_all_or_nothing"]
    return [("conflict_bulk_docs_all_or_nothing", exchange)]


@wire.parametrize("exchange", _all_or_nothing)
def test_all_or_nothing_is_sent_and_couchdbs_417_raised(exchange):
    server, runtime = replaying(exchange)
    db = server.database(db_of(exchange))
    with pytest.raises(ClientError) as caught:
        run(db.bulk_docs(req_body(exchange)["docs"], all_or_nothing=True))
    check_sent(runtime, exchange)
    assert caught.value.status == 417


# --- the rev in an ETag --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("etag", "rev"),
    [
        ('"4-f9c2de6a8a0ec2b080be85de587e51c4"', "4-f9c2de6a8a0ec2b080be85de587e51c4"),
        ('"0-1"', "0-1"),
        ('"12-abc"', "12-abc"),
        ('W/"4-f9c2de6a8a0ec2b080be85de587e51c4"', None),
        ('W/"4c-shtLjfJv8WEpiE9n0MzMg4ciTuM"', None),
        ('"1CZ2BIB1LT35J10LDD01IV681"', None),
        ("4-f9c2de6a8a0ec2b080be85de587e51c4", None),
        ('"-abc"', None),
        ("", None),
        (None, None),
    ],
    ids=[
        "couchdb-rev",
        "local-rev",
        "short-rev",
        "weak",
        "pouchdb-hash",
        "not-a-rev",
        "unquoted",
        "no-number",
        "empty",
        "none",
    ],
)
def test_rev_from_etag_reads_only_a_strong_quoted_rev(etag, rev):
    assert rev_from_etag(etag) == rev


def _head_etags() -> list[tuple[Any, ...]]:
    rows = []
    for _file, exchange, server, response in wire.answers("documents.json"):
        etag = response["headers"].get("ETag")
        body = response.get("body")
        if (
            exchange["request"]["method"] == "GET"
            and response["status"] == 200
            and etag
            and isinstance(body, dict)
            and "_rev" in body
        ):
            rows.append((f"{exchange['name']}-{server}", server, etag, body["_rev"]))
    return rows


@wire.parametrize("server, etag, rev", _head_etags)
def test_a_recorded_etag_is_read_as_the_rev_only_where_it_is_one(server, etag, rev):
    # CouchDB: the quoted rev, except for _local docs (a hash there, as on PouchDB Server);
    # head() reads _rev with a GET whenever the ETag is not a rev.
    assert rev_from_etag(etag) in (rev, None)
    if server == "couchdb" and not rev.startswith("0-"):
        assert rev_from_etag(etag) == rev
    if server == "pouchdb" or rev.startswith("0-"):
        assert rev_from_etag(etag) is None


# --- argument checks (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("docs", "items"),
    [
        ([], []),
        (["a"], [{"id": "a"}]),
        (("a", {"id": "b", "rev": "1-x"}), [{"id": "a"}, {"id": "b", "rev": "1-x"}]),
        ([{"id": "a", "atts_since": ["1-x"]}], [{"id": "a", "atts_since": ["1-x"]}]),
        (["a/b", "_design/d"], [{"id": "a/b"}, {"id": "_design/d"}]),
    ],
    ids=["none", "id", "id-and-rev", "atts-since", "ids-as-they-are"],
)
def test_bulk_get_items(docs, items):
    assert bulk_get_items(docs) == items


@pytest.mark.parametrize(
    ("docs", "error"),
    [
        ("a", InvalidType),
        ({"id": "a"}, InvalidType),
        ([None], InvalidType),
        ([""], InvalidArgument),
        ([{}], InvalidArgument),
        ([{"id": 1}], InvalidType),
        ([{"id": "a", "rev": None}], InvalidType),
        ([{"id": "a", "rev": ""}], InvalidType),
        ([{"id": "a", "revs": ["1-x"]}], InvalidArgument),
        ([{"id": "a", "atts_since": "1-x"}], InvalidType),
        ([{"id": "a", "atts_since": [1]}], InvalidType),
    ],
    ids=[
        "str",
        "dict",
        "none-item",
        "empty-id",
        "no-id",
        "int-id",
        "none-rev",
        "empty-rev",
        "unknown-key",
        "atts-since-str",
        "atts-since-int",
    ],
)
def test_bulk_get_items_refuses(docs, error):
    with pytest.raises(error):
        bulk_get_items(docs)


def test_revs_mapping_copies_a_good_mapping():
    revs = {"a": ("1-x", "2-y"), "b": [], "_design/d": ["1-z"]}
    assert revs_mapping(revs) == {"a": ["1-x", "2-y"], "b": [], "_design/d": ["1-z"]}


@pytest.mark.parametrize(
    ("revs", "error"),
    [
        (["a"], InvalidType),
        ("a", InvalidType),
        ({"a": "1-x"}, InvalidType),
        ({"a": None}, InvalidType),
        ({"a": [1]}, InvalidType),
        ({"a": [""]}, InvalidType),
        ({1: ["1-x"]}, InvalidType),
        ({"": ["1-x"]}, InvalidArgument),
    ],
    ids=["list", "str", "bare-rev", "none-revs", "int-rev", "empty-rev", "int-id", "empty-id"],
)
def test_revs_mapping_refuses(revs, error):
    with pytest.raises(error):
        revs_mapping(revs)
