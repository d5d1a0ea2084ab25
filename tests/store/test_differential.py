"""The same operations on the embedded store and on a server give the same documents.

Hypothesis makes sequences of edits on a few documents: interactive saves
and deletions, and replicated revisions (``new_edits=false``) that grow
conflicting branches, deleted leaves and histories that meet again. Each
sequence runs on a fresh database of the store and of the session's server
(PouchDB Server, or the Apache CouchDB that ``COUCHDB_URL`` names: CouchDB is
the reference where the two servers differ; ``WALLABY_DIFF_EXAMPLES`` sets
how many sequences, 40 by default), then both are compared: the
winner and its body, the conflicts, every leaf with its body, the winner's
history, ``_all_docs``, and the changes after a seq read half-way.

An interactive edit gets a rev id of each side's own making, so revisions
are compared by label: the label of an interactive one is the step that
made it, that of a replicated one its rev. Replicated rev ids start with
``ffffffff`` or ``00000000``, so that they sort the same way against any
interactive id on both sides; with CouchDB they also come in upper case and
in other lengths, which CouchDB reads as bytes. A replicated revision has
the same body and deletion wherever it is sent, as content-hashed revisions
do. The reason of a 404 is compared only with CouchDB (PouchDB Server says "missing" for a deleted
document, CouchDB "deleted").
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from replicas import all_copies
from wallaby.backends.couchdb.aio import NotFound, Server

DOC_IDS = ("a", "b", "c")


_TOKENS = st.tuples(st.sampled_from(["ffffffff", "00000000"]), st.sampled_from("17ae"))
# Odd spellings of a leaf id CouchDB accepts: hex in upper case, not hex, 16 bytes (printed as hex).
_ODD = {
    "upper": str.upper,
    "short": lambda rid: "zz" + rid[8:14],
    "sixteen": lambda rid: "g" + rid[8:23],
    "dashed": lambda rid: "ffffffff-" + rid[8:18],
}


def _history(tokens: list[tuple[str, str]], leaf: str = "") -> list[str]:
    """The rev ids of positions 1.. of a history: each id hashes all the history below it, so one id
    always has one parent, as content-hashed revs do (a rev claiming two histories is another story).
    ``leaf`` salts the newest id: such a leaf is never another path's ancestor."""
    ids, seen = [], ""
    for n, (head, digit) in enumerate(tokens):
        seen += head + digit
        salt = leaf if n == len(tokens) - 1 else ""
        ids.append(head + hashlib.md5((seen + salt).encode()).hexdigest()[:24])
    return ids


