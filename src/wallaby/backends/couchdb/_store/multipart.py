"""A ``multipart/related`` body read as it arrives: pure code, no I/O.

Rules kept here:

- ``feed(bytes)`` returns the events the bytes complete: ``("headers",
  {name: value})`` when a part starts (names lowercased), ``("data",
  bytes)`` for its body as it comes, ``("end", None)`` when it ends, and
  ``("done", None)`` after the closing delimiter. Memory holds at most one
  delimiter's length of a part's body between two feeds.
- The delimiter is ``CRLF--boundary``; the first one may come without its
  CRLF (at the start of the body); a preamble before it and an epilogue
  after the closing ``--boundary--`` are ignored.
- ``boundary_of(content_type)`` reads the boundary parameter, quoted or not.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MultipartReader", "boundary_of"]

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_MAX_HEADERS = 64 * 1024


def boundary_of(content_type: str) -> str | None:
    match = _BOUNDARY.search(content_type)
    if match is None:
        return None
    return match.group(1) or match.group(2)


class MultipartReader:
    """Turns the bytes of a multipart body into part events."""

    def __init__(self, boundary: str) -> None:
        self._dash = b"--" + boundary.encode("latin-1")
        self._delimiter = b"\r\n" + self._dash
        self._buffer = bytearray()
        self._state = "preamble"

    def feed(self, data: bytes) -> list[tuple[str, Any]]:
        self._buffer += data
        events: list[tuple[str, Any]] = []
        while True:
            state = self._state
            buf = self._buffer
            if state == "preamble":
                at = buf.find(self._dash)
                if at < 0:
                    keep = len(self._dash) - 1
                    if len(buf) > keep:
                        del buf[: len(buf) - keep]
                    return events
                del buf[: at + len(self._dash)]
                self._state = "after"
            elif state == "after":
                if len(buf) < 2:
                    return events
                if buf[:2] == b"--":
                    self._state = "done"
                    events.append(("done", None))
                    buf.clear()
                    return events
                end = buf.find(b"\r\n")
                if end < 0:
                    return events
                del buf[: end + 2]  # transport padding, then CRLF
                self._state = "headers"
            elif state == "headers":
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if buf.startswith(b"\r\n"):  # a part with no headers
                        del buf[:2]
                        events.append(("headers", {}))
                        self._state = "body"
                        continue
                    if len(buf) > _MAX_HEADERS:
                        raise ValueError("multipart part headers too long")
                    return events
                headers = {}
                for line in bytes(buf[:end]).decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                del buf[: end + 4]
                events.append(("headers", headers))
                self._state = "body"
            elif state == "body":
                at = buf.find(self._delimiter)
                if at < 0:
                    safe = len(buf) - (len(self._delimiter) - 1)
                    if safe > 0:
                        events.append(("data", bytes(buf[:safe])))
                        del buf[:safe]
                    return events
                if at:
                    events.append(("data", bytes(buf[:at])))
                del buf[: at + len(self._delimiter)]
                events.append(("end", None))
                self._state = "after"
            else:  # done: the epilogue is ignored
                buf.clear()
                return events

    @property
    def done(self) -> bool:
        return self._state == "done"
