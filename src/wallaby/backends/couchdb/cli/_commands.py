"""The one-request commands: info, dbs, create-db, delete-db, get, put, delete, find, view."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from ..aio import Server
from ._output import Lines, print_json, print_table, stdout_is_terminal
from ._session import EXIT_USAGE, fail, run

__all__ = ["COMMANDS"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def json_value(text: str, what: str) -> Any:
    """A command-line argument read as JSON; a bare word that is not JSON is taken as a string."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        if text[:1] in '{["' or text in ("true", "false", "null"):
            fail(f"{what} is not valid JSON: {text}", EXIT_USAGE)
        return text


def JSON(text: str) -> Any:  # noqa: N802 (a click type: ``type=JSON``)
    """An option's value read as JSON (a bare word that is not JSON is a string)."""
    return json_value(text, "the value")


@click.command(context_settings=CONTEXT)
@click.argument("db", required=False)
@click.pass_obj
def info(obj: Any, db: str | None) -> None:
    """The server's welcome (version, vendor), or DB's counts and sizes.

    \b
    Example:
      wallaby-couchdb info
      wallaby-couchdb info mydb
    """

    async def main(server: Server) -> Any:
        return await (server.database(db).info() if db else server.info())

    print_json(run(obj.get(), main, db))


@click.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="JSON even on a terminal.")
@click.pass_obj
def dbs(obj: Any, as_json: bool) -> None:
    """The databases: a table on a terminal, a JSON list of names when piped.

    \b
    Example:
      wallaby-couchdb dbs
      wallaby-couchdb dbs | jq -r '.[]'
    """
    table = stdout_is_terminal() and not as_json

    async def main(server: Server) -> Any:
        names = await server.all_dbs()
        if not table:
            return names
        rows = []
        for name in names:
            meta = await server.database(name).info()
            rows.append((name, meta.get("doc_count"), meta.get("doc_del_count"), _size(meta)))
        return rows

    result = run(obj.get(), main)
    if table:
        print_table(("database", "docs", "deleted", "size"), result)
    else:
        print_json(result)


def _size(meta: dict[str, Any]) -> str:
    size = (meta.get("sizes") or {}).get("file") or meta.get("disk_size")
    if not isinstance(size, int):
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size //= 1024
    return ""


@click.command("create-db", context_settings=CONTEXT)
@click.argument("db")
@click.option("--partitioned", is_flag=True, help="A partitioned database (ids are partition:key).")
@click.option("-q", "shards", type=int, help="Shards (CouchDB's q).")
@click.pass_obj
def create_db(obj: Any, db: str, partitioned: bool, shards: int | None) -> None:
    """Create the database DB.

    \b
    Example:
      wallaby-couchdb create-db invoices
    """
    params: dict[str, Any] = {}
    if partitioned:
        params["partitioned"] = True
    if shards is not None:
        params["q"] = shards

    async def main(server: Server) -> Any:
        return await server.database(db).create(**params)

    print_json(run(obj.get(), main, db))


