"""A MIME multipart body (``multipart/mixed``, ``multipart/related``) read as it arrives: pure code, no I/O.

CouchDB answers ``GET /{db}/{docid}?open_revs=...`` with ``Accept:
multipart/mixed`` as a ``multipart/mixed`` body whose parts are either one
JSON document (``application/json``) or a ``multipart/related`` body: the
JSON document, then one part per attachment that follows it.

Rules kept here:

- ``feed(bytes)`` returns the events those bytes complete: ``("headers",
  {name: value})`` when a part starts (names lowercased), ``("data", bytes)``
  for its body as it comes, ``("end", None)`` when it ends, and ``("done",
  None)`` after the closing delimiter. A part's body is handed on as it
  arrives: memory holds at most one delimiter's length of it between feeds.
- The delimiter is ``CRLF--boundary``; the first may come without its CRLF
  (at the very start of the body); a preamble before it and an epilogue after
  the closing ``--boundary--`` are ignored.
- ``close()`` says whether the body was complete: a body cut before its
  closing delimiter raises ``TruncatedBody``.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ProtocolError, TruncatedBody

__all__ = ["MultipartReader", "boundary_of"]

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_MAX_HEADERS = 64 * 1024


def boundary_of(content_type: str | None) -> str | None:
    """The ``boundary`` parameter of a multipart Content-Type, quoted or not (None if there is none)."""
    if not content_type:
        return None
    match = _BOUNDARY.search(content_type)
    if match is None:
        return None
    return match.group(1) or match.group(2)


class MultipartReader:
    """Turns the bytes of one multipart body into part events (see the module's rules)."""

    __slots__ = ("_dash", "_delimiter", "_buffer", "_state")

    def __init__(self, boundary: str) -> None:
        self._dash = b"--" + boundary.encode("latin-1")
        self._delimiter = b"\r\n" + self._dash
        self._buffer = bytearray()
        self._state = "preamble"

    @property
    def done(self) -> bool:
        """Has the closing delimiter been read."""
        return self._state == "done"

    def close(self) -> None:
        """The body has ended: raise ``TruncatedBody`` unless its closing delimiter came."""
        if self._state != "done":
            raise TruncatedBody(f"a multipart body ended inside its {self._state}")

    def feed(self, data: bytes) -> list[tuple[str, Any]]:
        if self._state == "done":
            return []
        self._buffer += data
        events: list[tuple[str, Any]] = []
        buf = self._buffer
        while True:
            state = self._state
            if state == "body":
                at = buf.find(self._delimiter)
                if at < 0:
                    safe = len(buf) - len(self._delimiter) + 1
                    if safe > 0:
                        events.append(("data", bytes(buf[:safe])))
                        del buf[:safe]
                    return events
                if at:
                    events.append(("data", bytes(buf[:at])))
                del buf[: at + len(self._delimiter)]
                events.append(("end", None))
                self._state = "after"
            elif state == "after":  # just past a delimiter: "--" closes, else padding and CRLF
                if len(buf) < 2:
                    return events
                if buf[:2] == b"--":
                    buf.clear()
                    self._state = "done"
                    events.append(("done", None))
                    return events
                end = buf.find(b"\r\n")
                if end < 0:
                    return events
                del buf[: end + 2]
                self._state = "headers"
            elif state == "headers":
                if buf[:2] == b"\r\n":  # a part without headers
                    del buf[:2]
                    events.append(("headers", {}))
                    self._state = "body"
                    continue
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEADERS:
                        raise ProtocolError("the headers of a multipart part are over 64 KiB")
                    return events
                headers: dict[str, str] = {}
                for line in bytes(buf[:end]).decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                del buf[: end + 4]
                events.append(("headers", headers))
                self._state = "body"
            elif state == "preamble":
                at = buf.find(self._dash)
                if at < 0:
                    keep = len(self._dash) - 1
                    if len(buf) > keep:
                        del buf[: len(buf) - keep]
                    return events
                del buf[: at + len(self._dash)]
                self._state = "after"
            else:
                buf.clear()
                return events
