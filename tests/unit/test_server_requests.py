"""The exact requests of the Server's node, scheduler and replication methods (``_nodes.py``, ``_replication.py``).

Most of these endpoints exist only on Apache CouchDB, so beside the behaviour
tests (which need a CouchDB for them) each method is checked here, with no
server: a recording stand-in for our own Runtime interface answers with the
response CouchDB gave in the wire corpus, and the test compares the request
the library built (method, target, body) with the one recorded, and the
result with what CouchDB answered. Bad arguments must fail before anything
is sent.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

import wire
from hosts import Canned, classes
from wallaby.backends.couchdb._core.errors import InvalidArgument, InvalidType, ResponseError
from wallaby.backends.couchdb._core.json import loads

BASE = "http://127.0.0.1:5985"  # where the corpus' CouchDB listened
SOURCE = "http://admin:<redacted>@127.0.0.1:5985/wire_rep_src"  # the corpus' URL-string endpoints


# --- a recording Runtime -----------------------------------------------------------


class RecordingRuntime:
    """Our Runtime interface, recording each request and answering from a queue."""

    def __init__(self, timeouts: Any, tls: Any = None) -> None:
        self.timeouts = timeouts
        self.sent: list[dict[str, Any]] = []
        self.replies: deque[Canned] = deque()

    async def request(self, method: str, url: str, headers: Any, body: bytes | None, read_timeout: Any) -> Canned:
        self.sent.append(
            {"method": method, "url": url, "headers": dict(headers), "body": body, "read_timeout": read_timeout}
        )
        return self.replies.popleft() if self.replies else Canned()

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("no sleeping in these requests")

    def spawn(self, coro: Any) -> Any:
        raise AssertionError("no background task in these requests")

    def new_waiter(self) -> Any:
        raise AssertionError("no waiter in these requests")

    def is_cancellation(self, exc: BaseException) -> bool:
        return False

    def is_awaitable(self, value: Any) -> bool:
        return False

    async def close(self) -> None:
        pass


Server, Database = classes(RecordingRuntime)


def run(coro: Any) -> Any:
    """Drive a core coroutine whose awaits never suspend (the runtime answers at once)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine waited for something")


def admin() -> Server:
    """A server as the corpus' recorder reached CouchDB: its admin, password redacted."""
    return Server(BASE, "admin", "<redacted>")


# --- every call, against the exchange CouchDB recorded -------------------------------

