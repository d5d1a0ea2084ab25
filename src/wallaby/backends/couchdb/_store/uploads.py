"""Attachment data arriving from the loop, written into the store a few chunks per transaction.

``Receiver(db, runtime, content_type)``: ``await feed(data)`` as the data
comes, ``await finish()`` for the ``writes.Upload`` a document write then
adopts, ``await discard()`` when the request fails before that. Memory
holds at most ``_BATCH`` chunks.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._core.runtime import Runtime
from .blobs import BlobUpload, delete
from .database import LocalDb, Txn
from .writes import Upload

__all__ = ["Receiver", "discard"]

_BATCH = 4


class Receiver:
    def __init__(self, db: LocalDb, runtime: Runtime, content_type: str) -> None:
        self.db = db
        self.runtime = runtime
        self.content_type = content_type
        self.blob = BlobUpload()
        self._pending: list[tuple[int, bytes]] = []

    async def _flush(self) -> None:
        chunks, self._pending = self._pending, []
        blob = self.blob
        await self.db.write(self.runtime, lambda txn: blob.write(txn.conn, chunks))

    async def feed(self, data: bytes) -> None:
        self._pending.extend(self.blob.take(data))
        if len(self._pending) >= _BATCH:
            await self._flush()

    async def finish(self) -> Upload:
        self._pending.extend(self.blob.rest())
        await self._flush()  # also makes the blob row of an empty attachment
        assert self.blob.num is not None
        return Upload(self.blob.num, self.blob.digest(), self.blob.length, self.content_type)


def _drop_unadopted(txn: Txn, nums: list[int]) -> None:
    for num in nums:
        if txn.conn.execute("SELECT refs FROM blobs WHERE num = ?", (num,)).fetchone() == (0,):
            delete(txn.conn, num)


async def discard(receivers: Iterable[Receiver]) -> None:
    """Delete the data of uploads no document adopted (the request failed)."""
    by_db: dict[int, tuple[Receiver, list[int]]] = {}
    for receiver in receivers:
        if receiver.blob.num is not None:
            by_db.setdefault(id(receiver.db), (receiver, []))[1].append(receiver.blob.num)
    for receiver, nums in by_db.values():
        try:
            await receiver.db.write(receiver.runtime, _drop_unadopted, nums)
        except Exception:
            pass  # the next open of the database drops them
