"""Helpers of the replication tests: sources full of what a replicator must carry, and what a database holds.

``snapshot(db)`` is everything the replication protocol promises to carry,
read back from a database: for each document (deleted ones too) its winning
revision and ``_conflicts``, and every leaf (deleted ones too) with its body,
history and attachments by digest. Two databases replicated from the
same source must have equal snapshots.

Apache CouchDB keeps compressible attachments (``text/*``...) gzipped and its
digest is of the gzipped bytes; the embedded store and PouchDB keep them as
they are. Between two kinds of database, ``snapshot(db, by_content=True)``
names each attachment by the md5 of its bytes instead, read back whole.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

REV_B = "1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REV_C = "1-cccccccccccccccccccccccccccccccc"
REV_D = "1-dddddddddddddddddddddddddddddddd"

VALIDATE_NO_REJECTS = """function(newDoc, oldDoc, userCtx) {
  if (newDoc.reject) { throw({forbidden: 'rejected by validate_doc_update'}); }
}"""


def seq_number(seq: Any) -> int:
    """The position a seq stands for: PouchDB's int, CouchDB's ``N-...`` string (one node)."""
    return seq if isinstance(seq, int) else int(str(seq).split("-", 1)[0])


async def fill(db: Any, count: int, first: int = 0, size: int = 150, batch: int = 1000) -> list[str]:
    """``count`` documents of about ``size`` bytes each, ``doc000000`` onwards, on every copy.

    On a cluster a write is answered once a majority of copies has it, and a
    replication reads the changes feed (one copy of each shard) through
    whichever node answers: written with ``w=n``, every copy has them.
    """
    options = await all_copies(db)
    ids = []
    for start in range(first, first + count, batch):
        docs = [
            {"_id": f"doc{n:06}", "n": n, "pad": "x" * size} for n in range(start, min(first + count, start + batch))
        ]
        await db.save({"docs": docs}, **options)
        ids.extend(doc["_id"] for doc in docs)
    return ids


async def all_copies(db: Any) -> dict[str, int]:
    """The write option that makes every copy have a write before it is answered: ``{"w": n}`` on a cluster."""
    cluster = (await db.info()).get("cluster")
    copies = cluster.get("n") if isinstance(cluster, dict) else None
    return {"w": copies} if isinstance(copies, int) and copies > 1 else {}


async def rich_source(db: Any) -> None:
    """Conflicts, deletions (of a winner and of a losing leaf), attachments, design and _local documents.

    Every write is answered once every copy has it (``w=n`` on a cluster): an
    edit sent with attachment stubs right after the revision before it was
    answered by a majority may reach a copy that lacks that revision, and
    CouchDB then refuses the whole write (412 ``missing_stub``).
    """
    options = await all_copies(db)
    await fill(db, 20)
    await db.save(
        {
            "docs": [
                {"_id": f"conflicted{n}", "_rev": rev, "leaf": rev[-1]}
                for n in range(3)
                for rev in (REV_B, REV_C, REV_D)
            ]
        },
        new_edits=False,
        **options,
    )
    deleted = {"_id": "deleted", "v": 1}
    await db.save(deleted, **options)
    await db.save({"_id": "deleted", "_rev": deleted["_rev"], "_deleted": True}, **options)
    await db.save({"_id": "conflicted0", "_rev": REV_B, "_deleted": True}, **options)  # a deleted leaf beside live ones
    winner = await db.get("conflicted1")
    await db.save({"_id": "conflicted1", "_rev": winner["_rev"], "_deleted": True}, **options)  # another leaf wins
    edited = await db.get("doc000003")
    edited["n"] = "edited"
    await db.save(edited, **options)
    await db.save(edited, **options)
    first = (await db.get("doc000003", revs=True))["_revisions"]["ids"][-1]
    branch = {"_id": "doc000003", "_rev": "2-" + "a" * 32, "_revisions": {"start": 2, "ids": ["a" * 32, first]}}
    await db.save({"docs": [{**branch, "branch": True}]}, new_edits=False, **options)  # a conflict that forks at rev 1
    with_files: dict[str, Any] = {"_id": "files", "kind": "attachments"}
    await db.save(with_files, **options)
    note = base64.b64encode(b"hello replicator " * 500).decode()
    with_files["_attachments"] = {"note.txt": {"content_type": "text/plain", "data": note}}
    await db.save(with_files, **options)
    with_files = await db.get("files")  # with the stub of note.txt: a save without it would drop it
    blob = base64.b64encode(bytes(range(256)) * 64).decode()
    with_files["_attachments"]["blob.bin"] = {"content_type": "application/octet-stream", "data": blob}
    await db.save(with_files, **options)
    with_files = await db.get("files")
    with_files["kind"] = "attachments, edited"
    await db.save(with_files, **options)
    conflicted_files = [
        {
            "_id": "conflicted-files",
            "_rev": rev,
            "_attachments": {
                "a.txt": {"content_type": "text/plain", "data": "aGVsbG8=" if rev == REV_B else "d29ybGQ="}
            },
        }
        for rev in (REV_B, REV_C)
    ]
    await db.save({"docs": conflicted_files}, new_edits=False, **options)
    await db.save(
        {"_id": "_design/app", "views": {"all": {"map": "function(doc) { emit(doc._id, null); }"}}}, **options
    )
    await db.save({"_id": "_local/private", "note": "never replicated"}, **options)


def _attachments(doc: dict[str, Any]) -> dict[str, str]:
    return {name: att.get("digest") for name, att in (doc.get("_attachments") or {}).items()}


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if not key.startswith("_")}


async def document_ids(db: Any) -> list[str]:
    """Every document id (deleted ones too), from the changes feed."""
    ids = []
    async with db.follow(since=0, feed="normal") as feed:
        async for change in feed:
            ids.append(change["id"])
    return sorted(ids)


async def latest_revs(db: Any) -> dict[str, str]:
    """Each document's newest revision as the changes feed lists it."""
    revs = {}
    async with db.follow(since=0, feed="normal") as feed:
        async for change in feed:
            revs[change["id"]] = change["changes"][0]["rev"]
    return revs


