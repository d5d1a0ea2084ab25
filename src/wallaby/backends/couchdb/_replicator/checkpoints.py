"""Checkpoints: ``_local/<replication id>`` on both databases, in CouchDB's format.

Rules kept here:

- The document is CouchDB's (``couch_replicator_scheduler_job``):
  ``session_id``, ``source_last_seq`` and ``history``, newest first and at
  most 50 entries, each ``{session_id, start_time, end_time, start_last_seq,
  end_last_seq, recorded_seq, missing_checked, missing_found, docs_read,
  docs_written, doc_write_failures}``. A run has one session id; each of its
  checkpoints replaces its own entry, as CouchDB's do.
- A checkpoint says "the target has every change up to this seq", so it is
  written only once the target has them, target first, then source.
- Where to resume (CouchDB's ``compare_replication_logs``): both documents of
  the same session give their ``source_last_seq``; otherwise the newest
  session both histories share gives its ``recorded_seq``; otherwise 0.
  CouchDB takes the source's seq when the sessions match; when the two seqs
  differ (a crash between the two writes, or a database restored from a
  backup) that may be the one the target never reached. Here the older
  entry is taken: each entry of ours carries its number in its session
  (``checkpoint_number``, 1, 2, ...), and the lower one is the older. An
  entry without it (another replicator's) is ordered by the revisions it
  counted (``missing_checked``), which cannot tell two checkpoints apart
  that counted the same (the counters run ahead of the seq: a batch is
  counted when its revisions are asked about, before it is written); then
  the session before this one is taken.
- A source the replicator may not write (401/403 on its checkpoint) is read
  only: the target's checkpoint alone is then trusted, and says so
  (``source_read_only``), so that the next run does not start from 0.
- Writes are retried by the caller; a 409 reads the stored document. When it
  is this very checkpoint, the write landed although its answer was lost
  (the HTTP core or the caller sent it again and the resend met the new
  ``_rev``): it counts as written. Otherwise (another writer) it writes
  again on the current ``_rev``.
- One write at a time, even when its caller is cancelled (a replication
  closed, or completed while its writer was mid-write): the write runs on
  as a task of its own and the next one waits until it has landed. A
  cancelled request may still be stored by CouchDB, after the next one on
  some copies: the next run could then find the older checkpoint there.
- On a cluster each checkpoint is written with ``w`` equal to the database's
  ``n`` (``info()["cluster"]["n"]``, read once per side before the first
  write). CouchDB keeps ``_local`` documents in every copy of their shard but
  never checks their ``_rev`` (a write stores the given rev + 1), never
  copies them between copies, and never read-repairs them. Answered at a
  majority, the next checkpoint could reach a lagging copy before the one
  before it and be overwritten there by it; a read (a majority of copies)
  that meets two versions takes the greater rev *as a string* ("0-7" beats
  "0-10"), so the next run could resume from an older checkpoint, or from 0.
  Waiting for every copy keeps the copies alike. A copy down during a write
  (202) holds an older checkpoint until the next write overwrites it: a run
  that resumes from it reads some changes again and loses nothing.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

from .._core.errors import Conflict, Forbidden, NotFound, Unauthorized
from .._core.runtime import Runtime, Task

__all__ = ["Checkpointer", "resume_point"]

HISTORY = 50
_NO_CHECKPOINT_REASONS = ("missing", "deleted")


def _history(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not doc:
        return []
    history = doc.get("history")
    return [entry for entry in history if isinstance(entry, dict)] if isinstance(history, list) else []


def _shared(source: list[dict[str, Any]], target: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """CouchDB's ``compare_rep_history``: the newest session both histories know."""
    while source and target:
        ids = {entry.get("session_id") for entry in target}
        if source[0].get("session_id") in ids:
            return source[0].get("recorded_seq", 0), source[1:]
        ids = {entry.get("session_id") for entry in source[1:]}
        if target[0].get("session_id") in ids:
            return target[0].get("recorded_seq", 0), target[1:]
        source, target = source[1:], target[1:]
    return 0, []


def resume_point(source: dict[str, Any] | None, target: dict[str, Any] | None) -> tuple[Any, list[dict[str, Any]]]:
    """Where to resume from two checkpoint documents (see the module's rules), and the history to keep."""
    if target is None:
        return 0, []
    if source is None:
        if target.get("source_read_only"):
            return target.get("source_last_seq", 0), _history(target)
        return 0, []
    session = source.get("session_id")
    if session is None or session != target.get("session_id"):
        return _shared(_history(source), _history(target))
    source_seq, target_seq = source.get("source_last_seq", 0), target.get("source_last_seq", 0)
    if source_seq == target_seq:
        return source_seq, _history(source)
    source_history, target_history = _history(source), _history(target)
    for key in ("checkpoint_number", "missing_checked"):
        source_count = source_history[0].get(key) if source_history else None
        target_count = target_history[0].get(key) if target_history else None
        if isinstance(source_count, int) and isinstance(target_count, int) and source_count != target_count:
            if source_count < target_count:
                return source_seq, source_history
            return target_seq, target_history
    return _shared(source_history[1:], target_history[1:])


