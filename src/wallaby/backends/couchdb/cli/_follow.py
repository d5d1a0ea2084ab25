"""``follow``: a changes feed as JSON Lines, resumable from a checkpoint file.

Rules kept here:

- A change is written (and flushed) before the checkpoint moves past it, so
  a restart from the checkpoint repeats at most the last batch, never skips.
- The checkpoint file holds the seq as JSON, replaced atomically (a new file
  renamed over the old), so a crash never leaves half a seq.
- Ctrl-C ends the feed cleanly: the connection is closed, the checkpoint is
  where the last written change is, the exit code is 0.
"""

from __future__ import annotations

import os
from typing import Any

import click
import orjson

from ..aio import Server
from ._commands import CONTEXT, JSON
from ._output import Lines
from ._session import EXIT_USAGE, Interrupted, fail, run

__all__ = ["COMMANDS", "read_checkpoint", "write_checkpoint"]


def read_checkpoint(path: str) -> Any:
    """The seq stored at ``path``, or None when there is no file yet."""
    try:
        with open(path, "rb") as file:
            raw = file.read().strip()
    except FileNotFoundError:
        return None
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        fail(f"{path} does not hold a checkpoint (a seq as JSON)", EXIT_USAGE)


def write_checkpoint(path: str, seq: Any) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as file:
        file.write(orjson.dumps(seq) + b"\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def _filter_params(pairs: tuple[str, ...]) -> dict[str, str] | None:
    params = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            fail(f"--filter-param takes NAME=VALUE, not {pair!r}", EXIT_USAGE)
        params[name] = value
    return params or None


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.option("--since", type=JSON, help='Start after this seq ("now": new changes only). Default: the start.')
@click.option("--checkpoint", type=click.Path(dir_okay=False), help="Resume from the seq in this file; keep it there.")
@click.option("--include-docs", is_flag=True, help="Each change with its document.")
@click.option("--filter", "filter_", metavar="DDOC/NAME", help="A design document's filter function (or _design).")
@click.option("--filter-param", multiple=True, metavar="NAME=VALUE", help="A query parameter for the filter.")
@click.option("--view", metavar="DDOC/VIEW", help="Changes of documents this view's map emits.")
@click.option("--doc-id", "doc_ids", multiple=True, metavar="ID", help="Only this document (repeatable).")
@click.option("--selector", type=JSON, help="Only documents matching this Mango selector (CouchDB).")
@click.option("--conflicts", is_flag=True, help="With --include-docs: add _conflicts.")
@click.option("--all-leaves", is_flag=True, help="style=all_docs: every leaf revision of each change.")
@click.option(
    "--feed",
    type=click.Choice(["continuous", "longpoll", "normal"]),
    default="continuous",
    show_default=True,
    help="normal: stop when caught up.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many changes.")
@click.pass_obj
def follow(
    obj: Any,
    db: str,
    since: Any,
    checkpoint: str | None,
    include_docs: bool,
    filter_: str | None,
    filter_param: tuple[str, ...],
    view: str | None,
    doc_ids: tuple[str, ...],
    selector: Any,
    conflicts: bool,
    all_leaves: bool,
    feed: str,
    limit: int | None,
) -> None:
    """Tail the changes feed of DB as JSON Lines, until Ctrl-C (or caught up, with --feed normal).

    Through dropped connections and server restarts it reconnects and goes on
    after the last change written. With --checkpoint FILE it starts after the
    seq in FILE and stores there the seq of each change it has written.

    \b
    Example:
      wallaby-couchdb follow mydb --include-docs --checkpoint mydb.seq | ./handle-changes
    """
    if checkpoint is not None and since is None:
        since = read_checkpoint(checkpoint)
    options: dict[str, Any] = {"feed": feed, "limit": limit, "filter": filter_, "view": view}
    options["filter_params"] = _filter_params(filter_param)
    options["doc_ids"] = list(doc_ids) or None
    options["selector"] = selector
    for name, on in (("include_docs", include_docs), ("conflicts", conflicts)):
        if on:
            options[name] = True
    if all_leaves:
        options["style"] = "all_docs"
    out = Lines(flush_each=True)
    state: dict[str, Any] = {"seq": since, "count": 0}

    async def main(server: Server) -> None:
        async with server.database(db).follow(since, **options) as changes:
            async for batch in changes.batches():
                for change in batch:
                    out.write(change)
                state["seq"] = changes.last_seq
                state["count"] += len(batch)
                if checkpoint is not None:
                    write_checkpoint(checkpoint, changes.last_seq)

    try:
        run(obj.get(), main, db)
    except Interrupted:
        where = f"; resume with --since {orjson.dumps(state['seq']).decode()}" if checkpoint is None else ""
        click.echo(f"wallaby-couchdb: stopped after {state['count']} changes{where}", err=True)


COMMANDS = [follow]