async def _contents(db: Any, docid: str, rev: str, doc: dict[str, Any]) -> dict[str, str]:
    found = {}
    for name in doc.get("_attachments") or {}:
        data = await db.get_attachment(docid, name, rev=rev)
        found[name] = "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()
    return found


async def snapshot(db: Any, by_content: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for docid in await document_ids(db):
        leaves = {}
        for item in await db.get(docid, open_revs="all", revs=True):
            doc = item["ok"]
            revisions = doc["_revisions"]
            leaves[doc["_rev"]] = {
                "deleted": bool(doc.get("_deleted")),
                "body": _body(doc),
                "history": [f"{revisions['start'] - n}-{rev}" for n, rev in enumerate(revisions["ids"])],
                "attachments": await _contents(db, docid, doc["_rev"], doc) if by_content else _attachments(doc),
            }
        try:
            # deleted leaves are in "leaves": PouchDB Server gives no _deleted_conflicts
            winner = await db.get(docid, conflicts=True)
            winning = {"rev": winner["_rev"], "conflicts": sorted(winner.get("_conflicts", []))}
        except Exception as exc:  # a deleted winner answers 404
            winning = {"missing": type(exc).__name__}
        found[docid] = {"winner": winning, "leaves": leaves}
    return found


class Counting:
    """A Runtime that counts the requests it sends: ``counting(server)`` puts one in its place."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self.requests: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self.requests.append((method, url))
        return await self._runtime.request(method, url, *args, **kwargs)


def counting(server: Any) -> Counting:
    """Count the requests of ``server`` (and of every Database it hands out) from now on."""
    client = server._client
    if not isinstance(client.runtime, Counting):
        client.runtime = Counting(client.runtime)
    runtime: Counting = client.runtime
    return runtime