def _when(seconds: float) -> str:
    return formatdate(seconds, usegmt=True)


class Checkpointer:
    """Reads and writes the checkpoint documents of one replication on its two databases."""

    __slots__ = (
        "_source",
        "_target",
        "doc_id",
        "session_id",
        "_revs",
        "_history",
        "source_read_only",
        "start_seq",
        "_start_time",
        "_write_options",
        "_runtime",
        "_landing",
        "_number",
    )

    def __init__(self, source: Any, target: Any, replication_id: str, session_id: str, runtime: Runtime) -> None:
        self._source = source
        self._target = target
        self.doc_id = "_local/" + replication_id
        self.session_id = session_id
        self._revs: dict[str, str | None] = {"source": None, "target": None}
        self._history: list[dict[str, Any]] = []
        self.source_read_only = False
        self.start_seq: Any = 0
        self._start_time = time.time()
        self._write_options: dict[str, dict[str, int]] = {}
        self._runtime = runtime
        self._landing: Task | None = None
        self._number = 0

    async def read(self, side: str) -> dict[str, Any] | None:
        """The checkpoint document on ``side`` (``source`` or ``target``), None when there is none.

        A missing database raises its NotFound (its reason is not ``missing``).
        """
        db = self._source if side == "source" else self._target
        try:
            doc = await db.get(self.doc_id)
        except NotFound as exc:
            if exc.reason in _NO_CHECKPOINT_REASONS:
                return None
            raise
        if not isinstance(doc, dict):
            return None
        rev = doc.get("_rev")
        self._revs[side] = rev if isinstance(rev, str) else None
        return doc

    def resume(self, source: dict[str, Any] | None, target: dict[str, Any] | None) -> Any:
        """Settle where this run starts from the two documents read; returns that seq."""
        self.start_seq, self._history = resume_point(source, target)
        if source is None and target is not None and target.get("source_read_only"):
            self.source_read_only = True
        return self.start_seq

    def document(self, seq: Any, counters: dict[str, int]) -> dict[str, Any]:
        """The checkpoint document for ``seq`` (without ``_id`` and ``_rev``)."""
        entry = {
            "session_id": self.session_id,
            "start_time": _when(self._start_time),
            "end_time": _when(time.time()),
            "start_last_seq": self.start_seq,
            "end_last_seq": seq,
            "recorded_seq": seq,
            **counters,
            "checkpoint_number": self._number,
        }
        doc: dict[str, Any] = {
            "session_id": self.session_id,
            "source_last_seq": seq,
            "replicator": "wallaby-backend-couchdb",
            "history": [entry, *self._history][:HISTORY],
        }
        if self.source_read_only:
            doc["source_read_only"] = True
        return doc

    async def write(self, seq: Any, counters: dict[str, int]) -> None:
        """Record ``seq`` on the target, then on the source (unless it is read only).

        The write goes on if this call is cancelled; the next one starts once it has ended.
        """
        await self.settle()
        self._number += 1
        failed: list[Exception] = []

        async def land() -> None:
            try:
                await self._write(self.document(seq, counters))
            except Exception as exc:  # handed to the caller below; the runtime would log it
                failed.append(exc)

        landing = self._landing = self._runtime.spawn(land(), lambda: None)
        await landing.wait()
        if failed:
            raise failed[0]

    async def settle(self) -> None:
        """Wait until the write on its way, if any, has ended."""
        if self._landing is not None:
            await self._landing.wait()

    async def _write(self, body: dict[str, Any]) -> None:
        await self._put("target", body)
        if self.source_read_only:
            return
        try:
            await self._put("source", body)
        except (Unauthorized, Forbidden):
            self.source_read_only = True
            await self._put("target", {**body, "source_read_only": True})

    async def _all_copies(self, side: str, db: Any) -> dict[str, int]:
        """``{"w": n}`` for a database with ``n`` copies of each shard (a cluster's), else nothing."""
        options = self._write_options.get(side)
        if options is None:
            cluster = (await db.info()).get("cluster")
            copies = cluster.get("n") if isinstance(cluster, dict) else None
            options = {"w": copies} if isinstance(copies, int) and copies > 1 else {}
            self._write_options[side] = options
        return options

    async def _put(self, side: str, body: dict[str, Any]) -> None:
        db = self._source if side == "source" else self._target
        options = await self._all_copies(side, db)
        for attempt in range(3):
            doc = {"_id": self.doc_id, **body}
            if self._revs[side] is not None:
                doc["_rev"] = self._revs[side]
            try:
                await db.save(doc, **options)
            except Conflict:
                stored = await self.read(side)
                if stored is not None and {key: stored.get(key) for key in body} == body:
                    return  # it landed: the 409 answered a resend of it
                if attempt == 2:
                    raise
                continue
            self._revs[side] = doc.get("_rev")
            return
