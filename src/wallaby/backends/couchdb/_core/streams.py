"""Stream: anything of unbounded size, consumed as it arrives, the same in both flavours.

A Stream wraps an async generator that does the request and yields items
(rows, documents, bytes). Nothing is sent until iteration starts; only what
one item needs is held in memory; closing it (or leaving ``async with``)
closes the connection at once. Under Twisted, ``run``, ``to_list`` and
``close`` return Deferreds, and ``async for`` works inside coroutines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import InvalidType

if TYPE_CHECKING:
    from typing_extensions import Self

    from .runtime import Runtime

__all__ = ["Stream"]

T = TypeVar("T")


class Stream(Generic[T]):
    """An async iterator of items; ``meta`` holds the rest of CouchDB's answer.

    ``meta`` fills in as the answer is read: ``total_rows`` and ``offset`` of a
    view are there with the first row, members that follow the rows
    (``update_seq``, a ``_find`` ``bookmark``) once the last row is read.
    """

    meta: dict[str, Any]
    """The members of CouchDB's answer other than the streamed array, as they are read."""

    def __init__(self, runtime: Runtime, source: AsyncIterator[T], meta: dict[str, Any] | None = None) -> None:
        self._runtime = runtime
        self._source = source
        self.meta = {} if meta is None else meta

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        return await self._source.__anext__()

    async def run(self, callback: Callable[[T], Any]) -> None:
        """Call ``callback(item)`` for each item, awaiting what it returns (back-pressure)."""
        if not callable(callback):
            raise InvalidType("run() needs a callable")
        is_awaitable = self._runtime.is_awaitable
        async for item in self:
            result = callback(item)
            if is_awaitable(result):
                await result

    async def to_list(self) -> list[T]:
        """Every item in one list (for results you know are small)."""
        return [item async for item in self]

    async def close(self) -> None:
        """Stop reading and close the connection."""
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
