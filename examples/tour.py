#!/usr/bin/env python3
"""A tour of wallaby.backends.couchdb: every method of the seed, in both flavours.

    ./dev tour                                              # the embedded store, no server
    COUCHDB_URL=http://admin:secret@localhost:5984 ./dev tour   # your CouchDB

Without ``COUCHDB_URL`` it runs on the embedded store, in memory
(``memory://tour``): the same API answered in the process from SQLite, with
no server and no Node.js. The same ``tour()`` body then runs twice:

1. under asyncio, with ``wallaby.backends.couchdb.aio`` (methods are coroutines);
2. under Twisted's default reactor, with ``wallaby.backends.couchdb`` (the seed's
   flavour: methods return Deferreds). ``tour()`` is driven by
   ``Deferred.fromCoroutine`` there, and ``await`` on a Deferred works inside
   it, so the body needs no change. (In an ``inlineCallbacks`` function you
   would ``yield`` the same Deferreds; see examples/twisted/.)

Each step prints one line: what was called, and what came back. Any failure
ends the tour with a non-zero exit status.
"""

from __future__ import annotations

import asyncio
import os
import reprlib
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from wallaby.backends.couchdb.testing import free_port

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 100
_repr.maxdict = 6
_repr.maxlist = 4
_repr.maxlevel = 3


