"""A pytest plugin for apps that use this library: a throwaway CouchDB, a fresh database per test.

Installed with the package (the ``pytest11`` entry point ``wallaby-couchdb``), so
its fixtures are there in every test suite of a project that has the package:

``couchdb_url`` (session)
    The server the tests use: ``--couchdb-url``, else ``COUCHDB_URL``, else a
    PouchDB Server started for the session on a free loopback port (Node.js
    and the npm package ``pouchdb-server``) and stopped at its end. An
    embedded store's URL works too, with nothing to install:
    ``--couchdb-url memory://tests`` (in memory, gone at the end of the
    session) or ``file:///tmp/dir``.
``couchdb_dbname``
    The name of a new empty database, created before the test and deleted
    after it, with plain blocking HTTP: for any framework, or none.
``couchdb_aio``
    That database as an asyncio ``Database`` (``wallaby.backends.couchdb.aio``),
    closed after the test. Needs pytest-asyncio (``async def`` tests marked
    ``@pytest.mark.asyncio``, or its ``asyncio_mode = auto``).
``couchdb_tx``
    That database as a Twisted ``Database`` (methods return Deferreds), closed
    after the test. Needs pytest-twisted (``@pytest_twisted.inlineCallbacks``
    or ``@pytest_twisted.ensureDeferred`` tests).

::

    import pytest

    @pytest.mark.asyncio
    async def test_an_order_is_saved(couchdb_aio):
        await couchdb_aio.save({"_id": "order-1", "total": 3})
        assert (await couchdb_aio.get("order-1"))["total"] == 3

Turn it off with ``-p no:wallaby-couchdb``.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from .testing import PouchDBServer

__all__ = ["CouchDBService", "couchdb_aio", "couchdb_dbname", "couchdb_service", "couchdb_tx", "couchdb_url"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wallaby-couchdb", "a CouchDB for the tests (wallaby-backend-couchdb)")
    group.addoption(
        "--couchdb-url",
        metavar="URL",
        help="the CouchDB the tests use, with credentials in the URL "
        "(default: $COUCHDB_URL, else a throwaway PouchDB Server)",
    )


class CouchDBService:
    """The session's server: its URL (with credentials), and the process when the session started it."""

    def __init__(self, url: str, process: PouchDBServer | None = None) -> None:
        self.url = url.rstrip("/")
        self.process = process

    def __repr__(self) -> str:
        return f"<CouchDBService {_without_credentials(self.url)}{' (throwaway)' if self.process else ''}>"

    def create(self, name: str) -> None:
        """Create the database ``name``, blocking."""
        if self.is_server:
            self.request("PUT", "/" + quote(name, safe=""))
        else:
            _blocking(self.url, lambda server: server.create(name))

    def delete(self, name: str) -> None:
        """Delete the database ``name`` if it is there, blocking."""
        if not self.is_server:
            _blocking(self.url, lambda server: _delete_quietly(server, name))
            return
        try:
            self.request("DELETE", "/" + quote(name, safe=""))
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # the test may have deleted it itself
                raise

    @property
    def is_couchdb(self) -> bool:
        """Is it Apache CouchDB (its welcome says ``"couchdb"``), rather than a stand-in such as PouchDB Server."""
        if self.process is not None or not self.is_server:
            return False
        return "couchdb" in self.request("GET", "/")

    @property
    def is_server(self) -> bool:
        return urlsplit(self.url).scheme in ("http", "https")

    def request(self, method: str, path: str) -> Any:
        """A blocking request to the server; its JSON answer."""
        parts = urlsplit(self.url)
        netloc = parts.netloc.rpartition("@")[2]
        request = urllib.request.Request(f"{parts.scheme}://{netloc}{parts.path}{path}", method=method)
        request.add_header("Accept", "application/json")
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")


def _blocking(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """``work(server)`` with the asyncio flavour on a loop of its own, in a thread: for any URL the library takes.

    A thread, so that it works even where a test framework's loop is running in this one.
    """
    from .aio import Server

    outcome: dict[str, Any] = {}

    def target() -> None:
        async def main() -> Any:
            async with Server(url) as server:
                return await work(server)

        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="couchdb-fixture")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def _delete_quietly(server: Any, name: str) -> None:
    from .aio import NotFound

    try:
        await server.delete(name)
    except NotFound:
        pass


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(parts.netloc, parts.netloc.rpartition("@")[2], 1)


@pytest.fixture(scope="session")
def couchdb_service(request: pytest.FixtureRequest) -> Iterator[CouchDBService]:
    """The session's server (see the module's docstring for where it comes from)."""
    url = request.config.getoption("--couchdb-url") or os.environ.get("COUCHDB_URL")
    if url:
        yield CouchDBService(url)
        return
    process = PouchDBServer()
    process.start()
    try:
        yield CouchDBService(process.url, process)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def couchdb_url(couchdb_service: CouchDBService) -> str:
    """The session server's URL, credentials included: what ``Server()`` and ``Database(url=)`` take."""
    return couchdb_service.url


@pytest.fixture
def couchdb_dbname(couchdb_service: CouchDBService) -> Iterator[str]:
    """A new empty database on the session's server, deleted after the test; its name."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    couchdb_service.create(name)
    try:
        yield name
    finally:
        couchdb_service.delete(name)


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def couchdb_aio(couchdb_dbname: str, couchdb_url: str) -> Any:
        """The fresh database as an asyncio ``Database``; closed after the test."""
        from .aio import Database

        async with Database(couchdb_dbname, url=couchdb_url) as db:
            yield db

else:  # pragma: no cover - depends on what the user installed

    @pytest.fixture
    def couchdb_aio() -> Any:
        """The fresh database as an asyncio ``Database`` (needs pytest-asyncio)."""
        pytest.fail("the couchdb_aio fixture needs pytest-asyncio: pip install pytest-asyncio")


if importlib.util.find_spec("pytest_twisted") is not None:
    import pytest_twisted

    @pytest_twisted.async_yield_fixture()
    async def couchdb_tx(couchdb_dbname: str, couchdb_url: str) -> Any:
        """The fresh database as a Twisted ``Database``; closed after the test."""
        from .tx import Database

        db = Database(couchdb_dbname, url=couchdb_url)
        try:
            yield db
        finally:
            await db.close()

else:  # pragma: no cover

    @pytest.fixture
    def couchdb_tx() -> Any:
        """The fresh database as a Twisted ``Database`` (needs pytest-twisted)."""
        pytest.fail("the couchdb_tx fixture needs pytest-twisted: pip install pytest-twisted")
