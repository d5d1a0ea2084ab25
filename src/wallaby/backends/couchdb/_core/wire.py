"""Pure parsers for what CouchDB streams: no loop, no I/O.

``LineSplitter`` turns the chunks of a continuous feed into complete lines.
A line may arrive in many chunks and a chunk may hold many lines; heartbeats
are empty lines and are dropped. Memory is bounded by the longest line.

``RowParser`` turns the chunks of a JSON object with one big array member
(``{"total_rows":N,"rows":[...]}``, ``{"docs":[...],"bookmark":...}``) into the
array's elements as soon as each is complete, and the other members into
``meta``. Memory is bounded by the largest element. Rules it keeps:

- A raw newline never occurs inside a JSON string, so when CouchDB frames one
  element per line (it does for rows), a line that decodes is one whole
  element: the fast path, one ``loads`` per row.
- Otherwise (PouchDB Server sends one long line) it scans tokens: whole
  strings are skipped by one regex match, braces and brackets counted; a
  string cut by a chunk boundary waits for the next chunk.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import CouchDBError, TruncatedBody
from .json import JSONDecodeError, loads

__all__ = ["LineSplitter", "RowParser"]


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


# A whole string, or one structural character; a lone '"' is a string cut short.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|["{}\[\]]')
_SPACE = b" \t\r\n,"
_HEAD, _ARRAY, _TAIL = 0, 1, 2


class RowParser:
    __slots__ = ("_member", "_buf", "_pos", "_state", "_depth", "_start", "_last_key", "_not_a_row", "meta")

    def __init__(self, member: str = "rows") -> None:
        self._member = b'"' + member.encode() + b'"'
        self._buf = bytearray()
        self._pos = 0  # where scanning resumes
        self._state = _HEAD
        self._depth = 0
        self._start = -1  # where the element being scanned began
        self._last_key = -1  # end of the last string at depth 1 (head only)
        self._not_a_row = -1  # a newline whose line did not decode as one row
        self.meta: dict[str, Any] = {}

    def feed(self, data: bytes) -> list[Any]:
        """The elements that ``data`` completes."""
        self._buf += data
        rows: list[Any] = []
        if self._state == _HEAD:
            self._scan_head()
        if self._state == _ARRAY:
            self._scan_array(rows)
        self._compact()
        return rows

    def close(self) -> dict[str, Any]:
        """Check the body is complete; return the members other than the array."""
        if self._state != _TAIL:
            raise TruncatedBody("the response ended in the middle of its JSON")
        tail = bytes(self._buf[self._pos :]).strip()
        if not tail.endswith(b"}"):
            raise TruncatedBody("the response ended in the middle of its JSON")
        try:
            extra = loads(b'{"_":0' + tail)
        except JSONDecodeError as exc:
            raise TruncatedBody(f"the end of the response is not JSON: {exc}") from None
        del extra["_"]
        self.meta.update(extra)
        return self.meta

    def _compact(self) -> None:
        # called between scans only: a bytearray can't be resized while a match refers to it
        if self._state == _HEAD:  # the head is small, and parsed whole
            return
        keep = self._start if self._start >= 0 else self._pos
        if keep > 65536 or keep == len(self._buf):
            del self._buf[:keep]
            self._pos -= keep
            self._not_a_row = max(-1, self._not_a_row - keep)
            if self._start >= 0:
                self._start -= keep

    def _scan_head(self) -> None:
        buf = self._buf
        for match in _TOKEN.finditer(buf, self._pos):
            token = match.group()
            if token == b'"':
                self._pos = match.start()
                return
            char = token[0]
            if char == 0x22:  # a string
                if self._depth == 1:
                    self._last_key = match.end() if token == self._member else -1
                continue
            if char in b"{[":
                self._depth += 1
                if char == 0x5B and self._depth == 2 and self._last_key >= 0:
                    if bytes(buf[self._last_key : match.start()]).strip() == b":":
                        head = bytes(buf[: self._last_key - len(self._member)]).rstrip().rstrip(b",")
                        try:
                            self.meta.update(loads(head + b"}"))
                        except JSONDecodeError as exc:
                            raise CouchDBError(f"unexpected response head: {exc}") from None
                        self._state = _ARRAY
                        self._pos = match.end()
                        self._last_key = -1
                        return
            else:
                self._depth -= 1
                if self._depth == 0:
                    raise CouchDBError(f"the response has no {self._member.decode()} array")
        self._pos = len(buf)

    def _scan_array(self, rows: list[Any]) -> None:
        buf = self._buf
        end = len(buf)
        pos = self._pos
        while True:
            if self._start < 0:
                # between elements: skip separators, then try the one-line fast path
                while pos < end and buf[pos] in _SPACE:
                    pos += 1
                if pos == end:
                    break
                if buf[pos] == 0x5D:  # the array's ']'; what follows is the tail
                    self._state = _TAIL
                    self._pos = pos + 1
                    return
                newline = buf.find(b"\n", pos)
                if newline >= 0 and newline > self._not_a_row:
                    line = bytes(buf[pos:newline]).rstrip(b" \t\r,")
                    if line[:1] == b"{" and line[-1:] == b"}":
                        try:
                            rows.append(loads(line))
                            pos = newline + 1
                            continue
                        except JSONDecodeError:
                            pass
                    self._not_a_row = newline  # this line holds more than a row: don't retry it
                if buf[pos] == 0x7B:
                    # no framing: guess the element ends at the next '},{' (or '}]');
                    # a guess that decodes is right, as its braces balance outside strings
                    close = buf.find(b"},{", pos)
                    if close < 0:
                        close = buf.find(b"}]", pos)
                    if close > 0:
                        try:
                            rows.append(loads(bytes(buf[pos : close + 1])))
                            pos = close + 1
                            continue
                        except JSONDecodeError:
                            pass
                self._start = pos
                self._depth = 2
            # inside an element: count brackets until it closes
            for match in _TOKEN.finditer(buf, pos):
                token = match.group()
                if token == b'"':
                    pos = match.start()
                    break
                char = token[0]
                if char == 0x22:
                    if self._depth == 2:  # a string element
                        rows.append(loads(token))
                        self._start = -1
                        pos = match.end()
                        break
                    continue
                if char in b"{[":
                    self._depth += 1
                    continue
                self._depth -= 1
                if self._depth == 2:
                    rows.append(loads(bytes(buf[self._start : match.end()])))
                    self._start = -1
                    pos = match.end()
                    break
                if self._depth < 2:
                    raise CouchDBError("unexpected ']' in the rows of a response")
            else:
                pos = end
            if self._start >= 0:  # the element goes on in the next chunk
                break
        self._pos = pos
