"""Replication through cut connections, a killed process, and an attachment bigger than the memory it may use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from replicas import fill, seq_number
from wallaby.backends.couchdb import Backoff

from .proxy import FaultProxy
from .test_feed_faults import Chaos, through

pytestmark = pytest.mark.server_only("a TCP proxy, and a child process, between the client and a server")

FOREVER = Backoff(first=0.02, cap=0.3)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def local_db(couch, here):
    if here == "server":
        return await couch.fresh_db("cut")
    db = couch.Database(couch.db_name("cut"), url=f"memory://{couch.db_name('faults')}")
    await db.create()
    couch._dbs.append(db)
    return db


async def winners(db) -> dict[str, str]:
    return {row["id"]: row["value"]["rev"] for row in await db.view("_all_docs")}


@pytest.mark.parametrize("here", ["server", "store"])
@pytest.mark.parametrize("side", ["pull", "push"])
async def test_a_connection_cut_every_few_hundred_ms_loses_nothing(couch, side, here):
    """10,000 documents pulled from (pushed to) the server through cuts, into (from) a database here.

    Here is another database of the server, or an embedded store in memory.
    """
    local = await local_db(couch, here)
    source, target = (
        (await couch.fresh_db("cut-src"), local) if side == "pull" else (local, await couch.fresh_db("cut-tgt"))
    )
    await fill(source, 10_000, size=100)
    with FaultProxy.to(couch.url) as proxy:
        far = couch.Database(source.name if side == "pull" else target.name, url=through(couch.url, proxy))
        ends = (far, target) if side == "pull" else (source, far)
        batches = 0

        def cut_now_and_then(event) -> None:  # also by progress: a fast replication outruns the clock
            nonlocal batches
            if event.type == "batch":
                batches += 1
                if batches % 8 == 0 and proxy.cut():
                    chaos.times += 1

        with Chaos(proxy.cut, every=0.2) as chaos:
            result = await couch.module.replicate(*ends, batch_size=250, backoff=FOREVER, progress=cut_now_and_then)
        await far.close()
    assert chaos.times >= 3, "the replication ended before the proxy could cut it a few times"
    assert result.ok and result.doc_write_failures == 0
    assert await winners(target) == await winners(source)
    assert seq_number(result.last_seq) == seq_number((await source.info())["update_seq"])


RUNNER = textwrap.dedent(
    """
    import asyncio, sys
    from wallaby.backends.couchdb.aio import Database, Replication

    async def main(url, source, target):
        async with Database(source, url=url) as src, Database(target, url=url) as tgt:
            replication = Replication(src, tgt, batch_size=100, batches_in_flight=2,
                                      progress=lambda e: print(e.type, e.last_seq, flush=True))
            await replication.wait()

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_killed_mid_way_a_replication_resumes_from_its_checkpoint(couch):
    source, target = await couch.fresh_db("kill-src"), await couch.fresh_db("kill-tgt")
    total = 6000
    await fill(source, total, size=100)
    process = _child(RUNNER, couch.url, source.name, target.name)
    checkpoints = 0
    assert process.stdout is not None
    try:
        while checkpoints < 5:  # it has written a few checkpoints: kill it in the middle of its work
            line = await _readline(couch, process)
            assert line, "the replication ended before it could be killed"
            checkpoints += line.startswith("checkpoint")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    await couch.sleep(0.5)  # a _bulk_docs sent before the kill may still land
    had = (await target.info())["doc_count"]
    assert 0 < had < total
    result = await couch.module.replicate(source, target, batch_size=100, batches_in_flight=2)
    assert result.docs_read == total - had  # nothing the target had is fetched again
    assert (await target.info())["doc_count"] == total
    read_again = had - seq_number(result.start_last_seq)  # changes before the kill read once more
    assert 0 <= read_again <= 100 * 3  # the batches in flight and one checkpoint write


def _child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT)


async def _readline(couch, process) -> str:
    """A line of the child's output, read without stopping the loop."""
    if couch.twisted:
        from twisted.internet import threads

        return await threads.deferToThread(process.stdout.readline)
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, process.stdout.readline)


MEMORY = textwrap.dedent(
    """
    import asyncio, sys
    from wallaby.backends.couchdb.aio import Database, replicate

    def resident():
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status)
        return int(fields["VmHWM"].split()[0]) * 1024, int(fields["VmRSS"].split()[0]) * 1024

    async def main(url, source, target):
        async with Database(source, url=url) as src, Database(target, url=url) as tgt:
            await tgt.info()
            await src.info()
            before = resident()[1]
            result = await replicate(src, tgt)
            peak = resident()[0]
            print(result.docs_written, before, peak, flush=True)

    asyncio.run(main(*sys.argv[1:]))
    """
)


@pytest.mark.couchdb_only  # PouchDB Server holds attachments in its heap
@pytest.mark.time_limit(400)  # CouchDB writes the 256 MB twice at some 5 MB/s on the test machine
async def test_a_256_mb_attachment_is_streamed_through_in_bounded_memory(couch):
    source, target = await couch.fresh_db("big-src"), await couch.fresh_db("big-tgt")
    size = 256 * 1024 * 1024
    chunk = os.urandom(1024 * 1024)

    async def data():
        for _ in range(size // len(chunk)):
            yield chunk

    doc = {"_id": "big"}
    await source.save(doc)
    await source.put_attachment(doc, "big.bin", data(), content_type="application/octet-stream", length=size)
    output = await _run(couch, [sys.executable, "-c", MEMORY, couch.url, source.name, target.name])
    written, before, peak = (int(field) for field in output.split())
    assert written == 1
    assert peak - before < 64 * 1024 * 1024, f"grew by {(peak - before) / 2**20:.0f} MiB"
    copied = (await target.get("big"))["_attachments"]["big.bin"]
    assert copied["length"] == size
    assert copied["digest"] == (await source.get("big"))["_attachments"]["big.bin"]["digest"]


async def _run(couch, command) -> str:
    def run() -> str:
        return subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT, timeout=300).stdout

    if couch.twisted:
        from twisted.internet import threads

        return await threads.deferToThread(run)
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, run)
