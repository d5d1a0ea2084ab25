"""``replicate``: copy SOURCE into TARGET, with a progress bar on a terminal.

Rules kept here:

- SOURCE and TARGET are database names on ``--url``, or URLs of databases
  (``http://host:5984/db``, a store's ``file:///dir/db``), on any two servers.
- This process replicates, with the library's own replicator
  (``wallaby.backends.couchdb.aio.replicate``): neither server needs to reach
  the other. The bar follows its events: documents written (and refused)
  against those read plus those pending, docs per second, the changes still
  pending on the source and the documents the target refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import unquote

import click

from .. import aio
from ..aio import Database, ReplicationEvent, Server
from ._commands import CONTEXT
from ._output import ProgressBar, print_json
from ._session import EXIT_INTERRUPTED, Interrupted, fail, run

__all__ = ["COMMANDS"]


async def _doc_count(server: Server, name: str) -> int | None:
    if "://" in name:
        return None  # a database on another server: not ours to read
    try:
        info = await server.database(name).info()
    except Exception:
        return None
    count: int = info.get("doc_count", 0) + info.get("doc_del_count", 0)
    return count


def _database(server: Server, spec: str) -> Any:
    """A database named on ``server``, or by its own URL (with the server's credentials only if the same host)."""
    if "://" not in spec:
        return server.database(spec)
    base, _, name = spec.rstrip("/").rpartition("/")
    return Database(unquote(name), url=base)


@click.command(context_settings=CONTEXT)
@click.argument("source")
@click.argument("target")
@click.option("--create-target", is_flag=True, help="Create TARGET if it does not exist.")
@click.option("--doc-id", "doc_ids", multiple=True, metavar="ID", help="Only this document (repeatable).")
@click.option("--selector", help="Only documents matching this Mango selector (JSON; CouchDB).")
@click.pass_obj
def replicate(
    obj: Any, source: str, target: str, create_target: bool, doc_ids: tuple[str, ...], selector: str | None
) -> None:
    """Replicate SOURCE into TARGET (database names of the server, or URLs) and print the result.

    Documents, their histories, conflicts, deletions and attachments are copied;
    running it again copies only what changed. A progress bar shows on a terminal.

    \b
    Example:
      wallaby-couchdb replicate orders orders-backup --create-target
    """
    import orjson

    options: dict[str, Any] = {"create_target": create_target}
    if doc_ids:
        options["doc_ids"] = list(doc_ids)
    if selector:
        options["selector"] = orjson.loads(selector)

    async def main(server: Server) -> Any:
        src, dst = _database(server, source), _database(server, target)
        total = await _doc_count(server, source)
        with ProgressBar(f"replicate {source} -> {target}", total, counts=("pending", "failed")) as progress:

            def show(event: ReplicationEvent) -> None:
                counts = {"failed": event.doc_write_failures}
                expected = None  # unknown (PouchDB Server tells no pending): the source's count stays
                if event.pending is not None:
                    counts["pending"] = event.pending
                    expected = event.docs_read + event.pending
                progress.update(event.docs_written + event.doc_write_failures, expected, **counts)

            try:
                result = await aio.replicate(src, dst, progress=show, **options)
            finally:
                for database in (src, dst):
                    if database.server is not server:
                        await database.close()
        return dataclasses.asdict(result)

    try:
        result = run(obj.get(), main)
    except Interrupted:
        fail("interrupted: running it again resumes from the last checkpoint", EXIT_INTERRUPTED)
    print_json(result)


COMMANDS = [replicate]
