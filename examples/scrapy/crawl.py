"""Crawl a page of quotes and save each one into CouchDB through CouchDBPipeline.

    python crawl.py http://127.0.0.1:8000/quotes.html [--reactor asyncio|default]

The server comes from COUCHDB_URL, the database from COUCHDB_DATABASE (default "quotes").
Scrapy's default reactor is Twisted's asyncio reactor; ``--reactor default`` uses
Twisted's own default reactor instead. The pipeline is the same on both.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REACTORS = {
    "asyncio": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "default": "twisted.internet.epollreactor.EPollReactor",
}


class QuotesSpider(scrapy.Spider):
    name = "quotes"

    def __init__(self, start: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response: Any) -> Any:
        for quote in response.css("div.quote"):
            yield {
                "url": response.url,
                "text": quote.css("span.text::text").get(),
                "author": quote.css("small.author::text").get(),
                "tags": quote.css("a.tag::text").getall(),
            }
        for link in response.css("li.next a::attr(href)").getall():
            yield response.follow(link, self.parse)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("start")
    parser.add_argument("--reactor", choices=sorted(REACTORS), default="asyncio")
    args = parser.parse_args()
    process = CrawlerProcess(
        {
            "TWISTED_REACTOR": REACTORS[args.reactor],
            "ITEM_PIPELINES": {"couchdb_pipeline.CouchDBPipeline": 300},
            "COUCHDB_URL": os.environ.get("COUCHDB_URL", "http://localhost:5984"),
            "COUCHDB_DATABASE": os.environ.get("COUCHDB_DATABASE", "quotes"),
            "LOG_LEVEL": "INFO",
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    crawler = process.create_crawler(QuotesSpider)
    process.crawl(crawler, start=args.start)
    process.start()
    stats = crawler.stats.get_stats()
    print(f"saved {stats.get('item_scraped_count', 0)} quotes, reactor {args.reactor}")
    if stats.get("log_count/ERROR"):
        sys.exit(1)


if __name__ == "__main__":
    main()
