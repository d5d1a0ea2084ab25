"""Peak memory growth of a process streaming an attachment into a store and back out.

    python benchmarks/attachment_memory.py file:///some/dir BYTES   ->  prints the growth in bytes

Run in a fresh process by ``embedded.py`` (1 GB) and by the store's tests
(200 MB): the peak resident size (``VmHWM``) after a warm-up, then after the
attachment went in from an async generator and came out as a stream.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

from wallaby.backends.couchdb.aio import Server

CHUNK = 64 * 1024


def peak() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))


async def data(size: int) -> AsyncIterator[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    for _ in range(size // CHUNK):
        yield block


async def main(url: str, size: int) -> None:
    async with Server(url) as server:
        db = await server.create("big")
        await db.put_attachment({"_id": "warm"}, "w", b"w" * 1_000_000)
        await db.get_attachment("warm", "w")
        before = peak()
        doc = {"_id": "big"}
        await db.put_attachment(doc, "data.bin", data(size), length=size)
        seen = 0
        async for chunk in db.stream_attachment(doc, "data.bin"):
            seen += len(chunk)
        assert seen == size, seen
        print(peak() - before)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
