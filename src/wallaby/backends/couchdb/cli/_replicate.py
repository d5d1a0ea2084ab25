"""``replicate``: copy SOURCE into TARGET, with a progress bar on a terminal.

Rules kept here:

- Until the library's own (client-side) replicator is there, the server
  named by ``--url`` replicates (``POST /_replicate``, one-shot); SOURCE and
  TARGET are database names of that server or URLs it can reach.
- Progress is the target's document count against the source's, read every
  half second while the one request waits; the bar ends at the server's
  answer, whose history gives the documents read and written.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from ..aio import Server
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

    async def main(server: Server) -> Any:
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