# (corpus file, exchange names in order, the call)
CALLS: list[tuple[str, tuple[str, ...], Callable[[Server], Any]]] = [
    ("server.json", ("up",), lambda s: s.up()),
    ("server.json", ("active_tasks",), lambda s: s.active_tasks()),
    ("server.json", ("membership",), lambda s: s.membership()),
    ("server.json", ("node_local",), lambda s: s.node_info()),
    ("server.json", ("node_system",), lambda s: s.system()),
    ("server.json", ("config_section",), lambda s: s.config(section="couchdb")),
    ("server.json", ("config_key",), lambda s: s.config("_local", "couchdb", "max_document_size")),
    ("server.json", ("stats_request_time",), lambda s: s.stats(path="couchdb/request_time")),
    ("server.json", ("stats_request_time",), lambda s: s.stats("_local", ("couchdb", "request_time"))),
    ("server.json", ("scheduler_jobs_idle",), lambda s: s.scheduler_jobs()),
    ("server.json", ("all_dbs",), lambda s: s.all_dbs()),
    (
        "server.json",
        ("all_dbs_range_limit_skip",),
        lambda s: s.all_dbs(startkey="wire_srv_", endkey="wire_srv_\ufff0", limit=2, skip=1),
    ),
    (
        "server.json",
        ("all_dbs_descending",),
        lambda s: s.all_dbs(descending=True, startkey="wire_srv_c", endkey="wire_srv_", limit=2),
    ),
    ("errors.json", ("config_set_max_document_size",), lambda s: s.set_config("couchdb", "max_document_size", "1024")),
    (
        "errors.json",
        ("config_set_max_http_request_size",),
        lambda s: s.set_config("chttpd", "max_http_request_size", 2048),
    ),
    (
        "replication.json",
        ("replicate_local_names",),
        lambda s: s.replicate("wire_rep_src", "wire_rep_tgt1", create_target=True),
    ),
    (
        "replication.json",
        ("replicate_url_objects",),
        lambda s: s.replicate(s.database("wire_rep_src"), s.database("wire_rep_tgt2"), create_target=True),
    ),
    (
        "replication.json",
        ("replicate_url_strings_doc_ids",),
        lambda s: s.replicate(SOURCE, SOURCE[:-3] + "tgt3", create_target=True, doc_ids=["r1", "r2"]),
    ),
    ("replication.json", ("replicate_target_missing",), lambda s: s.replicate(SOURCE, SOURCE[:-3] + "missing")),
    (
        "replication.json",
        ("replicate_source_missing",),
        lambda s: s.replicate(SOURCE[:-3] + "nosuch", SOURCE[:-3] + "tgt5", create_target=True),
    ),
    (
        "replication.json",
        ("replicate_continuous_start",),
        lambda s: s.replicate(SOURCE, SOURCE[:-3] + "tgt6", create_target=True, continuous=True),
    ),
    (
        "replication.json",
        ("replicate_cancel",),
        lambda s: s.replicate(SOURCE, SOURCE[:-3] + "tgt6", create_target=True, continuous=True, cancel=True),
    ),
    (
        "replication.json",
        ("replicate_cancel_again",),
        lambda s: s.replicate(SOURCE, SOURCE[:-3] + "tgt6", create_target=True, continuous=True, cancel=True),
    ),
    ("replication.json", ("replicate_cancel_by_id",), lambda s: s.cancel_replication("0123456789abcdef+continuous")),
    (
        "replication.json",
        ("replicate_cancel_by_id",),
        lambda s: s.cancel_replication({"ok": True, "_local_id": "0123456789abcdef+continuous"}),
    ),
    (
        "replication.json",
        ("replicate_cancel_by_id",),
        lambda s: s.replicate(None, None, cancel=True, replication_id="0123456789abcdef+continuous"),
    ),
    ("replication.json", ("active_tasks_replicating",), lambda s: s.active_tasks()),
    ("replication.json", ("scheduler_jobs",), lambda s: s.scheduler_jobs()),
    ("replication.json", ("scheduler_docs",), lambda s: s.scheduler_docs()),
    ("replication.json", ("scheduler_docs_replicator_db",), lambda s: s.scheduler_docs("_replicator")),
    ("replication.json", ("scheduler_doc_one",), lambda s: s.scheduler_doc("wire_rep_cont")),
    (
        "replication.json",
        ("scheduler_job_one",),
        lambda s: s.scheduler_job("e860c9f46e42650626f30f19aa36143c+continuous+create_target"),
    ),
    ("replication.json", ("scheduler_job_missing",), lambda s: s.scheduler_job("nope")),
    (
        "replication.json",
        ("replicator_doc_put_continuous",),
        lambda s: s.start_replication(
            "wire_rep_cont", SOURCE, SOURCE[:-3] + "tgt7", create_target=True, continuous=True
        ),
    ),
    (
        "replication.json",
        ("replicator_doc_put_once",),
        lambda s: s.start_replication("wire_rep_once", SOURCE, SOURCE[:-3] + "tgt4", create_target=True),
    ),
    (
        "replication.json",
        ("replicator_doc_put_bad_source",),
        lambda s: s.start_replication("wire_rep_bad", SOURCE[:-3] + "nosuch", SOURCE[:-3] + "tgt5"),
    ),
    (
        "replication.json",
        ("replicator_doc_get_continuous", "replicator_doc_delete"),
        lambda s: s.stop_replication("wire_rep_cont"),
    ),
    ("replication.json", ("scheduler_doc_completed",), lambda s: s.scheduler_doc("wire_rep_once")),
]


def _exchange(file: str, name: str) -> dict[str, Any]:
    for exchange in wire.exchanges(file):
        if exchange["name"] == name:
            return exchange
    raise LookupError(f"{file} has no exchange {name!r}")


