"""Running ``wallaby-couchdb`` as a user does: a subprocess, on a pipe or on a terminal (pexpect)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

COMMAND = str(Path(sys.executable).with_name("wallaby-couchdb"))


def env_for(url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUCHDB_")}
    if url is not None:
        env["COUCHDB_URL"] = url
    env.update(extra)
    return env


def couchdb(url: str | None, *args: str, input: bytes | None = None, timeout: float = 60, **env: str) -> Any:
    """Run the command on a pipe; the CompletedProcess (stdout and stderr as text)."""
    return subprocess.run(
        [COMMAND, *args],
        env=env_for(url, **env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def text(output: bytes) -> str:
    return output.decode("utf-8", "replace")


def with_db(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """``work(server)`` with the asyncio flavour, from a plain (sync) test."""
    from wallaby.backends.couchdb.aio import Server

    async def main() -> Any:
        async with Server(url) as server:
            return await work(server)

    return asyncio.run(main())
