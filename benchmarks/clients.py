"""The clients the suite compares, each doing the same work its own way.

Every client has the same operations, used by ``worker.py``:

    open(server_url, db, concurrency)   connect; untimed
    get(docid) / put(doc)               one document
    bulk(docs)                          one ``_bulk_docs`` request
    all_docs() / view() / changes()     read everything; return the row count
    put_attachment(docid, data)         upload; return the byte count
    get_attachment(docid)               download; return the byte count
    close()

The asyncio clients' operations are coroutines; the Twisted flavour's are
coroutines too, awaiting the Deferreds of the library's Twisted API; the
synchronous clients' are plain functions (``worker.py`` runs them on a
thread pool for concurrency, as their users do). Each client's library is
imported inside ``open`` so that a missing one is reported, not fatal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

DESIGN = "bench"
VIEW = "by_n"
ATTACHMENT = "blob"
ATTACHMENT_TYPE = "application/octet-stream"


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """``http://u:p@host:port/`` -> (``http://host:port``, user, password)."""
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")), user, password


def _segment(name: str) -> str:
    return quote(name, safe="")


# --- by hand: the same requests as the library, with nothing around them ---------------------


class _ByHand:
    """The JSON operations of a client written by hand: ``_json(method, url, body)`` and ``db_url`` do the rest."""

    db_url: str

    async def _json(self, method: str, url: str, body: Any = None) -> Any:
        raise NotImplementedError

    async def get(self, docid: str) -> Any:
        return await self._json("GET", f"{self.db_url}/{_segment(docid)}")

    async def put(self, doc: dict) -> Any:
        return await self._json("PUT", f"{self.db_url}/{_segment(doc['_id'])}", doc)

    async def bulk(self, docs: list) -> Any:
        return await self._json("POST", f"{self.db_url}/_bulk_docs", {"docs": docs})

    async def all_docs(self) -> int:
        return len((await self._json("GET", f"{self.db_url}/_all_docs?include_docs=true"))["rows"])

    async def view(self) -> int:
        return len((await self._json("GET", f"{self.db_url}/_design/{DESIGN}/_view/{VIEW}"))["rows"])

    async def changes(self) -> int:
        # the library's normal feed, request for request: pages of 1,000 from since=0
        seen, since = 0, 0
        while True:
            page = await self._json(
                "GET", f"{self.db_url}/_changes?feed=normal&limit=1000&since={quote(str(since), safe='')}"
            )
            seen += len(page["results"])
            since = page["last_seq"]
            if len(page["results"]) < 1000:
                return seen


# --- raw aiohttp + orjson: the reference every ratio is taken to -------------------------------


class RawAiohttp(_ByHand):
    """What a careful hand-written aiohttp+orjson program sends: the same requests as the library."""

    flavour = "asyncio"
    package = "aiohttp orjson"

    async def open(self, url: str, db: str, concurrency: int) -> None:
        import aiohttp
        import orjson

        self._orjson = orjson
        base, user, password = split_url(url)
        self.db_url = f"{base}/{_segment(db)}"
        self.headers = {"Accept": "application/json"}
        if user:
            self.headers["Authorization"] = aiohttp.BasicAuth(user, password or "").encode()
        self.json_headers = {**self.headers, "Content-Type": "application/json"}
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            skip_auto_headers=("Accept-Encoding",),
        )

    async def _json(self, method: str, url: str, body: Any = None) -> Any:
        if body is None:
            request = self.session.request(method, url, headers=self.headers)
        else:
            request = self.session.request(method, url, headers=self.json_headers, data=self._orjson.dumps(body))
        async with request as response:
            raw = await response.read()
            if response.status >= 400:
                raise RuntimeError(f"{method} {url}: {response.status} {raw[:200]!r}")
            return self._orjson.loads(raw)

    async def put_attachment(self, docid: str, data: bytes) -> int:
        url = f"{self.db_url}/{_segment(docid)}/{ATTACHMENT}"
        headers = {**self.headers, "Content-Type": ATTACHMENT_TYPE}
        async with self.session.put(url, headers=headers, data=data) as response:
            answer = await response.read()
            if response.status >= 400:
                raise RuntimeError(f"PUT {url}: {response.status} {answer[:200]!r}")
            self._orjson.loads(answer)
        return len(data)

    async def get_attachment(self, docid: str) -> int:
        url = f"{self.db_url}/{_segment(docid)}/{ATTACHMENT}"
        async with self.session.get(url, headers=self.headers) as response:
            data = await response.read()
            if response.status >= 400:
                raise RuntimeError(f"GET {url}: {response.status}")
        return len(data)

    async def close(self) -> None:
        await self.session.close()