def _call_rows():
    seen: dict[str, int] = {}
    for file, names, call in CALLS:
        test_id = "+".join(names)
        seen[test_id] = seen.get(test_id, 0) + 1
        if seen[test_id] > 1:
            test_id += f"-{seen[test_id]}"
        yield test_id, [_exchange(file, name) for name in names], call


def _decoded(response: dict[str, Any]) -> Any:
    raw = wire.raw_body(response)
    return loads(raw) if raw else None


def _sent_body(request: dict[str, Any]) -> Any:
    encoding = request.get("body_encoding")
    if encoding == "json":
        return request["body"]
    if encoding == "text":
        return json.loads(request["body"])
    return None


@wire.parametrize("exchanges, call", _call_rows)
def test_the_request_is_the_one_couchdb_answered(exchanges, call):
    server = admin()
    runtime = server._client.runtime
    for exchange in exchanges:
        response = exchange["couchdb"]
        runtime.replies.append(Canned(response["status"], wire.raw_body(response)))
    last = exchanges[-1]["couchdb"]
    if last["status"] >= 400:
        with pytest.raises(ResponseError) as caught:
            run(call(server))
        assert caught.value.status == last["status"]
        assert caught.value.error == last["body"]["error"]
    else:
        assert run(call(server)) == _decoded(last)
    assert len(runtime.sent) == len(exchanges)
    for sent, exchange in zip(runtime.sent, exchanges, strict=False):
        recorded = wire.request(exchange)
        assert sent["method"] == recorded["method"]
        assert sent["url"] == BASE + recorded["target"]
        body = _sent_body(recorded)
        if body is None:
            assert sent["body"] is None
        else:
            assert loads(sent["body"]) == body
            assert sent["headers"]["Content-Type"] == "application/json"
        assert sent["headers"]["Authorization"].startswith("Basic ")


def test_replication_state_is_the_scheduler_docs_state():
    for name, state in (("scheduler_doc_completed", "completed"), ("scheduler_doc_failed", "crashing")):
        exchange = _exchange("replication.json", name)
        server = admin()
        server._client.runtime.replies.append(Canned(200, wire.raw_body(exchange["couchdb"])))
        docid = exchange["couchdb"]["body"]["doc_id"]
        assert run(server.replication_state(docid)) == state
        assert server._client.runtime.sent[0]["url"] == BASE + exchange["request"]["target"]


# --- endpoints ------------------------------------------------------------------------


def _body_of(server: Server) -> dict[str, Any]:
    return loads(server._client.runtime.sent[-1]["body"])


def test_a_database_of_a_server_without_credentials_is_sent_as_its_url():
    server = Server(BASE)
    run(server.replicate(server.database("a/b"), Database("c", url="http://other:5984")))
    assert _body_of(server) == {"source": BASE + "/a%2Fb", "target": "http://other:5984/c"}


def test_a_databases_credentials_go_in_the_auth_object_never_in_the_url():
    server = Server("http://alice:s3cret@127.0.0.1:5985")
    other = Database("remote", "bob", "pw:with@signs", url="https://couch.example.com")
    run(server.replicate(server.database("here"), other, continuous=True))
    body = _body_of(server)
    assert body["source"] == {"url": BASE + "/here", "auth": {"basic": {"username": "alice", "password": "s3cret"}}}
    assert body["target"] == {
        "url": "https://couch.example.com/remote",
        "auth": {"basic": {"username": "bob", "password": "pw:with@signs"}},
    }
    for value in (body["source"]["url"], body["target"]["url"]):
        assert "@" not in urlsplit(value).netloc
    assert body["continuous"] is True


def test_an_endpoint_dict_is_sent_as_given():
    server = Server(BASE)
    source = {"url": "http://127.0.0.1:5985/a", "headers": {"Authorization": "Bearer x"}}
    run(server.replicate(source, "b"))
    assert _body_of(server)["source"] == source


