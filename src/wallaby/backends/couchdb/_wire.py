"""Pure parsers for what CouchDB streams: no loop, no I/O.

``LineSplitter`` turns the chunks of a continuous feed into complete lines.
A line may arrive in many chunks and a chunk may hold many lines; heartbeats
are empty lines and are dropped. Memory is bounded by the longest line.
"""

from __future__ import annotations

__all__ = ["LineSplitter"]


class LineSplitter:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[bytes] = []

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that ``data`` completes, heartbeats left out."""
        if b"\n" not in data:
            if data:
                self._pending.append(data)
            return []
        if self._pending:
            self._pending.append(data)
            data = b"".join(self._pending)
            self._pending.clear()
        *lines, rest = data.split(b"\n")
        if rest:
            self._pending.append(rest)
        return [line for line in lines if line.strip()]

    @property
    def pending(self) -> bytes:
        """Bytes of an unfinished line (what a cut connection left behind)."""
        return b"".join(self._pending)