def short(value: Any) -> str:
    """A one-line, bounded repr of a result."""
    return _repr.repr(value)


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """``http://user:pw@host:5984`` -> (``http://host:5984``, ``user``, ``pw``)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return base, user, password


async def tour(
    couch: ModuleType,
    url: str,
    say: Callable[..., None],
    sleep: Callable[[float], Awaitable[Any]],
) -> None:
    """Every seed method once. ``couch`` is either flavour's module; ``sleep`` its loop's sleep."""
    base, user, password = split_url(url)
    name = f"wallaby-tour-{uuid.uuid4().hex[:10]}"

    # --- Server: one node, its credentials, one pool of connections -------------
    async with couch.Server(base, user, password) as server:
        welcome = await server.info()
        say("server.info()", {k: welcome[k] for k in ("version", "vendor") if k in welcome})
        say("server.uuids(3)", await server.uuids(3))
        scratch = await server.create(name + "-scratch")
        say(f"server.create({scratch.name!r})", scratch)
        say("server.all_dbs() has it", scratch.name in await server.all_dbs())
        say(f"server.delete({scratch.name!r})", await server.delete(scratch.name))

    # --- Database(name, user, password, url), as in the seed ------------------
    db = couch.Database(name, user, password, base)
    say(f"Database({name!r}, user, password, {base!r})", db)
    destroyed = False
    try:
        say("db.create()", await db.create())
        info = await db.info()
        say("db.info()", {k: info[k] for k in ("db_name", "doc_count", "update_seq")})

        # --- documents: save writes the new _rev back into your dict ----------
        doc = {"_id": "seed", "title": "Hello"}
        say("db.save({'_id': 'seed', ...})", await db.save(doc))
        say("  ... doc['_rev'] is now", doc["_rev"])
        first_rev = doc["_rev"]
        doc["title"] = "Hello World"
        say("db.save(doc) again (update)", await db.save(doc))
        anonymous = {"kind": "no id given"}
        await db.save(anonymous)
        say("db.save(doc without _id): the server's id", anonymous["_id"])
        say("db.get('seed')", await db.get("seed"))
        say("db.get('seed', rev=first_rev)", await db.get("seed", rev=first_rev))
        bulk = {
            "docs": [
                {"_id": "apple", "fruit": True, "n": 1},
                {"_id": "banana", "fruit": True, "n": 2},
                {"_id": "carrot", "fruit": False, "n": 3},
            ]
        }
        results = await db.save(bulk)
        say("db.save({'docs': [3 docs]}) per-doc results", [r.get("ok") for r in results])
        say("  ... each doc got its _rev", [d["_rev"][:8] + "..." for d in bulk["docs"]])
        stale = {"docs": [{"_id": "apple", "n": 10}, {"_id": "date", "n": 4}]}  # apple without its _rev
        results = await db.save(stale)
        say(
            "db.save({'docs': [stale apple, new date]}): an error per doc, not raised",
            [r.get("error") or "ok" for r in results],
        )

        # --- attachments: put/delete update doc['_rev'] too ---------------------
        say(
            "db.put_attachment(doc, 'hello.txt', ...)",
            await db.put_attachment(doc, "hello.txt", b"Hello, attachment!", contentType="text/plain"),
        )
        say("db.get_attachment(doc, 'hello.txt')", await db.get_attachment(doc, "hello.txt"))
        say("db.delete_attachment(doc, 'hello.txt')", await db.delete_attachment(doc, "hello.txt"))

        # --- views: parameters are Python values; keys are JSON-encoded for you --
        await db.save(
            {
                "_id": "_design/food",
                "views": {"by_name": {"map": "function (doc) { if (doc.n) emit(doc._id, doc.n); }"}},
            }
        )
        path = "_design/food/_view/by_name"
        say(f"db.view({path!r})", [row["key"] for row in await db.view(path)])
        say("db.view(path, count=2)", [row["key"] for row in await db.view(path, count=2)])
        say("db.view(path, key='banana')", await db.view(path, key="banana"))
        say(
            "db.view(path, keys=['apple', 'carrot'])",
            [row["key"] for row in await db.view(path, keys=["apple", "carrot"])],
        )
        rows, total = await db.view(path, count=1, include_count=True)
        say("db.view(path, count=1, include_count=True)", (len(rows), total))

        # --- changes: a callback per batch, until unchanges --------------------
        seen: list[str] = []

        def on_changes(changes: list[dict[str, Any]], viewID: str | None = None) -> None:
            seen.extend(change["id"] for change in changes)
            say("  ... on_changes got", [change["id"] for change in changes])

        since = (await db.info())["update_seq"]
        db.changes(cb=on_changes, since=since)
        say(f"db.changes(cb=on_changes, since={short(since)})", None)
        for docid in ("change-1", "change-2", "change-3"):
            await db.save({"_id": docid})
            say(f"db.save({{'_id': {docid!r}}})", None)
        deadline = time.monotonic() + 15
        while len(seen) < 3:
            if time.monotonic() > deadline:
                raise AssertionError(f"the changes feed delivered {seen} within 15s, not the 3 changes")
            await sleep(0.05)
        db.unchanges(cb=on_changes)
        say("db.unchanges(cb=on_changes)", None)

        # --- beyond the seed: a followed feed with a checkpoint, streams ---------
        async with db.follow(since=since, limit=2) as feed:
            firsts = [change["id"] async for change in feed]
            checkpoint = feed.last_seq
        say("db.follow(since, limit=2): handed over", firsts)
        async with db.follow(since=checkpoint, feed="normal") as feed:
            say("db.follow(since=checkpoint, feed='normal'): resumes with", [c["id"] async for c in feed])
        async with db.stream_view(path, startkey="b") as rows:
            keys = [row["key"] async for row in rows]
            say("db.stream_view(path, startkey='b'): rows as they arrive", (keys, rows.meta.get("total_rows")))

        async def blocks() -> Any:
            for n in range(4):
                yield bytes([65 + n]) * 65536

        big = {"_id": "streamed"}
        await db.put_attachment(big, "blocks.bin", blocks(), length=4 * 65536)
        sizes = [len(chunk) async for chunk in db.stream_attachment(big, "blocks.bin")]
        say(
            "db.put_attachment(doc, name, async generator); db.stream_attachment()",
            f"{sum(sizes)} bytes in {len(sizes)} chunks",
        )
        say(
            "db.get_attachment(doc, name, range=(65530, 65541))",
            await db.get_attachment(big, "blocks.bin", range=(65530, 65541)),
        )

        # --- errors are typed exceptions, never an error dict or None -----------
        try:
            await db.save({"_id": "seed", "_rev": first_rev, "title": "stale"})
        except couch.DocumentUpdateConflict as exc:  # the seed's name for Conflict
            say("save with a stale _rev raised", f"{type(exc).__name__} {exc.status} {exc.reason!r}")
        try:
            await db.get("no-such-doc")
        except couch.NotFound as exc:
            say("db.get('no-such-doc') raised", f"NotFound status={exc.status} reason={exc.reason!r} url={exc.url}")
        try:
            await db.view("_design/food/_view/no_such_view")
        except couch.ViewError as exc:  # also a NotFound
            say(
                "db.view(missing view) raised",
                f"{type(exc).__name__} {exc.status}, a NotFound: {isinstance(exc, couch.NotFound)}",
            )
        try:
            await db.delete({"_id": "seed"})
        except couch.InvalidArgument as exc:
            say("db.delete(doc without _rev) raised before any request", f"InvalidArgument: {exc}")
        async with couch.Server(f"http://127.0.0.1:{free_port()}", connect_timeout=5) as nobody:
            try:
                await nobody.info()
            except couch.NetworkError as exc:
                say("a server that is down raised", f"NetworkError status={exc.status}")

        # --- delete a document, then the database ------------------------------
        say("db.delete(doc)", await db.delete(doc))
        try:
            await db.get("seed")
        except couch.NotFound as exc:
            say("  ... db.get('seed') now raises NotFound", exc.reason)
        say("db.destroy()", await db.destroy())
        destroyed = True
    finally:
        if not destroyed:  # the tour stopped half-way: clean up
            try:
                await db.destroy()
            except couch.CouchDBError:
                pass
        await db.close()  # releases the connection pool this Database made


def sayer(flavour: str) -> Callable[..., None]:
    def say(what: str, result: Any = None) -> None:
        line = f"[{flavour}] {what}"
        if result is not None:
            line += f" -> {result if isinstance(result, str) else short(result)}"
        print(line, flush=True)

    return say


def run_asyncio(url: str) -> None:
    import wallaby.backends.couchdb.aio as couch

    print("=== asyncio: wallaby.backends.couchdb.aio, methods are coroutines", flush=True)
    asyncio.run(tour(couch, url, sayer("asyncio"), asyncio.sleep))


def run_twisted(url: str) -> None:
    """Runs the tour on Twisted's default reactor; like every ``react``, it exits the process."""
    from twisted.internet import defer, task

    import wallaby.backends.couchdb as couch

    print("=== Twisted: wallaby.backends.couchdb, methods return Deferreds", flush=True)

    def main(reactor: Any) -> defer.Deferred[None]:
        def sleep(seconds: float) -> defer.Deferred[None]:
            return task.deferLater(reactor, seconds)

        return defer.Deferred.fromCoroutine(tour(couch, url, sayer("twisted"), sleep))

    task.react(main)


STORE_URL = "memory://tour"


def main() -> None:
    url = os.environ.get("COUCHDB_URL")
    if url:
        print(f"using COUCHDB_URL: {split_url(url)[0]}", flush=True)
    else:
        url = STORE_URL
        print(f"using the embedded store in memory ({url}): no server", flush=True)
    run_asyncio(url)
    run_twisted(url)  # calls sys.exit: 0 when the tour succeeded, 1 when it failed


if __name__ == "__main__":
    sys.exit(main())