def test_every_option_is_sent_under_its_couchdb_name():
    server = Server(BASE)
    run(
        server.replicate(
            "a",
            "b",
            filter="ddoc/only",
            since_seq="12-abc",
            query_params={"kind": "x"},
            create_target_params={"q": 1},
            winning_revs_only=True,
            checkpoint_interval=5000,
            source_proxy="http://proxy:3128",
        )
    )
    assert _body_of(server) == {
        "source": "a",
        "target": "b",
        "filter": "ddoc/only",
        "since_seq": "12-abc",
        "query_params": {"kind": "x"},
        "create_target_params": {"q": 1},
        "winning_revs_only": True,
        "checkpoint_interval": 5000,
        "source_proxy": "http://proxy:3128",
    }


def test_a_selector_is_sent_as_json():
    server = Server(BASE)
    run(server.start_replication("by-type", "a", "b", selector={"type": "x"}))
    sent = server._client.runtime.sent[-1]
    assert (sent["method"], sent["url"]) == ("PUT", BASE + "/_replicator/by-type")
    assert loads(sent["body"]) == {"source": "a", "target": "b", "selector": {"type": "x"}}


def test_another_replicator_database_is_one_encoded_segment():
    server = Server(BASE)
    run(server.start_replication("r 1", "a", "b", replicator_db="team/_replicator"))
    run(server.scheduler_docs("team/_replicator", limit=5, skip=1, states=["running", "crashing"]))
    run(server.scheduler_doc("r 1", "team/_replicator"))
    urls = [sent["url"] for sent in server._client.runtime.sent]
    assert urls == [
        BASE + "/team%2F_replicator/r%201",
        BASE + "/_scheduler/docs/team%2F_replicator?limit=5&skip=1&states=running%2Ccrashing",
        BASE + "/_scheduler/docs/team%2F_replicator/r%201",
    ]


def test_replicate_waits_with_the_read_timeout_it_is_given():
    server = Server(BASE, read_timeout=7)
    run(server.replicate("a", "b"))
    run(server.replicate("a", "b", read_timeout=None))
    run(server.replicate("a", "b", read_timeout=3600))
    assert [sent["read_timeout"] for sent in server._client.runtime.sent] == [7, None, 3600]


def test_stop_replication_reads_the_rev_again_after_a_conflict():
    server = Server(BASE)
    runtime = server._client.runtime
    runtime.replies.extend(
        [
            Canned(200, b'{"_id":"r","_rev":"1-a"}'),
            Canned(409, b'{"error":"conflict","reason":"Document update conflict."}'),
            Canned(200, b'{"_id":"r","_rev":"2-b","_replication_state":"completed"}'),
            Canned(200, b'{"ok":true,"id":"r","rev":"3-c"}'),
        ]
    )
    assert run(server.stop_replication("r")) == {"ok": True, "id": "r", "rev": "3-c"}
    assert [(sent["method"], sent["url"]) for sent in runtime.sent] == [
        ("GET", BASE + "/_replicator/r"),
        ("DELETE", BASE + "/_replicator/r?rev=1-a"),
        ("GET", BASE + "/_replicator/r"),
        ("DELETE", BASE + "/_replicator/r?rev=2-b"),
    ]


# --- nodes, config, stats, cluster setup -----------------------------------------------


