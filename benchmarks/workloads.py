"""The workloads, and the documents they write: shared by bench.py and worker.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    name: str
    server: str  # "couch" (PouchDB Server or COUCHDB_URL) or "nginx" (canned answers)
    op: str  # the client operation (see clients.py)
    concurrency: int
    unit: str  # what the rate counts
    db: str  # "get": the GET set, "read": the big read set, "att": the attachment, "fresh": a new empty db per run
    about: str


WORKLOADS = [
    Workload("get-1", "couch", "get", 1, "req", "get", "GET /{db}/{docid}, one at a time"),
    Workload("get-32", "couch", "get", 32, "req", "get", "GET /{db}/{docid}, 32 in flight"),
    Workload("put-1", "couch", "put", 1, "req", "fresh", "PUT /{db}/{docid} of a new ~1 KB doc, one at a time"),
    Workload("put-32", "couch", "put", 32, "req", "fresh", "PUT /{db}/{docid} of a new ~1 KB doc, 32 in flight"),
    Workload("bulk", "couch", "bulk", 1, "docs", "fresh", "POST /{db}/_bulk_docs, new docs in batches"),
    Workload("all-docs", "couch", "all_docs", 1, "rows", "read", "GET /{db}/_all_docs?include_docs=true, every row"),
    Workload("view", "couch", "view", 1, "rows", "read", "GET /{db}/_design/bench/_view/by_n, every row"),
    Workload("changes", "couch", "changes", 1, "changes", "read", "the normal _changes feed from since=0"),
    Workload("att-put", "couch", "put_attachment", 1, "MB", "fresh", "PUT /{db}/{docid}/blob, one big attachment"),
    Workload("att-get", "couch", "get_attachment", 1, "MB", "att", "GET /{db}/att/blob, one big attachment"),
    Workload("nginx-get-1", "nginx", "get", 1, "req", "get", "GET a canned ~1 KB doc from nginx, one at a time"),
    Workload("nginx-get-32", "nginx", "get", 32, "req", "get", "GET a canned ~1 KB doc from nginx, 32 in flight"),
    Workload(
        "nginx-put-1", "nginx", "put", 1, "req", "fresh", "PUT a ~1 KB doc to nginx (canned answer), one at a time"
    ),
    Workload(
        "nginx-put-32", "nginx", "put", 32, "req", "fresh", "PUT a ~1 KB doc to nginx (canned answer), 32 in flight"
    ),
]

BY_NAME = {workload.name: workload for workload in WORKLOADS}

VIEW_MAP = "function (doc) { if (doc.kind === 'bench') { emit(doc.n, doc.value); } }"


def doc_1k(docid: str, n: int) -> dict:
    """A document of about 1 KB, the size of canned.json (the GET and PUT workloads)."""
    return {
        "_id": docid,
        "type": "article",
        "n": n,
        "title": f"Benchmark document number {n}",
        "author": {"name": "Wallaby Benchmark", "email": "bench@example.org", "id": n % 97},
        "created": "2024-05-01T12:00:00Z",
        "updated": "2024-05-02T08:30:00Z",
        "published": True,
        "score": n * 0.25,
        "tags": ["couchdb", "python", "asyncio", "twisted", "benchmark"],
        "counts": {"views": n * 3, "likes": n % 50, "shares": n % 7},
        "body": (
            "CouchDB stores JSON documents and serves them over HTTP; a client library should cost "
            "next to nothing on top of the request it sends. This paragraph pads the document to "
            "about one kilobyte, which is the size the benchmark uses for single-document reads and "
            "writes, so that the JSON work is realistic but the client's own overhead still shows. "
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
            "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco."
        ),
    }


def small_doc(n: int) -> dict:
    """A document of about 120 bytes (the bulk, _all_docs, view and changes workloads)."""
    return {"_id": f"doc{n:07}", "kind": "bench", "n": n, "name": f"name {n}", "value": n * 1.5, "tags": ["a", "b"]}
