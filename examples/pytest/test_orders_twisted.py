"""The plugin with pytest-twisted: ``couchdb_tx`` is a fresh Twisted Database per test (Deferreds)."""

import pytest_twisted
from orders import place_order


@pytest_twisted.ensureDeferred
async def test_an_order_is_saved_with_its_total(couchdb_tx):
    await place_order(couchdb_tx, "order-1", [{"price": 2}, {"price": 3}])
    saved = await couchdb_tx.get("order-1")
    assert saved["total"] == 5


@pytest_twisted.inlineCallbacks
def test_the_original_packages_style_works_too(couchdb_tx):
    yield couchdb_tx.save({"_id": "order-2", "total": 1})
    info = yield couchdb_tx.info()
    assert info["doc_count"] == 1
