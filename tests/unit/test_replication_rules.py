"""The replicator's pure rules: where to resume from two checkpoints, the replication id, the options."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from types import SimpleNamespace

import pytest

from wallaby.backends.couchdb import Backoff, InvalidArgument, InvalidType
from wallaby.backends.couchdb._api.open_revs import Revision
from wallaby.backends.couchdb._core.errors import Conflict, NetworkError, ServerError
from wallaby.backends.couchdb._core.runtime import Timeouts
from wallaby.backends.couchdb._replicator.checkpoints import Checkpointer, resume_point
from wallaby.backends.couchdb._replicator.ids import replication_id
from wallaby.backends.couchdb._replicator.options import Options
from wallaby.backends.couchdb._replicator.progress import Counters
from wallaby.backends.couchdb._replicator.transfer import Transfer
from wallaby.backends.couchdb.aio._runtime import AioRuntime


def entry(session, seq, checked=0, **extra):
    return {"session_id": session, "recorded_seq": seq, "end_last_seq": seq, "missing_checked": checked, **extra}


def checkpoint(session, seq, *history, **extra):
    return {"session_id": session, "source_last_seq": seq, "history": list(history), **extra}


OLD = [entry("s1", 10, 10), entry("s0", 5, 5)]


@pytest.mark.parametrize(
    ("source", "target", "seq"),
    [
        (None, None, 0),  # never replicated
        (checkpoint("s2", 20, entry("s2", 20, 20), *OLD), None, 0),  # the target lost its checkpoint
        (None, checkpoint("s2", 20, entry("s2", 20, 20), *OLD), 0),  # the source lost its checkpoint
        (checkpoint("s2", 20, entry("s2", 20, 20), *OLD), checkpoint("s2", 20, entry("s2", 20, 20), *OLD), 20),
        # one run ended between the target's write and the source's: the older checkpoint wins...
        (checkpoint("s2", 15, entry("s2", 15, 15), *OLD), checkpoint("s2", 20, entry("s2", 20, 20), *OLD), 15),
        # ...whichever side holds it (the target restored from a backup: CouchDB would take the source's 20)
        (checkpoint("s2", 20, entry("s2", 20, 20), *OLD), checkpoint("s2", 15, entry("s2", 15, 15), *OLD), 15),
        # the same counts and different seqs, the older numbered (the counters ran ahead of the seq)
        (
            checkpoint("s2", 15, entry("s2", 15, 9, checkpoint_number=5), *OLD),
            checkpoint("s2", 20, entry("s2", 20, 9, checkpoint_number=6), *OLD),
            15,
        ),
        (
            checkpoint("s2", 20, entry("s2", 20, 9, checkpoint_number=6), *OLD),
            checkpoint("s2", 15, entry("s2", 15, 9, checkpoint_number=5), *OLD),
            15,
        ),
        # the same counts and different seqs, not numbered (another replicator's): the session before
        (checkpoint("s2", 15, entry("s2", 15, 9), *OLD), checkpoint("s2", 20, entry("s2", 20, 9), *OLD), 10),
        # different sessions: the newest one both histories know
        (checkpoint("s3", 30, entry("s3", 30), *OLD), checkpoint("s2", 20, entry("s2", 20), *OLD), 10),
        (checkpoint("s3", 30, entry("s3", 30), entry("s2", 20), *OLD), checkpoint("s2", 20, entry("s2", 20), *OLD), 20),
        (checkpoint("s3", 30, entry("s3", 30)), checkpoint("s2", 20, entry("s2", 20)), 0),
        # a read-only source has no checkpoint: the target says so and is trusted
        (None, checkpoint("s2", 20, entry("s2", 20), source_read_only=True), 20),
    ],
)
def test_where_a_replication_resumes(source, target, seq):
    assert resume_point(source, target)[0] == seq


def test_a_checkpoint_keeps_fifty_entries_and_replaces_its_own_session_entry():
    db = SimpleNamespace()
    checkpointer = Checkpointer(db, db, "rid", "now", SimpleNamespace())
    checkpointer.resume(
        checkpoint("old1", 99, *[entry(f"old{n}", 100 - n) for n in range(1, 60)]),
        checkpoint("old1", 99, *[entry(f"old{n}", 100 - n) for n in range(1, 60)]),
    )
    first = checkpointer.document(120, {"missing_checked": 1})
    second = checkpointer.document(130, {"missing_checked": 2})
    assert first["source_last_seq"] == 120 and second["source_last_seq"] == 130
    assert len(second["history"]) == 50
    assert [e["session_id"] for e in second["history"][:2]] == ["now", "old1"]
    assert second["history"][0]["start_last_seq"] == 99
    assert second["history"][0]["recorded_seq"] == 130


def database(url, name):
    return SimpleNamespace(server=SimpleNamespace(url=url), name=name)


A, B = database("http://a:5984", "db"), database("http://b:5984", "db")


def test_the_replication_id_is_the_same_for_the_same_replication():
    assert replication_id(A, B, None, False, None) == replication_id(A, B, None, False, None)
    assert len(replication_id(A, B, None, False, None)) == 32


@pytest.mark.parametrize(
    "other",
    [
        (B, A, None, False, None),
        (A, database("http://b:5984", "db2"), None, False, None),
        (A, B, {"doc_ids": ["x"]}, False, None),
        (A, B, {"filter": "app/f", "query_params": {}, "code": "function(doc) { return true; }"}, False, None),
        (A, B, None, True, None),
        (A, B, None, False, "5-abc"),
    ],
)
def test_the_replication_id_changes_with_what_is_replicated(other):
    assert replication_id(*other) != replication_id(A, B, None, False, None)


def test_the_replication_id_ignores_the_order_of_a_selector_keys():
    assert replication_id(A, B, {"selector": {"a": 1, "b": 2}}, False, None) == replication_id(
        A, B, {"selector": {"b": 2, "a": 1}}, False, None
    )


def options(**given):
    defaults = {
        "continuous": False,
        "doc_ids": None,
        "selector": None,
        "filter": None,
        "query_params": None,
        "since_seq": None,
        "create_target": False,
        "winning_revs_only": False,
        "batch_size": 500,
        "batches_in_flight": 4,
        "checkpoint_interval": 0,
        "use_checkpoints": True,
        "backoff": None,
        "progress": None,
    }
    return Options(**{**defaults, **given})


def test_doc_ids_are_sorted_so_their_order_does_not_change_the_replication():
    assert options(doc_ids=["b", "a", "b"]).picker() == {"doc_ids": ["a", "b"]}


def test_what_picks_the_documents_becomes_feed_options():
    assert options().feed_options() == {"style": "all_docs"}
    assert options(winning_revs_only=True).feed_options() == {}
    assert options(filter="app/f", query_params={"k": "v"}).feed_options() == {
        "style": "all_docs",
        "filter": "app/f",
        "filter_params": {"k": "v"},
    }
    assert options(selector={"a": 1}).feed_options()["selector"] == {"a": 1}


def test_a_one_shot_replication_gives_up_after_ten_failures_and_a_continuous_one_never():
    assert options().backoff.retries == 10
    assert options(continuous=True).backoff.retries is None
    mine = Backoff(retries=2)
    assert options(backoff=mine).backoff is mine


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"doc_ids": ["a"], "filter": "app/f"}, InvalidArgument),
        ({"doc_ids": "a"}, InvalidType),
        ({"doc_ids": [""]}, InvalidArgument),
        ({"selector": ["a"]}, InvalidType),
        ({"filter": "_design/app/f"}, InvalidArgument),
        ({"filter": "_view"}, InvalidArgument),
        ({"since_seq": 1.5}, InvalidType),
        ({"create_target": 1}, InvalidType),
        ({"batch_size": 0}, InvalidArgument),
        ({"batches_in_flight": True}, InvalidType),
        ({"checkpoint_interval": "5"}, InvalidType),
        ({"use_checkpoints": None}, InvalidType),
    ],
)
def test_bad_options_are_refused(given, error):
    with pytest.raises(error):
        options(**given)


class SlowDatabase:
    """A database whose saves wait until the test lets each one through; it says which are on their way."""

    def __init__(self, copies: int) -> None:
        self.copies = copies
        self.saves: list[tuple[int, dict]] = []  # (the save's source_last_seq, its options), as each starts
        self.landed: list[int] = []
        self.gate = asyncio.Event()

    async def info(self) -> dict:
        return {"cluster": {"n": self.copies}}

    async def save(self, doc: dict, **options: int) -> dict:
        self.saves.append((doc["source_last_seq"], options))
        await self.gate.wait()
        doc["_rev"] = f"0-{len(self.landed) + 1}"
        self.landed.append(doc["source_last_seq"])
        return {"ok": True}


def test_a_checkpoint_write_whose_caller_is_cancelled_lands_before_the_next_is_sent():
    async def main() -> SlowDatabase:
        db = SlowDatabase(copies=3)
        checkpointer = Checkpointer(db, db, "rid", "now", AioRuntime(Timeouts()))
        first = asyncio.ensure_future(checkpointer.write(10, {}))
        await asyncio.sleep(0.01)
        first.cancel()  # as a replication closed mid-write does
        second = asyncio.ensure_future(checkpointer.write(20, {}))
        await asyncio.sleep(0.01)
        assert [seq for seq, _ in db.saves] == [10]  # the second waits for the first's answer
        db.gate.set()
        await second
        return db

    db = asyncio.run(main())
    assert db.landed == [10, 10, 20, 20]  # target then source, one write after the other
    assert {tuple(options.items()) for _, options in db.saves} == {(("w", 3),)}  # every copy, on a cluster


def test_a_checkpoint_on_one_copy_is_written_without_w():
    async def main() -> SlowDatabase:
        db = SlowDatabase(copies=1)
        db.gate.set()
        await Checkpointer(db, db, "rid", "now", AioRuntime(Timeouts())).write(10, {})
        return db

    assert [options for _, options in asyncio.run(main()).saves] == [{}, {}]


class LostAnswerDatabase:
    """A database that stores each save, then answers 409, as when the answer is lost and the PUT is sent again."""

    def __init__(self) -> None:
        self.stored: dict = {}
        self.saves = 0

    async def info(self) -> dict:
        return {}

    async def save(self, doc: dict, **options: int) -> dict:
        self.saves += 1
        if doc.get("_rev") == self.stored.get("_rev"):
            self.stored = {**doc, "_rev": f"0-{self.saves}"}
        raise Conflict("Document update conflict.", error="conflict", method="PUT", url="http://db/_local/rid")

    async def get(self, doc_id: str) -> dict:
        return dict(self.stored)


def test_a_checkpoint_whose_answer_was_lost_counts_as_written():
    async def main() -> tuple[LostAnswerDatabase, LostAnswerDatabase]:
        source, target = LostAnswerDatabase(), LostAnswerDatabase()
        checkpointer = Checkpointer(source, target, "rid", "now", AioRuntime(Timeouts()))
        await checkpointer.write(10, {})
        await checkpointer.write(20, {})
        return source, target

    for db in asyncio.run(main()):
        assert db.stored["source_last_seq"] == 20
        assert db.saves == 2  # one save per checkpoint: none sent again once the read showed it landed


class BusySource:
    """A source whose first ``_bulk_get`` answers as a loaded CouchDB does: 200, each row an error."""

    def __init__(self, first_error: str) -> None:
        self.first_error = first_error
        self.reads = 0

    async def bulk_get(self, wanted: list, revs: bool, latest: bool) -> list:
        self.reads += 1
        if self.reads == 1:
            error = {"id": "a", "rev": "1-x", "error": self.first_error, "reason": "timeout"}
            return [{"id": "a", "docs": [{"error": error}]}]
        return [{"id": "a", "docs": [{"ok": {"_id": "a", "_rev": "1-x", "_revisions": {"start": 1, "ids": ["x"]}}}]}]


class Target:
    def __init__(self) -> None:
        self.written: list = []

    async def bulk_docs(self, docs: list, new_edits: bool) -> list:
        self.written.extend(docs)
        return []


async def once_more(call, halve=False):
    """The replication's retry, as a first 5xx or lost connection meets it."""
    try:
        return await call()
    except ServerError:
        return await call()


