"""The test session: a real server, and every ``async def`` test run in each flavour.

A behaviour test is one ``async def`` body taking the ``couch`` fixture. It
runs once under asyncio (the ``aio`` flavour) and once under Twisted (the
seed flavour, methods return Deferreds) on the reactor that ``--reactor``
names: Twisted's default one, or the asyncio reactor. One process can hold
only one reactor, so the README's test command runs the suite twice.

The server is ``COUCHDB_URL`` when set (an Apache CouchDB 3.x, with admin
credentials in the URL), else a PouchDB Server started on a free port: the
library's own pytest plugin (``couchdb_service``) provides it. With
``--target=store`` (or ``WALLABY_TEST_TARGET=store``) it is the embedded
store instead, in memory: no server at all. The store follows CouchDB, so
``couchdb_only`` tests run on it too; ``server_only`` marks what only a
server does (users, replication, TLS, a TCP proxy in between...).

Two kinds of test do not run by default:

- ``couchdb_cluster``: they kill and revive a node of an Apache CouchDB
  cluster, so they run only where ``COUCHDB_CLUSTER_URL`` names the
  cluster's load balancer and ``COUCHDB_CLUSTER_CTL`` a command taking
  ``kill N`` and ``revive N`` (``tools/couchdb/cluster.sh``);
- ``soak``: a long load test, run with ``-m soak``.

docs/suite.md says how to point the suite at your own CouchDB or cluster.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import os
import shlex
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import orjson
import pytest

from wallaby.backends.couchdb.testing import PouchDBServer, free_port

TEST_TIMEOUT = 90.0

# Leaves a replicator writes with new_edits=False: the higher rev id wins among equals.
REV_B = "1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REV_C = "1-cccccccccccccccccccccccccccccccc"
REV_D = "1-dddddddddddddddddddddddddddddddd"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--target",
        choices=("server", "store"),
        default=os.environ.get("WALLABY_TEST_TARGET", "server"),
        help="server: PouchDB Server, or COUCHDB_URL; store: the embedded store (memory://), no server",
    )
    parser.addoption(
        "--reactor",
        choices=("default", "asyncio"),
        default="default",
        help="the reactor for the Twisted flavour; with 'asyncio' only the Twisted runs are made",
    )


def _flavours(config: pytest.Config) -> list[str]:
    if config.getoption("--reactor") == "asyncio":
        return ["twisted-asyncio-reactor"]
    return ["asyncio", "twisted"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "flavour" in metafunc.fixturenames:
        metafunc.parametrize("flavour", _flavours(metafunc.config), scope="session")


# What the embedded store does not answer yet: whole files (None), or tests by name. Empty now.
STORE_QUERY_SIDE: dict[str, tuple[str, ...] | None] = {}


def _needs_query_side(item: pytest.Item) -> bool:
    path = getattr(item, "path", None)
    if path is None or path.name not in STORE_QUERY_SIDE:
        return False
    names = STORE_QUERY_SIDE[path.name]
    return names is None or any(item.name.startswith(name) for name in names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--reactor") == "asyncio":
        # this run exists for the Twisted flavour on the asyncio reactor only
        items[:] = [item for item in items if "flavour" in getattr(item, "fixturenames", ())]
    if config.getoption("--target") == "store":
        # this run exists for what talks to a server (here the store); the rest ran already,
        # tests/store/ (the store's own tests) included
        def talks_to_a_server(item: pytest.Item) -> bool:
            uses = set(getattr(item, "fixturenames", ()))
            return bool({"couch", "server_info"} & uses) and item.path.parent.name != "store"

        items[:] = [item for item in items if talks_to_a_server(item)]
        later = pytest.mark.skip(reason="needs the embedded store's query side (views, Mango, JavaScript)")
        for item in items:
            if _needs_query_side(item):
                item.add_marker(later)
    if "soak" not in (config.getoption("markexpr") or ""):
        not_asked = pytest.mark.skip(reason="a soak test: run it with -m soak")
        for item in items:
            if item.get_closest_marker("soak"):
                item.add_marker(not_asked)


_reports: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _reports:
        terminalreporter.section("figures reported by the tests")
        for line in _reports:
            terminalreporter.write_line(line)


# --- the server ---------------------------------------------------------------


class ServerInfo:
    def __init__(self, url: str, kind: str, process: PouchDBServer | None) -> None:
        self.url = url
        self.kind = kind
        self.process = process
        self.copies = 1
        if kind == "couchdb":  # a database's copies of each shard: 1 on one node, n (3) on a cluster
            status, users = _admin_request(url, "GET", "/_users")
            if status == 200:
                self.copies = users.get("cluster", {}).get("n", 1)

    @property
    def is_couchdb(self) -> bool:
        """Apache CouchDB, or the embedded store, which follows it."""
        return self.kind in ("couchdb", "store")

    @property
    def is_store(self) -> bool:
        return self.kind == "store"


def _admin_request(url: str, method: str, path: str) -> tuple[int, Any]:
    """A request with the URL's credentials, outside any flavour: (status, decoded answer)."""
    from wallaby.backends.couchdb._core.urls import split_credentials

    base, user, password = split_credentials(url)
    request = urllib.request.Request(base + path, method=method)
    if user:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, orjson.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read() or b"null")