@click.command("delete-db", context_settings=CONTEXT)
@click.argument("db")
@click.option("-y", "--yes", is_flag=True, help="Do not ask (needed when standard input is not a terminal).")
@click.pass_obj
def delete_db(obj: Any, db: str, yes: bool) -> None:
    """Delete the database DB and every document in it.

    \b
    Example:
      wallaby-couchdb delete-db scratch --yes
    """
    if not yes:
        if not sys.stdin.isatty():
            fail(f"deleting {db!r} needs --yes when nobody can be asked", EXIT_USAGE)
        click.confirm(f"Delete the database {db!r} and all its documents?", abort=True, err=True)

    async def main(server: Server) -> Any:
        return await server.database(db).destroy()

    print_json(run(obj.get(), main, db))


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.argument("docid")
@click.option("--rev", help="That revision instead of the current one.")
@click.option("--conflicts", is_flag=True, help="Add _conflicts: the leaves that lost.")
@click.option("--revs", is_flag=True, help="Add _revisions: the document's history.")
@click.pass_obj
def get(obj: Any, db: str, docid: str, rev: str | None, conflicts: bool, revs: bool) -> None:
    """The document DOCID of DB.

    \b
    Example:
      wallaby-couchdb get mydb invoice-7 --conflicts
    """
    params = {name: True for name, on in (("conflicts", conflicts), ("revs", revs)) if on}

    async def main(server: Server) -> Any:
        return await server.database(db).get(docid, rev, **params)

    print_json(run(obj.get(), main, db))


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.argument("source", type=click.File("rb"), default="-")
@click.option("-d", "--data", type=JSON, help="The document as JSON, instead of SOURCE.")
@click.pass_obj
def put(obj: Any, db: str, source: Any, data: Any) -> None:
    """Save a document (JSON from SOURCE, a file or - for standard input).

    With an _id it is created or updated (give its current _rev to update);
    without one, CouchDB picks the id. Prints CouchDB's answer with the new rev.

    \b
    Example:
      wallaby-couchdb put mydb -d '{"_id": "greeting", "text": "hello"}'
      wallaby-couchdb put mydb doc.json
    """
    if data is None:
        raw = source.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            fail(f"the document is not valid JSON: {exc}", EXIT_USAGE)
    if not isinstance(data, dict):
        fail("a document is a JSON object", EXIT_USAGE)

    async def main(server: Server) -> Any:
        return await server.database(db).save(data)

    print_json(run(obj.get(), main, db))


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.argument("docid")
@click.option("--rev", help="The revision to delete (default: the current one).")
@click.pass_obj
def delete(obj: Any, db: str, docid: str, rev: str | None) -> None:
    """Delete the document DOCID of DB.

    \b
    Example:
      wallaby-couchdb delete mydb greeting
    """

    async def main(server: Server) -> Any:
        database = server.database(db)
        current = rev or await database.head(docid)
        if current is None:
            await database.get(docid)  # raises NotFound with CouchDB's reason
        return await database.delete({"_id": docid, "_rev": current})

    print_json(run(obj.get(), main, db))


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.argument("selector", type=JSON)
@click.option("--fields", help="Comma-separated fields to return.")
@click.option("--sort", "sort_", metavar="FIELDS", help="Comma-separated fields to sort by (needs an index).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many documents.")
@click.option("--page-size", type=click.IntRange(min=1), default=200, show_default=True)
@click.pass_obj
def find(
    obj: Any, db: str, selector: Any, fields: str | None, sort_: str | None, limit: int | None, page_size: int
) -> None:
    """Documents matching a Mango SELECTOR, as JSON Lines (paged, streamed).

    \b
    Example:
      wallaby-couchdb find mydb '{"type": "invoice", "total": {"$gt": 100}}' --fields _id,total
    """
    if not isinstance(selector, dict):
        fail("a selector is a JSON object", EXIT_USAGE)
    options: dict[str, Any] = {"page_size": page_size}
    if fields:
        options["fields"] = fields.split(",")
    if sort_:
        options["sort"] = sort_.split(",")
    out = Lines(flush_each=stdout_is_terminal())

    async def main(server: Server) -> None:
        count = 0
        async with server.database(db).find_all(selector, **options) as docs:
            async for doc in docs:
                out.write(doc)
                count += 1
                if limit is not None and count >= limit:
                    break

    run(obj.get(), main, db)
    out.flush()


@click.command(context_settings=CONTEXT)
@click.argument("db")
@click.argument("view")
@click.option("--key", type=JSON, help="Only rows with this key (JSON; a bare word is a string).")
@click.option("--start-key", type=JSON, help="Rows from this key on.")
@click.option("--end-key", type=JSON, help="Rows up to this key.")
@click.option("--limit", type=click.IntRange(min=0))
@click.option("--skip", type=click.IntRange(min=0))
@click.option("--descending", is_flag=True)
@click.option("--include-docs", is_flag=True, help="Each row with its document.")
@click.option("--reduce/--no-reduce", default=None, help="Run the view's reduce (default: CouchDB's).")
@click.option("--group", is_flag=True, help="Group reduced rows by key.")
@click.option("--group-level", type=click.IntRange(min=0))
@click.pass_obj
def view(obj: Any, /, db: str, view: str, **options: Any) -> None:
    """Rows of VIEW (ddoc/view, or _all_docs) of DB, as JSON Lines, streamed.

    \b
    Example:
      wallaby-couchdb view mydb app/by_date --start-key '"2026-01"' --limit 10
      wallaby-couchdb view mydb _all_docs --include-docs
    """
    renames = {"start_key": "startkey", "end_key": "endkey"}
    params = {renames.get(name, name): value for name, value in options.items() if value not in (None, False)}
    if options["reduce"] is False:
        params["reduce"] = False
    out = Lines(flush_each=stdout_is_terminal())

    async def main(server: Server) -> None:
        async with server.database(db).stream_view(view, **params) as rows:
            async for row in rows:
                out.write(row)

    run(obj.get(), main, db)
    out.flush()


COMMANDS = [info, dbs, create_db, delete_db, get, put, delete, find, view]
