"""A FastAPI app whose product cache is kept fresh by a CouchDB changes feed.

Reads are served from memory; writes go to CouchDB, and every change made there,
by this app or anyone else, reaches the cache through the database's changes
feed, followed in a task the app's lifespan starts and stops. The connection
pool is opened and closed with ``async with``.

    COUCHDB_URL=http://admin:secret@localhost:5984 uvicorn products:app
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, HTTPException

from wallaby.backends.couchdb.aio import Database, Server


class ProductCache:
    """Every product document, by id, as of ``seq`` of the database's changes feed."""

    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.seq: Any = None
        self.ready = asyncio.Event()

    def apply(self, change: dict[str, Any]) -> None:
        if change.get("deleted"):
            self.products.pop(change["id"], None)
        elif not change["id"].startswith("_design/"):
            self.products[change["id"]] = change["doc"]

    async def keep_fresh(self, db: Database) -> None:
        # catch up with everything there is (a normal feed ends when caught up) ...
        async with db.follow(None, feed="normal", include_docs=True) as backlog:
            async for change in backlog:
                self.apply(change)
            self.seq = backlog.last_seq
        self.ready.set()
        # ... then follow for ever, through dropped connections and server restarts
        async with db.follow(self.seq, include_docs=True) as feed:
            async for change in feed:
                self.apply(change)
                self.seq = feed.last_seq


def create_app(url: str | None = None, db_name: str | None = None) -> FastAPI:
    url = url or os.environ.get("COUCHDB_URL", "http://localhost:5984")
    db_name = db_name or os.environ.get("PRODUCTS_DB", "products")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Server(url) as server:  # one pool for the app's life
            db = server.database(db_name)
            cache = ProductCache()
            follower = asyncio.create_task(cache.keep_fresh(db))
            ready = asyncio.create_task(cache.ready.wait())
            await asyncio.wait({follower, ready}, return_when=asyncio.FIRST_COMPLETED)
            if follower.done():  # the feed ended before the cache was filled: the database is missing...
                ready.cancel()
                follower.result()
            app.state.db, app.state.cache = db, cache
            try:
                yield
            finally:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower

    app = FastAPI(title="products", lifespan=lifespan)

    @app.get("/products")
    async def list_products() -> list[dict[str, Any]]:
        return sorted(app.state.cache.products.values(), key=lambda product: product["_id"])

    @app.get("/products/{product_id}")
    async def get_product(product_id: str) -> dict[str, Any]:
        product = app.state.cache.products.get(product_id)
        if product is None:
            raise HTTPException(404, f"no product {product_id!r}")
        return product

    @app.put("/products/{product_id}")
    async def put_product(product_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        current = app.state.cache.products.get(product_id, {})
        doc = {**fields, "_id": product_id}
        if "_rev" in current:
            doc["_rev"] = current["_rev"]
        result: dict[str, Any] = await app.state.db.save(doc)  # the feed brings it into the cache
        return result

    return app


app = create_app()