def _kind(url: str) -> str:
    _, welcome = _admin_request(url, "GET", "/")
    return "couchdb" if "couchdb" in welcome else "pouchdb"


STORE_URL = "memory://wallaby-tests"


@pytest.fixture(scope="session")
def server_info(request: pytest.FixtureRequest) -> ServerInfo:
    if request.config.getoption("--target") == "store":
        return ServerInfo(STORE_URL, "store", None)
    # the session's server comes from the library's pytest plugin (wallaby.backends.couchdb.pytest_plugin)
    couchdb_service = request.getfixturevalue("couchdb_service")
    if couchdb_service.process is not None:
        return ServerInfo(couchdb_service.url, "pouchdb", couchdb_service.process)
    return ServerInfo(couchdb_service.url, _kind(couchdb_service.url), None)


@pytest.fixture(autouse=True)
def _couchdb_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("couchdb_only"):
        info = request.getfixturevalue("server_info")
        if not info.is_couchdb:
            pytest.skip("Apache CouchDB only: set COUCHDB_URL to run it")
    marker = request.node.get_closest_marker("server_only")
    if marker is not None and request.config.getoption("--target") == "store":
        pytest.skip(f"a server's behaviour, not the embedded store's: {marker.args[0] if marker.args else ''}")


@pytest.fixture(scope="session")
def global_changes(server_info: ServerInfo) -> Any:
    """``_global_changes``, which CouchDB's ``/_db_updates`` needs; one the session made is deleted after it."""
    made = server_info.kind == "couchdb" and _admin_request(server_info.url, "PUT", "/_global_changes")[0] in (201, 202)
    yield
    if made:
        _admin_request(server_info.url, "DELETE", "/_global_changes")