def copy_one_change(source: BusySource) -> tuple[Target, Counters]:
    target, counters = Target(), Counters()
    transfer = Transfer(source, target, counters, once_more, lambda failure: None)
    asyncio.run(transfer.batch([{"id": "a", "changes": [{"rev": "1-x"}]}], check=False))
    return target, counters


def test_a_bulk_get_row_that_could_not_be_read_is_read_again_not_passed_over():
    source = BusySource("internal_fabric_error")
    target, counters = copy_one_change(source)
    assert source.reads == 2
    assert [doc["_id"] for doc in target.written] == ["a"] and counters.docs_written == 1


def test_a_revision_gone_from_the_source_is_passed_over():
    source = BusySource("not_found")
    target, counters = copy_one_change(source)
    assert source.reads == 1 and target.written == [] and counters.docs_written == 0


class DesignSource:
    """A source with one design document, read alone (with its attachments, were it to have any)."""

    @asynccontextmanager
    async def stream_open_revs(self, docid: str, leaves: list, latest: bool, atts_since: list | None):
        async def revisions():
            yield Revision({"_id": docid, "_rev": "1-x", "_revisions": {"start": 1, "ids": ["x"]}})

        yield revisions()


class DroppingTarget:
    """A target whose first write is lost with its connection."""

    def __init__(self) -> None:
        self.saves = 0

    async def save(self, doc: dict, new_edits: bool) -> dict:
        self.saves += 1
        if self.saves == 1:
            raise NetworkError("connection reset", method="PUT", url="http://db/_design/x")
        return {"ok": True}


def test_a_revision_whose_write_was_lost_is_written_again_on_the_retry():
    async def retry(call, halve=False):
        try:
            return await call()
        except NetworkError:
            return await call()

    target, counters = DroppingTarget(), Counters()
    transfer = Transfer(DesignSource(), target, counters, retry, lambda failure: None)
    asyncio.run(transfer.batch([{"id": "_design/x", "changes": [{"rev": "1-x"}]}], check=False))
    assert target.saves == 2
    assert (counters.docs_read, counters.docs_written) == (1, 1)