@pytest.mark.parametrize(
    ("call", "method", "target", "body"),
    [
        (lambda s: s.config(), "GET", "/_node/_local/_config", None),
        (lambda s: s.config("couchdb@127.0.0.1"), "GET", "/_node/couchdb%40127.0.0.1/_config", None),
        (lambda s: s.config(section="log", key="level"), "GET", "/_node/_local/_config/log/level", None),
        (lambda s: s.config(section="a/b", key="c d"), "GET", "/_node/_local/_config/a%2Fb/c%20d", None),
        (lambda s: s.set_config("log", "level", "debug"), "PUT", "/_node/_local/_config/log/level", b'"debug"'),
        (lambda s: s.set_config("x", "on", True), "PUT", "/_node/_local/_config/x/on", b'"true"'),
        (lambda s: s.set_config("x", "n", 1.5, node="n@h"), "PUT", "/_node/n%40h/_config/x/n", b'"1.5"'),
        (lambda s: s.set_config("x", "empty", ""), "PUT", "/_node/_local/_config/x/empty", b'""'),
        (lambda s: s.delete_config("log", "level"), "DELETE", "/_node/_local/_config/log/level", None),
        (lambda s: s.reload_config(), "POST", "/_node/_local/_config/_reload", None),
        (lambda s: s.stats(), "GET", "/_node/_local/_stats", None),
        (lambda s: s.stats("n@h", ["couchdb"]), "GET", "/_node/n%40h/_stats/couchdb", None),
        (lambda s: s.versions(), "GET", "/_node/_local/_versions", None),
        (lambda s: s.cluster_setup(), "GET", "/_cluster_setup", None),
        (
            lambda s: s.cluster_setup(ensure_dbs_exist=["_users", "_replicator"]),
            "GET",
            "/_cluster_setup?ensure_dbs_exist=%5B%22_users%22%2C%22_replicator%22%5D",
            None,
        ),
        (
            lambda s: s.cluster_setup(
                "enable_single_node", username="admin", password="pw", bind_address="0.0.0.0", port=5984
            ),
            "POST",
            "/_cluster_setup",
            b'{"action":"enable_single_node","username":"admin","password":"pw","bind_address":"0.0.0.0","port":5984}',
        ),
        (
            lambda s: s.cluster_setup("add_node", host="10.0.0.2", port=5984, username="admin", password="pw"),
            "POST",
            "/_cluster_setup",
            b'{"action":"add_node","host":"10.0.0.2","port":5984,"username":"admin","password":"pw"}',
        ),
        (lambda s: s.cluster_setup("finish_cluster"), "POST", "/_cluster_setup", b'{"action":"finish_cluster"}'),
        (lambda s: s.scheduler_jobs(limit=10, skip=20), "GET", "/_scheduler/jobs?limit=10&skip=20", None),
        (lambda s: s.scheduler_docs(states="running,failed"), "GET", "/_scheduler/docs?states=running%2Cfailed", None),
    ],
)
def test_node_requests(call, method, target, body):
    server = Server(BASE)
    run(call(server))
    sent = server._client.runtime.sent[-1]
    assert (sent["method"], sent["url"], sent["body"]) == (method, BASE + target, body)


def test_persist_false_is_sent_as_x_couch_persist():
    server = Server(BASE)
    run(server.set_config("log", "level", "debug", persist=False))
    run(server.delete_config("log", "level", persist=False))
    run(server.set_config("log", "level", "info"))
    headers = [sent["headers"] for sent in server._client.runtime.sent]
    assert [h.get("X-Couch-Persist") for h in headers] == ["false", "false", None]
    assert headers[0]["Content-Type"] == "application/json"


def test_set_config_answers_the_old_value():
    server = Server(BASE)
    server._client.runtime.replies.append(Canned(200, b'"info"\n'))
    assert run(server.set_config("log", "level", "debug")) == "info"


