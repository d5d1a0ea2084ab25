"""The plugin with pytest-asyncio: ``couchdb_aio`` is a fresh asyncio Database per test."""

import pytest
from orders import place_order

from wallaby.backends.couchdb.aio import NotFound


@pytest.mark.asyncio
async def test_an_order_is_saved_with_its_total(couchdb_aio):
    await place_order(couchdb_aio, "order-1", [{"price": 2}, {"price": 3}])
    saved = await couchdb_aio.get("order-1")
    assert saved["total"] == 5


@pytest.mark.asyncio
async def test_each_test_gets_an_empty_database(couchdb_aio):
    assert (await couchdb_aio.info())["doc_count"] == 0
    with pytest.raises(NotFound):
        await couchdb_aio.get("order-1")


def test_the_server_url_for_code_that_makes_its_own_connections(couchdb_url, couchdb_dbname):
    assert "://" in couchdb_url  # a server's URL (with its credentials), or an embedded store's
    assert couchdb_dbname.startswith("test-")
