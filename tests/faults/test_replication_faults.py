"""Replication through cut connections, a killed process, and an attachment bigger than the memory it may use."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from replicas import fill, latest_revs, seq_number
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


@pytest.mark.parametrize("here", ["server", "store"])
async def test_a_continuous_replication_goes_on_through_cuts_and_a_server_away_for_a_while(couch, here):
    """Changes written on the server while the connection is cut every 200 ms, and while it is refused."""
    source, target = await couch.fresh_db("live-src"), await local_db(couch, here)
    events = []
    with FaultProxy.to(couch.url) as proxy:
        far = couch.Database(source.name, url=through(couch.url, proxy))
        replication = couch.module.Replication(
            far, target, continuous=True, batch_size=100, backoff=FOREVER, progress=events.append
        )
        async with replication:
            await fill(source, 500, size=100)
            with Chaos(proxy.cut, every=0.2) as chaos:
                for wave in range(10):  # changes coming while the connection is cut, for 2 s or so
                    await fill(source, 50, first=500 + 50 * wave, size=100)
                    await couch.sleep(0.2)
                await couch.wait_until(lambda: replication.result.docs_written == 1000, timeout=60)
            proxy.refuse()  # the server is away: its connections cut, new ones refused
            proxy.cut()
            await fill(source, 250, first=1000, size=100)  # a last page not full: see Replication on PouchDB Server
            await couch.sleep(1.0)
            assert replication.state in ("running", "idle")  # still on: it waits and tries again
            proxy.accept()
            await couch.wait_until(lambda: replication.result.docs_written == 1250, timeout=60)
            await couch.wait_until(lambda: replication.state == "idle", timeout=30)
        await far.close()
    assert chaos.times >= 3
    assert replication.state == "stopped" and replication.result.ok
    assert replication.result.doc_write_failures == 0
    assert await winners(target) == await winners(source)
    paused = [event for event in events if event.type == "paused" and event.error is not None]
    assert paused, "no lost connection was told"
    assert events[-1].type == "stopped"


@pytest.mark.couchdb_only  # PouchDB Server sends every attachment whatever atts_since says
async def test_an_attachment_the_target_has_is_not_sent_again(couch):
    source, target = await couch.fresh_db("atts-src"), await couch.fresh_db("atts-tgt")
    blob = base64.b64encode(os.urandom(1024 * 1024)).decode()
    # written on every copy: on a cluster the replication reads the source through any node
    doc = {"_id": "files", "_attachments": {"blob.bin": {"content_type": "application/octet-stream", "data": blob}}}
    await source.save(doc, **couch.all_copies)
    with FaultProxy.to(couch.url) as proxy:
        far = couch.Database(source.name, url=through(couch.url, proxy))
        await couch.module.replicate(far, target)
        first = proxy.bytes_forwarded
        edited = await source.get("files")
        edited["note"] = "the body changed, the attachment did not"
        await source.save(edited, **couch.all_copies)
        before = proxy.bytes_forwarded
        second = await couch.module.replicate(far, target)
        resent = proxy.bytes_forwarded - before
        await far.close()
    assert first > 1024 * 1024 and second.docs_written == 1
    assert resent < 64 * 1024, f"{resent} bytes went through for a changed body"
    copied = await target.get("files")
    assert copied["note"] == edited["note"]
    assert copied["_attachments"]["blob.bin"]["digest"] == edited["_attachments"]["blob.bin"]["digest"]


RUNNER = textwrap.dedent(
    """
    import asyncio, json, sys
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
    lines = []
    assert process.stdout is not None
    try:
        while sum(line.startswith("checkpoint") for line in lines) < 5:  # kill it in the middle of its work
            line = await _readline(couch, process)
            assert line, "the replication ended before it could be killed"
            lines.append(line)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    lines += process.stdout.read().splitlines()  # what it told before it died
    await couch.sleep(0.5)  # a _bulk_docs sent before the kill may still land
    had = (await target.info())["doc_count"]
    assert 0 < had < total
    result = await couch.module.replicate(source, target, batch_size=100, batches_in_flight=2)
    assert result.docs_read == total - had  # nothing the target had is fetched again
    assert (await target.info())["doc_count"] == total
    told = {
        kind: max(seq_number(line.split()[1]) for line in lines if line.startswith(kind))
        for kind in ("batch", "checkpoint")
    }
    start = seq_number(result.start_last_seq)
    assert start >= told["checkpoint"]  # from its last checkpoint
    # read once more: only the changes not yet checkpointed when it died, batches in flight included
    assert 0 <= had - start <= told["batch"] - told["checkpoint"] + 100 * 2


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
    import asyncio, json, sys
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
            counters = ("start_last_seq", "last_seq", "missing_checked", "docs_read", "docs_written",
                        "doc_write_failures", "errors")
            print(json.dumps({"before": before, "peak": peak, **{name: getattr(result, name) for name in counters}}))

    asyncio.run(main(*sys.argv[1:]))
    """
)


@pytest.mark.couchdb_only  # PouchDB Server holds attachments in its heap
@pytest.mark.time_limit(400)  # CouchDB writes the 256 MB twice at some 5 MB/s on the test machine
async def test_a_256_mb_attachment_is_streamed_through_in_bounded_memory(couch):
    # one copy on a cluster: what is measured is the replicator's memory, not a copy catching up with
    # 256 MB (until it has, a read through the balancer may find only the document's first revision)
    one_copy = {"n": 1} if couch.on_a_cluster else {}
    source, target = await couch.fresh_db("big-src", **one_copy), await couch.fresh_db("big-tgt", **one_copy)
    size = 256 * 1024 * 1024
    chunk = os.urandom(1024 * 1024)

    async def data():
        for _ in range(size // len(chunk)):
            yield chunk

    doc = {"_id": "big"}
    await source.save(doc)
    stored = await source.put_attachment(doc, "big.bin", data(), content_type="application/octet-stream", length=size)
    await couch.eventually(lambda: latest_revs(source), lambda revs: revs.get("big") == stored["rev"])
    output = await _run(couch, [sys.executable, "-c", MEMORY, couch.url, source.name, target.name])
    result = json.loads(output)
    before, peak = result.pop("before"), result.pop("peak")
    assert result["docs_written"] == 1, result
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