class Cluster:
    """An Apache CouchDB cluster behind a load balancer, and the command that kills and revives its nodes."""

    def __init__(self, url: str, ctl: str) -> None:
        self.url = url.rstrip("/")
        self.ctl = shlex.split(ctl)

    def kill(self, node: int) -> None:
        """SIGKILL node ``node`` (1, 2, 3...)."""
        subprocess.run([*self.ctl, "kill", str(node)], check=True, capture_output=True, timeout=60)

    def revive(self, node: int) -> None:
        """Start node ``node`` again; returns once it answers."""
        subprocess.run([*self.ctl, "revive", str(node)], check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    url, ctl = os.environ.get("COUCHDB_CLUSTER_URL"), os.environ.get("COUCHDB_CLUSTER_CTL")
    if not url or not ctl:
        pytest.skip(
            "needs an Apache CouchDB cluster: set COUCHDB_CLUSTER_URL (its load balancer, admin credentials "
            "in the URL) and COUCHDB_CLUSTER_CTL (a command taking 'kill N' and 'revive N')"
        )
    return Cluster(url, ctl)


@pytest.fixture(autouse=True)
def _couchdb_cluster(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("couchdb_cluster"):
        request.getfixturevalue("cluster")


# --- the flavours ----------------------------------------------------------------

_reactor_lock = threading.Lock()
_reactor_started = False


def _twisted_reactor(on_asyncio: bool) -> Any:
    global _reactor_started
    with _reactor_lock:
        if on_asyncio:
            from twisted.internet import asyncioreactor

            if "twisted.internet.reactor" not in __import__("sys").modules:
                asyncioreactor.install(asyncio.new_event_loop())
        from twisted.internet import reactor

        if on_asyncio and type(reactor).__name__ != "AsyncioSelectorReactor":
            raise RuntimeError("another reactor was installed before the asyncio reactor")
        if not _reactor_started:
            _reactor_started = True
            thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True)
            thread.start()
        return reactor


class Couch:
    """What a behaviour test gets: the flavour's module and a few helpers."""

    def __init__(self, flavour: str, info: ServerInfo) -> None:
        self.flavour = flavour
        self.url = info.url
        self.info = info
        self.is_couchdb = info.is_couchdb
        self.on_a_cluster = info.copies > 1
        # Write options for a test that reads through a view, _all_docs, _find, a changes feed or a
        # database's counts right after writing. On a cluster those read one copy of each shard, and
        # a write is answered once a majority of copies has it: w=n makes every copy have it first.
        self.all_copies: dict[str, Any] = {"w": info.copies} if self.on_a_cluster else {}
        self.is_store = info.is_store
        if flavour == "asyncio":
            import wallaby.backends.couchdb.aio as module
        else:
            import wallaby.backends.couchdb as module
        self.module = module
        self.Server = module.Server
        self.Database = module.Database
        self._dbs: list[Any] = []
        self._servers: list[Any] = []

    @property
    def twisted(self) -> bool:
        return self.flavour != "asyncio"

    def server(self, url: str | None = None, *args: Any, **options: Any) -> Any:
        """A Server of this flavour (closed when the test ends); the arguments are the Server's own."""
        server = self.Server(url or self.url, *args, **options)
        self._servers.append(server)
        return server

    def db_name(self, prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    async def fresh_db(self, prefix: str = "test", **options: Any) -> Any:
        """A new empty database (``create()`` takes ``options``), deleted when the test ends.

        Always a new name: on a cluster a database deleted and made again at once under the same
        name may meet its old shards on a node that has not yet seen the delete.
        """
        db = self.Database(self.db_name(prefix), url=self.url)
        await db.create(**options)
        self._dbs.append(db)
        if self.on_a_cluster:  # the other nodes learn of a new database a moment later
            for _ in range(self.info.copies):
                await self.eventually(db.info, retry=self.module.NotFound)
        return db

    def offline_db(self) -> Any:
        """A Database on a port nothing listens on: any request would be a NetworkError."""
        return self.server(f"http://127.0.0.1:{free_port()}").database("offline")

    async def conflicted(self, db: Any, docid: str, *revs: str) -> None:
        """A document whose leaves are ``revs`` (REV_B and REV_C by default), written as a replicator does."""
        revs = revs or (REV_B, REV_C)
        docs = [{"_id": docid, "_rev": rev, "leaf": rev[-1]} for rev in revs]
        await db.save({"docs": docs}, new_edits=False, **self.all_copies)

    async def missing(self, db: Any, docid: str) -> bool:
        """Is the document missing, or deleted?"""
        try:
            await db.get(docid)
        except self.module.NotFound:
            return True
        return False

    async def db_gone(self, db: Any) -> bool:
        """Is the database gone? On a cluster a node may open it for a moment after it is deleted, or
        answer 500 "No DB shards could be opened" while its map of the shards catches up."""
        try:
            await db.info()
        except self.module.NotFound:
            return True
        except self.module.ServerError:
            return False
        return False

    async def sleep(self, seconds: float) -> None:
        if self.twisted:
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await deferLater(reactor, seconds)
        else:
            await asyncio.sleep(seconds)

    def spawn(self, coro: Any) -> Any:
        """Run ``coro`` concurrently in the flavour's loop; the result is awaitable."""
        if self.twisted:
            from twisted.internet.defer import Deferred

            return Deferred.fromCoroutine(coro)
        return asyncio.ensure_future(coro)

    async def wait_until(self, predicate: Any, timeout: float = 10.0, step: float = 0.02) -> None:
        waited = 0.0
        while not predicate():
            if waited >= timeout:
                raise AssertionError(f"condition not met within {timeout}s")
            await self.sleep(step)
            waited += step

    async def eventually(
        self, read: Any, until: Any = bool, *, retry: Any = (), timeout: float = 15.0, step: float = 0.1
    ) -> Any:
        """``await read()`` again and again until ``until(answer)`` holds; that answer, or an AssertionError.

        For what CouchDB makes true a moment after it answered: its auth cache,
        an index being built, the other copies of a cluster (through a load
        balancer, the next request may go to a node that has not the last
        write yet). An error of a class in ``retry`` counts as "not yet".
        Bounded by ``timeout`` seconds; never for what must hold at once.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = await read()
                if until(answer):
                    return answer
                last = f"the last answer was {answer!r}"
            except retry as error:
                last = f"the last error was {error!r}"
            if time.monotonic() >= deadline:
                raise AssertionError(f"not so within {timeout}s: {last[:500]}")
            await self.sleep(step)

    def report(self, line: str) -> None:
        """A figure for the end of the run (pytest's terminal summary)."""
        _reports.append(f"{self.flavour}: {line}")

    async def cleanup(self) -> None:
        for db in self._dbs:
            try:
                await db.destroy()
            except Exception:
                pass
            await db.close()
        for server in self._servers:
            await server.close()


@pytest.fixture
def couch(flavour: str, server_info: ServerInfo) -> Couch:
    return Couch(flavour, server_info)


def _run(couch: Couch, make_coro: Any, timeout: float = TEST_TIMEOUT) -> None:
    async def body_then_cleanup() -> None:
        try:
            await make_coro()
        finally:
            await couch.cleanup()

    if couch.flavour == "asyncio":

        async def bounded() -> None:
            await asyncio.wait_for(body_then_cleanup(), timeout)

        asyncio.run(bounded())
        return
    from twisted.internet import defer, threads

    reactor = _twisted_reactor(on_asyncio=couch.flavour == "twisted-asyncio-reactor")

    def start() -> Any:
        d = defer.Deferred.fromCoroutine(body_then_cleanup())
        d.addTimeout(timeout, reactor)
        return d

    threads.blockingCallFromThread(reactor, start)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    couch = kwargs.get("couch")
    if not isinstance(couch, Couch):
        raise TypeError("an async test takes the `couch` fixture, which picks its flavour")
    limit = pyfuncitem.get_closest_marker("time_limit")
    _run(couch, lambda: pyfuncitem.obj(**kwargs), limit.args[0] if limit else TEST_TIMEOUT)
    return True