# --- refused before sending ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error"),
    [
        # nodes and config
        (lambda s: s.config("nonode"), InvalidArgument),
        (lambda s: s.config(""), InvalidArgument),
        (lambda s: s.config(5), InvalidType),
        (lambda s: s.config(section=""), InvalidArgument),
        (lambda s: s.config(section="log", key=""), InvalidArgument),
        (lambda s: s.config(key="level"), InvalidArgument),
        (lambda s: s.config(section=3), InvalidType),
        (lambda s: s.set_config("", "k", "v"), InvalidArgument),
        (lambda s: s.set_config("s", "", "v"), InvalidArgument),
        (lambda s: s.set_config("s", None, "v"), InvalidType),
        (lambda s: s.set_config("s", "k", None), InvalidType),
        (lambda s: s.set_config("s", "k", ["v"]), InvalidType),
        (lambda s: s.set_config("s", "k", "v", node="local"), InvalidArgument),
        (lambda s: s.delete_config("s", ""), InvalidArgument),
        (lambda s: s.delete_config(None, "k"), InvalidType),
        (lambda s: s.set_config("s", "k", "v", persist="no"), InvalidType),
        (lambda s: s.stats(path="couchdb//request_time"), InvalidArgument),
        (lambda s: s.stats(path=5), InvalidType),
        (lambda s: s.stats(path=("couchdb", 1)), InvalidType),
        (lambda s: s.system("x"), InvalidArgument),
        (lambda s: s.node_info("\ud800@h"), InvalidArgument),
        # cluster setup
        (lambda s: s.cluster_setup("explode"), InvalidArgument),
        (lambda s: s.cluster_setup(5), InvalidType),
        (lambda s: s.cluster_setup("finish_cluster", username="x"), InvalidArgument),
        (lambda s: s.cluster_setup("add_node", node_count=3), InvalidArgument),
        (lambda s: s.cluster_setup(username="x"), InvalidArgument),
        (lambda s: s.cluster_setup(ensure_dbs_exist="_users"), InvalidType),
        # scheduler
        (lambda s: s.scheduler_jobs(states=["running"]), InvalidArgument),
        (lambda s: s.scheduler_jobs(limit=-1), InvalidArgument),
        (lambda s: s.scheduler_docs(limit="10"), InvalidArgument),
        (lambda s: s.scheduler_docs(descending=True), InvalidArgument),
        (lambda s: s.scheduler_docs("mine"), InvalidArgument),
        (lambda s: s.scheduler_docs(states=[""]), InvalidArgument),
        (lambda s: s.scheduler_job(""), InvalidArgument),
        (lambda s: s.scheduler_job(None), InvalidType),
        (lambda s: s.scheduler_doc("_design/x"), InvalidArgument),
        (lambda s: s.scheduler_doc("r", replicator_db="_users"), InvalidArgument),
        # replicate
        (lambda s: s.replicate(None, "b"), InvalidType),
        (lambda s: s.replicate("a", 12), InvalidType),
        (lambda s: s.replicate("", "b"), InvalidArgument),
        (lambda s: s.replicate("ftp://host/a", "b"), InvalidArgument),
        (lambda s: s.replicate("http:///a", "b"), InvalidArgument),
        (lambda s: s.replicate({"headers": {}}, "b"), InvalidArgument),
        (lambda s: s.replicate("a", "b", continuous="yes"), InvalidType),
        (lambda s: s.replicate("a", "b", cancel=1), InvalidType),
        (lambda s: s.replicate("a", "b", create_target=None), InvalidType),
        (lambda s: s.replicate("a", "b", doc_ids="x"), InvalidType),
        (lambda s: s.replicate("a", "b", doc_ids=["x", ""]), InvalidArgument),
        (lambda s: s.replicate("a", "b", doc_ids=["x"], filter="d/f"), InvalidArgument),
        (lambda s: s.replicate("a", "b", selector={}, filter="d/f"), InvalidArgument),
        (lambda s: s.replicate("a", "b", filter=""), InvalidArgument),
        (lambda s: s.replicate("a", "b", selector="type"), InvalidType),
        (lambda s: s.replicate("a", "b", since_seq=True), InvalidType),
        (lambda s: s.replicate("a", "b", since_seq=1.5), InvalidType),
        (lambda s: s.replicate("a", "b", filtre="d/f"), InvalidArgument),
        (lambda s: s.replicate("a", "b", checkpoint_interval="5s"), InvalidArgument),
        (lambda s: s.replicate("a", "b", winning_revs_only=1), InvalidArgument),
        (lambda s: s.replicate("a", "b", read_timeout="60"), InvalidType),
        (lambda s: s.replicate("a", "b", replication_id="x"), InvalidArgument),
        (lambda s: s.replicate("a", "b", cancel=True, replication_id="x"), InvalidArgument),
        (lambda s: s.replicate(None, None, cancel=True, replication_id=""), InvalidArgument),
        (lambda s: s.replicate(None, None, cancel=True, replication_id="x", continuous=True), InvalidArgument),
        (lambda s: s.cancel_replication(""), InvalidArgument),
        (lambda s: s.cancel_replication({"ok": True}), InvalidArgument),
        (lambda s: s.cancel_replication(None), InvalidArgument),
        # _replicator documents
        (lambda s: s.start_replication("", "a", "b"), InvalidArgument),
        (lambda s: s.start_replication("_design/r", "a", "b"), InvalidArgument),
        (lambda s: s.start_replication(7, "a", "b"), InvalidType),
        (lambda s: s.start_replication("r", 12, "x"), InvalidType),  # CouchDB: 403 {error,function_clause}
        (lambda s: s.start_replication("r", "a", "b", replicator_db="replicator"), InvalidArgument),
        (lambda s: s.start_replication("r", "a", "b", cancel=True), InvalidArgument),
        (lambda s: s.stop_replication("_local/r"), InvalidArgument),
        (lambda s: s.stop_replication("r", replicator_db=""), InvalidArgument),
        (lambda s: s.replication_state(""), InvalidArgument),
    ],
)
def test_bad_arguments_are_refused_before_sending(call, error):
    server = Server(BASE)
    with pytest.raises(error):
        run(call(server))
    assert server._client.runtime.sent == []


