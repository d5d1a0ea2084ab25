"""The ``wallaby-couchdb`` command group: global options, and every command registered on it."""

from __future__ import annotations

import os

import click
from click.shell_completion import get_completion_class

from ._bench import COMMANDS as BENCH
from ._commands import COMMANDS as ONE_REQUEST
from ._dump import COMMANDS as DUMP_LOAD
from ._follow import COMMANDS as FOLLOW
from ._replicate import COMMANDS as REPLICATE
from ._session import Target

__all__ = ["cli", "main"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option(
    "-u",
    "--url",
    metavar="URL",
    help="The server (default: $COUCHDB_URL, else http://localhost:5984); credentials may be in it.",
)
@click.option("--user", envvar="COUCHDB_USER", metavar="NAME", help="Log in as NAME; the password is asked for.")
@click.version_option(package_name="wallaby-backend-couchdb", prog_name="wallaby-couchdb")
@click.pass_context
def cli(ctx: click.Context, url: str | None, user: str | None) -> None:
    """CouchDB from the shell: documents, queries, feeds, dumps, replication.

    The password comes from the URL, $COUCHDB_PASSWORD or a prompt (never
    echoed). Output is JSON: indented on a terminal, one line per value when
    piped. Exit codes: 0 done, 1 the request failed, 2 bad usage.

    \b
    Example:
      export COUCHDB_URL=http://admin:secret@localhost:5984
      wallaby-couchdb dbs
      wallaby-couchdb get mydb some-doc-id
    """
    ctx.obj = _LazyTarget(url, user)


class _LazyTarget:
    """The Target, made when a command first needs it (so --help never asks for a password)."""

    def __init__(self, url: str | None, user: str | None) -> None:
        self._args = (url, user)
        self._target: Target | None = None

    def explicit_url(self) -> str | None:
        """The URL given with --url (or $COUCHDB_URL), as given."""
        return self._args[0] or os.environ.get("COUCHDB_URL")

    def get(self) -> Target:
        if self._target is None:
            self._target = Target(self._args[0], self._args[1], None)
        return self._target


@cli.command(context_settings=CONTEXT)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Example (bash; add the line to ~/.bashrc):
      eval "$(wallaby-couchdb completion bash)"
    """
    complete = get_completion_class(shell)
    assert complete is not None
    click.echo(complete(cli, {}, "wallaby-couchdb", "_WALLABY_COUCHDB_COMPLETE").source())


for command in [*ONE_REQUEST, *FOLLOW, *DUMP_LOAD, *REPLICATE, *BENCH]:
    cli.add_command(command)


def main() -> None:
    cli(prog_name="wallaby-couchdb")
