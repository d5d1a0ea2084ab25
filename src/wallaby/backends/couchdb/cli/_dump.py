"""``dump`` and ``load``: a database as JSON Lines, attachments included, resumable both ways.

The format, one JSON object per line:

- ``{"dump": 1, "db": NAME, "doc_count": N, ...}`` first;
- ``{"doc": {...}}``: one leaf revision of a document, with ``_revisions``
  (its history) and attachment stubs; deleted leaves and conflicts included;
- ``{"att": NAME, "data": BASE64}``: after a doc, the bytes of each of its
  attachments, in the stubs' order, in pieces of at most 768 KiB;
- ``{"seq": SEQ}``: everything above it is complete up to this changes seq;
- ``{"end": {"docs": N, "seq": SEQ}}`` last, once the dump is complete.

Rules kept here:

- ``dump`` reads the changes feed (``style=all_docs``: every leaf), fetches
  each batch's leaves with ``_bulk_get`` (``revs=true``) and streams every
  attachment, so memory holds one batch of documents and one piece of an
  attachment, whatever the database's size.
- ``dump --resume`` reads the file's last ``seq`` line, cuts what follows it
  (an interrupted batch) and goes on from there.
- ``load`` writes with ``new_edits=false``, as a replicator does: the same
  ids, revs, histories, conflicts, deletions and attachments. Documents go in
  batches of at most ``--batch`` documents or 8 MiB, attachments inline; a
  document with its attachments is held whole while it is sent.
- ``load`` keeps its place in the target as ``_local/wallaby-couchdb-load``
  (the dump's identity and the last ``seq`` line loaded), so running it again
  after an interruption skips what is already there.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import IO, Any

import click
import orjson

from ..aio import Conflict, NotFound, Server
from ._commands import CONTEXT
from ._output import Lines, ProgressBar
from ._session import EXIT_INTERRUPTED, EXIT_USAGE, Interrupted, fail, run

__all__ = ["COMMANDS", "last_seq_line"]

FORMAT = 1
PIECE = 768 * 1024  # attachment bytes per line: 1 MiB of base64
BATCH_BYTES = 8 * 1024 * 1024
CHECKPOINT = "_local/wallaby-couchdb-load"


# --- dump ---------------------------------------------------------------------------------


def last_seq_line(path: str) -> tuple[Any, int, int, dict[str, Any]]:
    """The last ``seq`` in a dump file, the byte offset just after its line, the docs before it, and the header."""
    seq: Any = None
    offset = docs = docs_at_seq = 0
    header: dict[str, Any] = {}
    position = 0
    with open(path, "rb") as file:
        for number, line in enumerate(file):
            position += len(line)
            if not line.endswith(b"\n"):
                break  # a line cut short by the interruption
            record = orjson.loads(line)
            if number == 0:
                header = record
            elif "doc" in record:
                docs += 1
            elif "seq" in record:
                seq, offset, docs_at_seq = record["seq"], position, docs
            elif "end" in record:
                fail(f"{path} holds a complete dump already", EXIT_USAGE)
    if not header.get("dump"):
        fail(f"{path} is not a dump made by wallaby-couchdb", EXIT_USAGE)
    return seq, offset or _header_size(path), docs_at_seq, header


def _header_size(path: str) -> int:
    with open(path, "rb") as file:
        return len(file.readline())


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: standard output).")
@click.option("--resume", is_flag=True, help="Go on with an interrupted dump into --output.")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True, help="Changes per request.")
@click.pass_obj
def dump(obj: Any, db: str, output: str | None, resume: bool, batch: int) -> None:
    """Write every document of DB as JSON Lines: all leaf revisions, histories and attachments.

    A progress bar (documents, docs/s, ETA) is drawn on a terminal. Interrupted,
    `dump --resume -o FILE` goes on where it stopped.

    \b
    Example:
      wallaby-couchdb dump mydb -o mydb.jsonl
      wallaby-couchdb dump mydb --resume -o mydb.jsonl
    """
    since: Any = None
    done = 0
    if resume:
        if output is None:
            fail("--resume needs --output FILE", EXIT_USAGE)
        if os.path.exists(output):
            since, offset, done, header = last_seq_line(output)
            if header.get("db") != db:
                fail(f"{output} is a dump of {header.get('db')!r}, not of {db!r}", EXIT_USAGE)
            with open(output, "r+b") as file:
                file.truncate(offset)
        else:
            resume = False
    out = Lines(output, append=resume)
    count = {"docs": done}

    async def main(server: Server) -> None:
        database = server.database(db)
        info = await database.info()
        if not resume:
            out.write({"dump": FORMAT, "db": db, "doc_count": info.get("doc_count"), "update_seq": info["update_seq"]})
        total = (info.get("doc_count") or 0) + (info.get("doc_del_count") or 0)
        with ProgressBar(f"dump {db}", total, done) as progress:
            last = since
            async with database.follow(since, feed="normal", style="all_docs", page_size=batch) as changes:
                async for page in changes.batches():
                    leaves = [{"id": c["id"], "rev": leaf["rev"]} for c in page for leaf in c["changes"]]
                    for result in await database.bulk_get(leaves, revs=True):
                        for answer in result["docs"]:
                            await _write_doc(database, out, result["id"], answer)
                    last = changes.last_seq
                    out.write({"seq": last})
                    out.flush()
                    count["docs"] += len(leaves)
                    progress.advance(len(page))
            out.write({"end": {"docs": count["docs"], "seq": last}})

    try:
        run(obj.get(), main, db)
    except Interrupted:
        out.close()
        fail(f"interrupted; `dump {db} --resume -o FILE` goes on from the last complete batch", EXIT_INTERRUPTED)
    out.close()


async def _write_doc(database: Any, out: Lines, docid: str, answer: dict[str, Any]) -> None:
    if "ok" not in answer:
        error = answer.get("error") or {}
        raise NotFound(
            f"{docid}: {error.get('reason') or error.get('error') or 'leaf vanished during the dump'}",
            error=error.get("error"),
        )
    doc = answer["ok"]
    out.write({"doc": doc})
    for name in doc.get("_attachments") or {}:
        async with database.stream_attachment(docid, name, rev=doc["_rev"]) as chunks:
            pending = b""
            async for chunk in chunks:
                pending += chunk
                while len(pending) >= PIECE:
                    out.write({"att": name, "data": base64.b64encode(pending[:PIECE]).decode()})
                    pending = pending[PIECE:]
            if pending or not doc["_attachments"][name].get("length"):
                out.write({"att": name, "data": base64.b64encode(pending).decode()})


# --- load ---------------------------------------------------------------------------------


class _Records:
    """The lines of a dump, read one at a time, with one line of look-ahead."""

    def __init__(self, file: IO[bytes]) -> None:
        self._lines: Iterator[bytes] = iter(file)
        self._next: dict[str, Any] | None = None
        self.header = self._read() or {}
        if not isinstance(self.header, dict) or self.header.get("dump") != FORMAT:
            fail("the input is not a dump made by wallaby-couchdb (its first line says so)", EXIT_USAGE)

    def _read(self) -> dict[str, Any] | None:
        for line in self._lines:
            if line.strip():
                try:
                    record: dict[str, Any] = orjson.loads(line)
                except orjson.JSONDecodeError:
                    fail("the dump has a line that is not JSON: is it complete? (dump --resume)", EXIT_USAGE)
                return record
        return None

    def peek(self) -> dict[str, Any] | None:
        if self._next is None:
            self._next = self._read()
        return self._next

    def take(self) -> dict[str, Any] | None:
        record = self.peek()
        self._next = None
        return record


def _with_attachment_data(doc: dict[str, Any], records: _Records) -> int:
    """Replace ``doc``'s stubs by inline data from the ``att`` lines that follow it; the bytes read."""
    size = 0
    for name, stub in (doc.get("_attachments") or {}).items():
        pieces = []
        while (record := records.peek()) is not None and record.get("att") == name:
            pieces.append(base64.b64decode(records.take()["data"]))  # type: ignore[index]
        data = b"".join(pieces)
        if len(data) != stub.get("length", len(data)):
            fail(f"the dump holds {len(data)} bytes of {doc['_id']}/{name}, not {stub.get('length')}: is it complete?")
        kept = {key: stub[key] for key in ("content_type", "revpos") if key in stub}
        doc["_attachments"][name] = {**kept, "data": base64.b64encode(data).decode()}
        size += len(data)
    return size


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--create", is_flag=True, help="Create DB if it does not exist.")
@click.option("--batch", type=click.IntRange(min=1), default=1000, show_default=True, help="Documents per request.")
@click.pass_obj
def load(obj: Any, db: str, source: Any, create: bool, batch: int) -> None:
    """Load a dump (SOURCE, a file or - for standard input) into DB with the same revs.

    Loading the same dump again after an interruption skips what is already in.

    \b
    Example:
      wallaby-couchdb load mydb-copy mydb.jsonl --create
    """
    records = _Records(source)
    header = records.header
    identity = {"db": header.get("db"), "update_seq": header.get("update_seq")}
    failures: list[dict[str, Any]] = []

    async def main(server: Server) -> int:
        database = server.database(db)
        if create:
            try:
                await database.create()
            except Conflict:
                pass
            except Exception as exc:  # PreconditionFailed: it exists already
                if getattr(exc, "status", None) != 412:
                    raise
        mark = await _checkpoint(database)
        resume_after = mark.get("seq") if mark.get("dump") == identity else None
        skipping = resume_after is not None
        loaded = mark.get("docs", 0) if skipping else 0
        pending: list[dict[str, Any]] = []
        pending_bytes = 0

        async def flush() -> None:
            nonlocal pending, pending_bytes
            if pending:
                for result in await database.bulk_docs(pending, new_edits=False):
                    if "error" in result:
                        failures.append(result)
                pending, pending_bytes = [], 0

        with ProgressBar(f"load {db}", header.get("doc_count"), loaded) as progress:
            while (record := records.take()) is not None:
                if "seq" in record:
                    if skipping:
                        skipping = record["seq"] != resume_after
                        continue
                    await flush()
                    await _save_checkpoint(database, mark, identity, record["seq"], loaded)
                elif "doc" in record:
                    doc = record["doc"]
                    size = _with_attachment_data(doc, records)
                    if skipping:
                        continue
                    pending.append(doc)
                    pending_bytes += size + 200
                    loaded += 1
                    progress.advance(1)
                    if len(pending) >= batch or pending_bytes >= BATCH_BYTES:
                        await flush()
            await flush()
        return loaded

    try:
        loaded = run(obj.get(), main, db)
    except Interrupted:
        fail("interrupted; run the same load again to go on", EXIT_INTERRUPTED)
    if failures:
        for failure in failures[:10]:
            click.echo(
                f"wallaby-couchdb: {failure.get('id')}: {failure.get('error')}: {failure.get('reason')}", err=True
            )
        fail(f"{len(failures)} of {loaded} documents were refused")
    click.echo(f"loaded {loaded} documents into {db}", err=True)


async def _checkpoint(database: Any) -> dict[str, Any]:
    try:
        mark: dict[str, Any] = await database.get(CHECKPOINT)
        return mark
    except NotFound:
        return {"_id": CHECKPOINT}


async def _save_checkpoint(database: Any, mark: dict[str, Any], identity: dict[str, Any], seq: Any, docs: int) -> None:
    mark.update(dump=identity, seq=seq, docs=docs)
    await database.save(mark)


COMMANDS = [dump, load]
