"""A stream whose connection is cut mid-way ends with a typed NetworkError, never silently."""

from __future__ import annotations

import os

import pytest

from .proxy import FaultProxy
from .test_feed_faults import through

pytestmark = pytest.mark.server_only("a TCP proxy between the client and a server")


async def test_a_view_stream_cut_mid_way_raises_a_network_error(couch):
    db = await couch.fresh_db()
    for start in range(0, 6_000, 2_000):
        await db.save({"docs": [{"_id": f"row{n:06}", "pad": "x" * 1000} for n in range(start, start + 2_000)]})
    with FaultProxy.to(couch.url) as proxy:
        watched = couch.Database(db.name, url=through(couch.url, proxy))
        stream = watched.stream_all_docs(include_docs=True)
        first = await stream.__anext__()
        assert first["id"] == "row000000"
        proxy.reset()
        count = 1
        try:
            async for _row in stream:
                count += 1
        except couch.module.NetworkError as exc:  # TruncatedBody is one too
            assert exc.url and "_all_docs" in exc.url
        else:
            raise AssertionError(f"the stream ended quietly after {count} of 6000 rows")
        assert count < 6_000
        await watched.close()


async def test_an_attachment_stream_cut_mid_way_raises_a_network_error(couch):
    db = await couch.fresh_db()
    data = os.urandom(8_000_000)
    await db.put_attachment({"_id": "big"}, "big.bin", data)
    with FaultProxy.to(couch.url) as proxy:
        watched = couch.Database(db.name, url=through(couch.url, proxy))
        stream = watched.stream_attachment("big", "big.bin")
        received = len(await stream.__anext__())
        proxy.reset()
        try:
            async for chunk in stream:
                received += len(chunk)
        except couch.module.NetworkError:
            pass
        else:
            raise AssertionError(f"the attachment ended quietly after {received} of {len(data)} bytes")
        assert received < len(data)
        await watched.close()