# --- the protocol floor: a Protocol, httptools and orjson, nothing else ---------------------


class _FloorConnection:
    """One keep-alive connection's parser state, shared by both floor clients."""

    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.done: Any = None  # the framework's future of the current answer

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        body, self.body = b"".join(self.body), []
        self.finished(self.parser.get_status_code(), body)

    def finished(self, status: int, body: bytes) -> None:
        raise NotImplementedError


class _Floor(_ByHand):
    """What the wire needs: keep-alive connections, requests built with an f-string, one future each.

    No pool bound, timeouts, TLS, streaming or error mapping: the cost below
    which no client can go. Subclasses give ``connect()`` and ``future()``.
    """

    package = "httptools orjson"

    async def open(self, url: str, db: str, concurrency: int) -> None:
        import base64

        import orjson

        self._loads, self._dumps = orjson.loads, orjson.dumps
        base, user, password = split_url(url)
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.db_url = f"/{_segment(db)}"
        auth = ""
        if user:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            auth = f"Authorization: Basic {token}\r\n"
        self.fixed = f"Host: {parts.netloc}\r\nAccept: application/json\r\n{auth}"
        self.idle: list[Any] = []

    async def _request(self, method: str, target: str, body: bytes | None = None, ctype: str = "") -> tuple:
        conn = self.idle.pop() if self.idle else await self.connect()
        if body is None:
            head = f"{method} {target} HTTP/1.1\r\n{self.fixed}\r\n".encode()
        else:
            head = (
                f"{method} {target} HTTP/1.1\r\n{self.fixed}Content-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
        status, data = await conn.send(head)
        self.idle.append(conn)
        if status >= 400:
            raise RuntimeError(f"{method} {target}: {status} {data[:200]!r}")
        return status, data

    async def _json(self, method: str, target: str, body: Any = None) -> Any:
        data = None if body is None else self._dumps(body)
        return self._loads((await self._request(method, target, data, "application/json"))[1])

    async def put_attachment(self, docid: str, data: bytes) -> int:
        self._loads(
            (await self._request("PUT", f"{self.db_url}/{_segment(docid)}/{ATTACHMENT}", data, ATTACHMENT_TYPE))[1]
        )
        return len(data)

    async def get_attachment(self, docid: str) -> int:
        return len((await self._request("GET", f"{self.db_url}/{_segment(docid)}/{ATTACHMENT}"))[1])

    async def close(self) -> None:
        for conn in self.idle:
            conn.close()


class FloorAsyncio(_Floor):
    """An asyncio ``Protocol`` with httptools and orjson, on keep-alive connections."""

    flavour = "asyncio"

    async def connect(self) -> Any:
        import asyncio

        class Connection(asyncio.Protocol, _FloorConnection):
            def connection_made(self, transport: Any) -> None:
                self.transport = transport

            def data_received(self, data: bytes) -> None:
                self.parser.feed_data(data)

            def finished(self, status: int, body: bytes) -> None:
                self.done.set_result((status, body))

            def send(self, head: bytes) -> Any:
                self.done = loop.create_future()
                self.transport.write(head)
                return self.done

            def close(self) -> None:
                self.transport.close()

        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(Connection, self.host, self.port)
        return conn


class FloorTwisted(_Floor):
    """A Twisted ``Protocol`` with httptools and orjson, on keep-alive connections."""

    flavour = "twisted"

    async def connect(self) -> Any:
        from twisted.internet import defer, protocol, reactor
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

        class Connection(protocol.Protocol, _FloorConnection):
            def dataReceived(self, data: bytes) -> None:
                self.parser.feed_data(data)

            def finished(self, status: int, body: bytes) -> None:
                done, self.done = self.done, None
                done.callback((status, body))

            def send(self, head: bytes) -> Any:
                self.done = defer.Deferred()
                self.transport.write(head)
                return self.done

            def close(self) -> None:
                self.transport.loseConnection()

        return await connectProtocol(TCP4ClientEndpoint(reactor, self.host, self.port), Connection())


class FloorTwistedAsyncio(FloorTwisted):
    """The Twisted floor on Twisted's asyncio reactor."""

    reactor = "asyncio"


# --- this library, both flavours (public API only) -----------------------------------------


class Wallaby:
    """wallaby.backends.couchdb: the same code for both flavours (Twisted's methods return Deferreds)."""

    module_name = "wallaby.backends.couchdb.aio"
    flavour = "asyncio"
    package = "wallaby-backend-couchdb"

    async def open(self, url: str, db: str, concurrency: int) -> None:
        import importlib

        module = importlib.import_module(self.module_name)
        self.db = module.Database(db, url=url)

    async def get(self, docid: str) -> Any:
        return await self.db.get(docid)

    async def put(self, doc: dict) -> Any:
        return await self.db.save(doc)

    async def bulk(self, docs: list) -> Any:
        return await self.db.save({"docs": docs})

    async def all_docs(self) -> int:
        return len(await self.db.view("_all_docs", include_docs=True))

    async def view(self) -> int:
        return len(await self.db.view(f"{DESIGN}/{VIEW}"))

    async def changes(self) -> int:
        seen = 0
        async with self.db.follow(since=0, feed="normal") as feed:
            async for _change in feed:
                seen += 1
        return seen

    async def put_attachment(self, docid: str, data: bytes) -> int:
        await self.db.put_attachment({"_id": docid}, ATTACHMENT, data, content_type=ATTACHMENT_TYPE)
        return len(data)

    async def get_attachment(self, docid: str) -> int:
        return len(await self.db.get_attachment(docid, ATTACHMENT))

    async def close(self) -> None:
        await self.db.close()


class WallabyTwisted(Wallaby):
    module_name = "wallaby.backends.couchdb"
    flavour = "twisted"


class WallabyTwistedAsyncio(WallabyTwisted):
    """The Twisted flavour on Twisted's asyncio reactor (Scrapy's default)."""

    reactor = "asyncio"


# --- aiocouch --------------------------------------------------------------------------------


class Aiocouch:
    """aiocouch, used as its documentation shows."""

    flavour = "asyncio"
    package = "aiocouch"

    async def open(self, url: str, db: str, concurrency: int) -> None:
        from aiocouch import CouchDB, Database

        base, user, password = split_url(url)
        self.couch = CouchDB(base, user=user, password=password)
        # PouchDB Server labels JSON text/plain unless asked for application/json (CouchDB
        # always answers application/json), and aiocouch refuses text/plain: ask, as on CouchDB
        self.couch._server._http_session.headers["Accept"] = "application/json"
        # not ``await couch[db]``: its HEAD /{db} check fails on PouchDB Server's text/plain answer
        self.db = Database(self.couch, db)

    async def get(self, docid: str) -> Any:
        return await self.db.get(docid)

    async def put(self, doc: dict) -> Any:
        document = await self.db.create(doc["_id"], data=doc)  # checks (HEAD) that the id is free
        return await document.save()

    async def bulk(self, docs: list) -> Any:
        async with self.db.create_docs([doc["_id"] for doc in docs]) as operation:
            fields = iter(docs)
            async for document in operation:
                document.update(next(fields))
        return operation.response

    async def all_docs(self) -> int:
        return sum([1 async for _doc in self.db.docs()])

    async def view(self) -> int:
        return len((await self.db.view(DESIGN, VIEW).get()).rows)

    async def changes(self) -> int:
        return sum([1 async for _event in self.db.changes(since=0)])

    async def put_attachment(self, docid: str, data: bytes) -> int:
        document = await self.db.create(docid)
        await document.save()
        await document.attachment(ATTACHMENT).save(data, ATTACHMENT_TYPE)
        return len(data)

    async def get_attachment(self, docid: str) -> int:
        document = await self.db.get(docid)
        return len(await document.attachment(ATTACHMENT).fetch())

    async def close(self) -> None:
        await self.couch.close()


# --- ibmcloudant (synchronous, on requests) ------------------------------------------------


class Cloudant:
    """ibmcloudant's CloudantV1, with NoAuth (or CouchDB session auth when the URL has credentials)."""

    flavour = "threads"
    package = "ibmcloudant"

    def open(self, url: str, db: str, concurrency: int) -> None:
        import requests.adapters
        from ibm_cloud_sdk_core.authenticators import NoAuthAuthenticator
        from ibmcloudant.cloudant_v1 import CloudantV1
        from ibmcloudant.couchdb_session_authenticator import CouchDbSessionAuthenticator

        base, user, password = split_url(url)
        authenticator = CouchDbSessionAuthenticator(user, password or "") if user else NoAuthAuthenticator()
        self.service = CloudantV1(authenticator=authenticator)
        self.service.set_service_url(base)
        # requests keeps 10 connections per host unless told: size the pool to the threads
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(10, concurrency))
        self.service.get_http_client().mount("http://", adapter)
        self.db = db

    def get(self, docid: str) -> Any:
        return self.service.get_document(db=self.db, doc_id=docid).get_result()

    def put(self, doc: dict) -> Any:
        return self.service.put_document(db=self.db, doc_id=doc["_id"], document=doc).get_result()

    def bulk(self, docs: list) -> Any:
        return self.service.post_bulk_docs(db=self.db, bulk_docs={"docs": docs}).get_result()

    def all_docs(self) -> int:
        return len(self.service.post_all_docs(db=self.db, include_docs=True).get_result()["rows"])

    def view(self) -> int:
        return len(self.service.post_view(db=self.db, ddoc=DESIGN, view=VIEW).get_result()["rows"])

    def changes(self) -> int:
        return len(self.service.post_changes(db=self.db, since="0").get_result()["results"])

    def put_attachment(self, docid: str, data: bytes) -> int:
        self.service.put_attachment(
            db=self.db, doc_id=docid, attachment_name=ATTACHMENT, attachment=data, content_type=ATTACHMENT_TYPE
        ).get_result()
        return len(data)

    def get_attachment(self, docid: str) -> int:
        result = self.service.get_attachment(db=self.db, doc_id=docid, attachment_name=ATTACHMENT).get_result()
        return len(result.content)

    def close(self) -> None:
        self.service.get_http_client().close()


