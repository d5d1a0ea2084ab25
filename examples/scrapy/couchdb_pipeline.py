"""A Scrapy item pipeline that saves every item into CouchDB with the Twisted flavour.

Each method returns a Deferred, which Scrapy waits for: items are saved as they
come, with back-pressure, on Scrapy's default asyncio reactor or on Twisted's
default one. Settings::

    ITEM_PIPELINES = {"couchdb_pipeline.CouchDBPipeline": 300}
    COUCHDB_URL = "http://admin:secret@localhost:5984"
    COUCHDB_DATABASE = "quotes"
"""

from __future__ import annotations

import hashlib
from typing import Any

from itemadapter import ItemAdapter
from twisted.internet import defer

from wallaby.backends.couchdb import Database, PreconditionFailed


class CouchDBPipeline:
    def __init__(self, url: str, name: str) -> None:
        self.db = Database(name, url=url)

    @classmethod
    def from_crawler(cls, crawler: Any) -> CouchDBPipeline:
        settings = crawler.settings
        return cls(settings.get("COUCHDB_URL", "http://localhost:5984"), settings.get("COUCHDB_DATABASE", "items"))

    @defer.inlineCallbacks
    def open_spider(self, spider: Any = None) -> Any:
        try:
            yield self.db.create()
        except PreconditionFailed:  # it exists already
            pass

    @defer.inlineCallbacks
    def process_item(self, item: Any, spider: Any = None) -> Any:
        doc = ItemAdapter(item).asdict()
        # one document per item, whatever the crawl order: the id is a digest of the item's URL and text
        doc["_id"] = hashlib.sha1(f"{doc.get('url')}|{doc.get('text')}".encode()).hexdigest()
        yield self.db.save(doc)
        return item

    def close_spider(self, spider: Any = None) -> Any:
        return self.db.close()  # a Deferred: the connection pool is released