def test_no_credentials_in_a_servers_repr_or_its_replication_errors():
    server = Server("http://alice:s3cret@127.0.0.1:5985")
    assert "s3cret" not in repr(server)
    server._client.runtime.replies.append(Canned(500, b'{"error":"db_not_found","reason":"could not open x"}'))
    with pytest.raises(ResponseError) as caught:
        run(server.replicate(server.database("a"), server.database("b")))
    for text in (str(caught.value), repr(caught.value), caught.value.url):
        assert "s3cret" not in text


# --- stop_replication on a cluster: a delete taken as a branch (202) -------------------------


def stopped(*answers: tuple[int, dict[str, Any]]) -> tuple[Any, list[tuple[str, str]]]:
    """What ``stop_replication("r")`` returns when the server answers ``answers`` in turn, and what it sent."""
    server = Server(BASE)
    server._client.runtime.replies.extend(Canned(status, json.dumps(body).encode()) for status, body in answers)
    result = run(server.stop_replication("r"))
    return result, [(sent["method"], sent["url"].removeprefix(BASE)) for sent in server._client.runtime.sent]


def test_a_delete_answered_202_while_the_document_lives_on_is_sent_again():
    result, sent = stopped(
        (200, {"_id": "r", "_rev": "1-a"}),
        (202, {"ok": True, "id": "r", "rev": "2-x"}),  # one copy took it; the others had the replicator's 2-b
        (200, {"_id": "r", "_rev": "2-b"}),
        (200, {"ok": True, "id": "r", "rev": "3-c"}),
    )
    assert result == {"ok": True, "id": "r", "rev": "3-c"}
    assert sent == [("GET", "/_replicator/r"), ("DELETE", "/_replicator/r?rev=1-a")] + [
        ("GET", "/_replicator/r"),
        ("DELETE", "/_replicator/r?rev=2-b"),
    ]


def test_a_delete_answered_202_that_took_is_the_result():
    result, sent = stopped(
        (200, {"_id": "r", "_rev": "1-a"}),
        (202, {"ok": True, "id": "r", "rev": "2-x"}),
        (404, {"error": "not_found", "reason": "deleted"}),
    )
    assert result == {"ok": True, "id": "r", "rev": "2-x", "accepted": True}
    assert [method for method, _ in sent] == ["GET", "DELETE", "GET"]


@pytest.mark.parametrize("status", [201, 202])
def test_a_write_answered_202_says_accepted_and_one_answered_201_does_not(status):
    db = Server(BASE).database("db")
    db._client.runtime.replies.append(Canned(status, b'{"ok":true,"id":"a","rev":"1-x"}'))
    doc = {"_id": "a"}
    result = run(db.save(doc))
    assert doc["_rev"] == "1-x"
    assert result == (
        {"ok": True, "id": "a", "rev": "1-x", "accepted": True}
        if status == 202
        else {"ok": True, "id": "a", "rev": "1-x"}
    )


@pytest.mark.parametrize(("created", "deleted"), [(201, 200), (202, 202)])
def test_a_database_created_or_deleted_on_some_nodes_only_says_accepted(created, deleted):
    db = Server(BASE).database("db")
    db._client.runtime.replies.extend([Canned(created, b'{"ok":true}'), Canned(deleted, b'{"ok":true}')])
    accepted = {"accepted": True} if created == 202 else {}
    assert run(db.create()) == {"ok": True, **accepted}
    assert run(db.destroy()) == {"ok": True, **accepted}
