"""Where the command line meets the library: the server it talks to, and how a failure ends it.

Rules kept here:

- The server URL comes from ``--url``, else ``COUCHDB_URL``, else
  ``http://localhost:5984``. Credentials come from the URL's userinfo, from
  ``--user`` (and ``COUCHDB_USER``) with ``COUCHDB_PASSWORD`` or a password
  prompt, or, when the server answers 401 and standard input is a terminal,
  from prompts for both. A password is read without echo and never printed:
  every URL shown has its credentials removed.
- Exit codes: 0 done, 1 the request failed (CouchDB said no, or could not be
  reached), 2 bad usage (click's own code for a bad option, and ours for bad
  input the library refuses before sending). Every failure is one line on
  standard error, never a traceback.
- Ctrl-C (and SIGTERM) cancels the running command at the point it waits, so
  its ``finally`` blocks run and its connections close; the command decides
  what being stopped means (``follow`` ends normally, ``dump`` and ``load``
  say how to resume and exit 130).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import click

from ..aio import (
    CouchDBError,
    InvalidArgument,
    NetworkError,
    NotFound,
    Server,
    TLSError,
    Unauthorized,
)

__all__ = ["Interrupted", "Target", "fail", "run"]

T = TypeVar("T")

DEFAULT_URL = "http://localhost:5984"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped the command."""


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """One line on standard error, then exit with ``code``."""
    click.echo(f"wallaby-couchdb: {message}", err=True)
    sys.exit(code)


class Target:
    """The server the command talks to: its URL and how to authenticate there."""

    def __init__(self, url: str | None, user: str | None, password: str | None) -> None:
        self.user = user
        self.password = password
        self.base, url_user, url_password = _without_credentials(url or os.environ.get("COUCHDB_URL") or DEFAULT_URL)
        if self.user is None and url_user is not None:
            self.user, self.password = url_user, url_password if password is None else password
        if self.user is not None and self.password is None:
            self.password = os.environ.get("COUCHDB_PASSWORD")
            if self.password is None:
                self.password = _prompt_password(self.user)

    def server(self) -> Server:
        return Server(self.base, self.user, self.password)

    def ask_credentials(self) -> bool:
        """After a 401 without credentials on a terminal: ask for them; False if we cannot."""
        if self.user is not None or not sys.stdin.isatty():
            return False
        self.user = click.prompt(f"User for {self.base}", err=True)
        self.password = _prompt_password(self.user)
        return True


def _without_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``http://u:p@host/`` -> (``http://host``, ``u``, ``p``); a URL of another scheme is left to the library."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.username is None:
        return url, None, None
    netloc = parts.netloc.rpartition("@")[2]
    password = unquote(parts.password) if parts.password is not None else None
    return (
        urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
        unquote(parts.username),
        password,
    )


def _prompt_password(user: str) -> str:
    if not sys.stdin.isatty():
        fail(f"no password for {user!r}: put it in the URL or COUCHDB_PASSWORD", EXIT_USAGE)
    password: str = click.prompt(f"Password for {user}", hide_input=True, err=True)
    return password


def describe(exc: BaseException, target: Target, db: str | None = None) -> str:
    """The one line that says what went wrong."""
    if (
        isinstance(exc, NotFound)
        and db is not None
        and (exc.reason or "").lower().startswith(("database does not exist", "no_db_file"))
    ):
        return f"database {db!r} does not exist on {target.base} ({exc})"
    if isinstance(exc, Unauthorized):
        who = f"as {target.user!r}" if target.user else "without credentials"
        return f"not authorized {who} on {target.base}: {exc.reason or exc.error} (check the user and password)"
    if isinstance(exc, TLSError):
        return f"TLS failed with {target.base}: {exc.reason}"
    if isinstance(exc, NetworkError):
        return f"cannot reach {target.base}: {exc.reason or type(exc).__name__}"
    return str(exc) or type(exc).__name__


def run(target: Target, main: Callable[[Server], Awaitable[T]], db: str | None = None) -> T:
    """Run ``main(server)`` on a new event loop; a failure becomes one line on stderr and an exit code.

    A 401 without credentials on a terminal asks for them and runs ``main`` once more.
    """
    while True:
        try:
            return asyncio.run(_guarded(target, main))
        except Unauthorized as exc:
            if target.ask_credentials():
                continue
            fail(describe(exc, target, db))
        except Interrupted:
            raise
        except InvalidArgument as exc:
            fail(str(exc), EXIT_USAGE)
        except CouchDBError as exc:  # CouchDB said no, or could not be reached
            fail(describe(exc, target, db))
        except OSError as exc:  # a file the command reads or writes
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))


async def _guarded(target: Target, main: Callable[[Server], Awaitable[T]]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopped: list[int] = []

    def stop(signum: int) -> None:
        stopped.append(signum)
        task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    server = target.server()  # an unusable URL raises InvalidArgument here
    try:
        async with server:
            return await main(server)
    except asyncio.CancelledError:
        if stopped:
            raise Interrupted from None
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
