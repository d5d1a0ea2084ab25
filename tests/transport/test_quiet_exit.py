"""A program that never calls close() exits without a word: connections close when the loop or reactor stops.

Each program runs in a fresh interpreter that shows every warning (``-W
always``: an unclosed socket or transport is a ``ResourceWarning``, hidden by
default) and must print only what it prints itself.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

ASYNCIO = """
import asyncio, gc, sys
from wallaby.backends.couchdb.aio import Database, Server

async def main():
    db = Database("quiet-exit", url=sys.argv[1])          # never closed, as in code written for 0.1
    await db.server.info()
    dropped = Server(sys.argv[1])                        # dropped while the loop runs
    await dropped.info()
    del dropped
    gc.collect()
    busy = await db.server._client.send("GET", "/_all_dbs")  # an answer left unread
    await asyncio.sleep(0.05)
    print("done")

asyncio.run(main())
"""

TWISTED = """
import sys
loop = None
if sys.argv[2] == "asyncio":
    import asyncio
    from twisted.internet import asyncioreactor
    loop = asyncio.new_event_loop()
    asyncioreactor.install(loop)
from twisted.internet import defer, reactor
from wallaby.backends.couchdb import Database

@defer.inlineCallbacks
def main():
    try:
        db = Database("quiet-exit", url=sys.argv[1])      # the seed's way: never closed
        yield db.server.info()
        yield db.server._client.send("GET", "/_all_dbs")  # an answer left unread
        print("done")
    finally:
        reactor.stop()

reactor.callWhenRunning(main)
reactor.run()
if loop is not None:  # the program's own loop, which the reactor does not close
    loop.close()
"""


def _run(program: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", textwrap.dedent(program), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_asyncio_program_that_never_closes_exits_quietly(server_info):
    done = _run(ASYNCIO, server_info.url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")


@pytest.mark.parametrize("reactor", ["default", "asyncio"])
def test_a_twisted_program_that_never_closes_exits_quietly(server_info, reactor):
    done = _run(TWISTED, server_info.url, reactor)
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")
