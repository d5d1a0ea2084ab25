"""examples/fastapi: the cache follows CouchDB's changes feed; tested through FastAPI's TestClient."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cli.shell import couchdb
from wallaby.backends.couchdb.testing import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi" / "products.py"


def _products() -> Any:
    spec = importlib.util.spec_from_file_location("products_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _eventually(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_the_cache_starts_full_and_follows_every_change(couchdb_dbname: str, couchdb_url: str) -> None:
    url = couchdb_url
    couchdb(url, "put", couchdb_dbname, "-d", '{"_id": "kettle", "price": 30}')
    app = _products().create_app(url, couchdb_dbname)
    with TestClient(app) as client:
        assert client.get("/products/kettle").json()["price"] == 30  # there before the app started
        assert client.put("/products/teapot", json={"price": 12}).json()["ok"] is True
        assert _eventually(lambda: client.get("/products/teapot").status_code == 200)
        assert client.put("/products/teapot", json={"price": 14}).status_code == 200
        assert _eventually(lambda: client.get("/products/teapot").json()["price"] == 14)
        couchdb(url, "delete", couchdb_dbname, "kettle")  # a change made elsewhere
        assert _eventually(lambda: client.get("/products/kettle").status_code == 404)
        assert [product["_id"] for product in client.get("/products").json()] == ["teapot"]


def test_the_app_does_not_start_on_a_missing_database(couchdb_url: str) -> None:
    app = _products().create_app(couchdb_url, f"missing-{free_port()}")
    try:
        with TestClient(app):
            raise AssertionError("the app started")
    except Exception as exc:  # the feed's NotFound, raised from the lifespan
        assert type(exc).__name__ == "NotFound", repr(exc)
