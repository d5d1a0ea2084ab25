"""``replicate``: copy SOURCE into TARGET, with a progress bar on a terminal.

Rules kept here:

- SOURCE and TARGET are database names on ``--url``, or URLs of databases
  (``http://host:5984/db``, a store's ``file:///dir/db``), on any two servers.
- With the library's own replicator (``wallaby.backends.couchdb.aio.replicate``)
  this process replicates: the bar follows its events (documents written
  against those read plus those pending). Without it, the server named by
  ``--url`` replicates (``POST /_replicate``, one-shot) and the bar follows
  the target's document count against the source's, read every half second.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from urllib.parse import unquote

import click

from .. import aio
from ..aio import Database, Server
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

    options: dict[str, Any] = {"create_target": create_target, "read_timeout": None}
    if doc_ids:
        options["doc_ids"] = list(doc_ids)
    if selector:
        options["selector"] = orjson.loads(selector)

    client_side: Any = getattr(aio, "replicate", None)

    async def here(server: Server) -> Any:
        src, dst = _database(server, source), _database(server, target)
        total = await _doc_count(server, source)
        with ProgressBar(f"replicate {source} -> {target}", total) as progress:

            def show(event: Any) -> None:
                pending = event.pending if event.pending is not None else 0
                progress.update(event.docs_written + event.doc_write_failures, event.docs_read + pending or None)

            here_options = {name: value for name, value in options.items() if name != "read_timeout"}
            try:
                result = await client_side(src, dst, progress=show, **here_options)
            finally:
                for database in (src, dst):
                    if database.server is not server:
                        await database.close()
        return dataclasses.asdict(result)

    async def main(server: Server) -> Any:
        if client_side is not None:
            return await here(server)
        total = await _doc_count(server, source)
        with ProgressBar(f"replicate {source} -> {target}", total) as progress:
            job = asyncio.ensure_future(server.replicate(source, target, **options))
            shown = 0
            try:
                while not job.done():
                    await asyncio.wait({job}, timeout=0.5)
                    done = await _doc_count(server, target)
                    if done is not None and done > shown:
                        progress.advance(done - shown)
                        shown = done
            finally:
                if not job.done():
                    job.cancel()
            result = job.result()
            if total is not None and shown < total:
                progress.advance(total - shown)
            return result

    try:
        result = run(obj.get(), main)
    except Interrupted:
        fail("interrupted: the server may finish the replication; running it again is safe", EXIT_INTERRUPTED)
    print_json(result)


COMMANDS = [replicate]