# --- couchdb-python (PyPI: CouchDB) ------------------------------------------------------


class CouchdbPython:
    """couchdb-python 1.2: ``couchdb.Server(url)[db]``."""

    flavour = "threads"
    package = "CouchDB"

    def open(self, url: str, db: str, concurrency: int) -> None:
        import couchdb

        self.server = couchdb.Server(url)
        self.db = self.server[db]

    def get(self, docid: str) -> Any:
        return self.db[docid]

    def put(self, doc: dict) -> Any:
        return self.db.save(doc)

    def bulk(self, docs: list) -> Any:
        return self.db.update(docs)

    def all_docs(self) -> int:
        return sum(1 for _row in self.db.view("_all_docs", include_docs=True))

    def view(self) -> int:
        return sum(1 for _row in self.db.view(f"{DESIGN}/{VIEW}"))

    def changes(self) -> int:
        return len(self.db.changes(since=0)["results"])

    def put_attachment(self, docid: str, data: bytes) -> int:
        doc = {"_id": docid}
        self.db.save(doc)  # put_attachment needs the document's _rev
        self.db.put_attachment(doc, data, ATTACHMENT, ATTACHMENT_TYPE)
        return len(data)

    def get_attachment(self, docid: str) -> int:
        return len(self.db.get_attachment(docid, ATTACHMENT).read())

    def close(self) -> None:
        pass


CLIENTS: dict[str, type] = {
    "raw-aiohttp": RawAiohttp,
    "floor-aio": FloorAsyncio,
    "floor-twisted": FloorTwisted,
    "floor-twisted-aio": FloorTwistedAsyncio,
    "wallaby-aio": Wallaby,
    "wallaby-twisted": WallabyTwisted,
    "wallaby-twisted-aio": WallabyTwistedAsyncio,
    "aiocouch": Aiocouch,
    "ibmcloudant": Cloudant,
    "couchdb-python": CouchdbPython,
}