def operations(couchdb: bool) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Saves, deletions, and replicated paths cut from histories of up to 4 revisions.

    With CouchDB a path's newest id may also be an odd one (upper case, not
    hex, 16 bytes), which CouchDB reads as bytes.
    """
    doc = st.sampled_from(DOC_IDS)
    edited = st.sampled_from(DOC_IDS[:2])  # "c" only replicated: its odd ids never meet a server's own
    put = st.tuples(st.just("put"), edited)
    delete = st.tuples(st.just("delete"), edited)

    def cut(history: list[str], length: int, odd: str | None, docid: str) -> tuple[Any, ...]:
        ids = history[::-1][:length]
        deleted = int(ids[0][-1], 16) % 3 == 0  # a rev is a deletion or not wherever it comes from
        if odd is not None:
            ids[0] = _ODD[odd](ids[0])
            docid = "c"
        return ("replicate", docid, len(history), ids, deleted)

    newest = st.one_of(st.none(), st.sampled_from(sorted(_ODD))) if couchdb else st.none()
    # With PouchDB Server a replicated leaf is never another path's ancestor: it neither stores the
    # body of a revision it knew without one, nor joins a known revision to more of its history, as
    # CouchDB does (and the store, checked against CouchDB).
    # Nor is a path cut short of its root then (the same leaf sent with more of its history joins it).
    salt = "" if couchdb else "leaf"
    branch = st.lists(_TOKENS, min_size=1, max_size=4).flatmap(
        lambda tokens: st.builds(
            cut,
            st.just(_history(tokens, salt)),
            st.integers(1, len(tokens)) if couchdb else st.just(len(tokens)),
            newest,
            doc,
        )
    )
    return st.lists(st.one_of(put, delete, branch, branch), min_size=1, max_size=12)


class Side:
    """One database (the store's, or the server's) and the labels of the revisions it made."""

    def __init__(self, db: Any, couchdb: bool, writes: dict[str, int]) -> None:
        self.db = db
        self.couchdb = couchdb  # PouchDB Server says "missing" where CouchDB says "deleted"
        self.writes = writes  # w=n on a cluster: the next step reads the winner this one wrote, on any node
        self.labels: dict[str, str] = {}

    def label(self, rev: str) -> str:
        return self.labels.get(rev, rev)

    async def winner(self, docid: str) -> dict[str, Any] | None:
        try:
            return await self.db.get(docid)
        except NotFound:
            return None

    async def apply(self, step: int, op: tuple[Any, ...]) -> None:
        kind, docid = op[0], op[1]
        if kind == "put":
            current = await self.winner(docid)
            doc = {"_id": docid, "v": step}
            if current is not None:
                doc["_rev"] = current["_rev"]
            await self.db.save(doc, **self.writes)
            self.labels[doc["_rev"]] = f"step{step}"
        elif kind == "delete":
            current = await self.winner(docid)
            if current is not None:
                result = await self.db.save({"_id": docid, "_rev": current["_rev"], "_deleted": True}, **self.writes)
                self.labels[result["rev"]] = f"step{step}"
        else:
            _, _, start, ids, deleted = op
            # a rev's body is the same wherever it comes from, as with content-hashed revs
            rev = f"{start}-{ids[0]}"
            doc = {"_id": docid, "_rev": rev, "_revisions": {"start": start, "ids": ids}, "v": rev}
            if deleted:
                doc["_deleted"] = True
            await self.db.bulk_docs([doc], new_edits=False, **self.writes)

    async def snapshot(self, docid: str) -> dict[str, Any]:
        """What the document is, in labels."""
        try:
            doc = await self.db.get(docid, conflicts=True)
        except NotFound as exc:
            found: dict[str, Any] = {"missing": exc.reason if self.couchdb else True}
        else:
            history = (await self.db.get(docid, revs=True))["_revisions"]
            found = {
                "winner": self.label(doc["_rev"]),
                "body": {k: v for k, v in doc.items() if not k.startswith("_")},
                "conflicts": sorted(self.label(rev) for rev in doc.get("_conflicts", [])),
                "history": [self.label(f"{history['start'] - i}-{rid}") for i, rid in enumerate(history["ids"])],
            }
        try:
            leaves = await self.db.get(docid, open_revs="all")
        except NotFound:
            leaves = []
        found["leaves"] = sorted(
            (self.label(leaf["ok"]["_rev"]), bool(leaf["ok"].get("_deleted")), leaf["ok"].get("v"))
            for leaf in leaves
            if "ok" in leaf
        )
        return found

    async def everything(self) -> dict[str, Any]:
        rows = await self.db.all_docs()
        return {
            "docs": {docid: await self.snapshot(docid) for docid in DOC_IDS},
            "all_docs": [(row["id"], self.label(row["value"]["rev"])) for row in rows],
        }

    async def changes_since(self, since: Any) -> dict[str, list[str]]:
        found = {}
        async for change in self.db.follow(since, feed="normal", style="all_docs"):
            found[change["id"]] = sorted(self.label(c["rev"]) for c in change["changes"])
        return found


async def _compare(server_url: str, couchdb: bool, ops: list[tuple[Any, ...]]) -> None:
    name = f"diff-{uuid.uuid4().hex[:12]}"
    async with Server("memory://") as local, Server(server_url) as remote:
        remote_db = await remote.create(name)
        store = Side(await local.create(name), couchdb, {})
        server = Side(remote_db, couchdb, await all_copies(remote_db))
        try:
            middle = len(ops) // 2
            marks = []
            for step, op in enumerate(ops):
                if step == middle:
                    marks = [(await side.db.info())["update_seq"] for side in (store, server)]
                for side in (store, server):
                    await side.apply(step, op)
            expected = await store.everything()
            # a cluster's copies agree a moment after a write is answered: read the server again until then
            for _ in range(100):
                found = await server.everything()
                if found == expected:
                    break
                await asyncio.sleep(0.1)
            assert expected == found, ops
            if marks:
                after = [await side.changes_since(mark) for side, mark in zip((store, server), marks, strict=True)]
                # every change after the mark; a cluster may hand over earlier ones again (a shard copy other
                # than the one the mark names), so the server may list more documents, never other revisions
                assert {docid: after[1].get(docid) for docid in after[0]} == after[0], ops
        finally:
            await remote.delete(name)


def test_the_store_and_the_server_agree_on_every_sequence(server_info: Any) -> None:
    if server_info.is_store:
        pytest.skip("compares the store with a server")

    examples = int(os.environ.get("WALLABY_DIFF_EXAMPLES", "40"))

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(operations(server_info.kind == "couchdb"))
    def agree(ops: list[tuple[Any, ...]]) -> None:
        asyncio.run(_compare(server_info.url, server_info.kind == "couchdb", ops))

    agree()


def test_a_known_conflict_sequence_agrees(server_info: Any) -> None:
    """A fixed case: a conflict, its loser deleted, a winner deleted, a document revived."""
    if server_info.is_store:
        pytest.skip("compares the store with a server")
    one = _history([("00000000", "1"), ("ffffffff", "a")])
    two = _history([("00000000", "1"), ("ffffffff", "7"), ("ffffffff", "e")])
    ops = [
        ("put", "a"),
        ("replicate", "a", 2, one[::-1], False),
        ("replicate", "a", 3, two[::-1], False),
        ("delete", "a"),
        ("delete", "a"),
        ("put", "a"),
        ("replicate", "b", 3, two[::-1][:2], True),
        ("put", "b"),
    ]
    if server_info.kind == "couchdb":  # the body of an ancestor that had none, and its history
        ops.append(("replicate", "b", 2, two[:2][::-1], False))
    asyncio.run(_compare(server_info.url, server_info.kind == "couchdb", ops))
