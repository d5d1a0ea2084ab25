"""JSON in and out, through orjson, in one place.

Rules kept here:

- A body of ``_BIG`` bytes (64 KiB) or more, a page of rows, is decoded
  with Python's cyclic garbage collector paused: every object decoding
  makes is new and reachable, yet their count triggers collection after
  collection that scan the heap (measured: 2.5x the time of the decode
  itself for 50,000 ``_all_docs`` rows, 2x for pages of 1,000 changes). It
  is switched on again at once, and left alone when something else has it off.
"""

from __future__ import annotations

import gc
from typing import Any

import orjson

from .errors import InvalidArgument

__all__ = ["JSON_TYPE", "JSONDecodeError", "JsonBody", "canonical", "dumps", "loads"]

JSON_TYPE = "application/json"
"""The ``Content-Type`` and ``Accept`` of a JSON body."""

JSONDecodeError = orjson.JSONDecodeError

_BIG = 1 << 16
_decode = orjson.loads


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode JSON (``JSONDecodeError`` when it is not)."""
    if type(data) is JsonBody:
        data = memoryview(data)  # orjson reads the exact bytes types only
    if len(data) < _BIG or not gc.isenabled():
        return _decode(data)
    gc.disable()
    try:
        return _decode(data)
    finally:
        gc.enable()


def dumps(value: Any) -> bytes:
    """Serialise ``value``; a value JSON cannot hold raises InvalidArgument."""
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise InvalidArgument(f"cannot be sent as JSON: {exc}") from None


class JsonBody(bytes):
    """JSON bytes that keep the value they encode, for a reader in this process (the embedded store).

    The bytes are made at once, as for any body (a value JSON cannot hold is
    refused here, and what is sent is the value as it was then). A request's
    value is the caller's: the store reads it instead of decoding the bytes
    again, and neither changes nor keeps it. An answer's is made for the
    caller alone (``_store/requests.own_json_reply``), who takes it as it is.
    """

    value: Any

    @classmethod
    def of(cls, value: Any) -> JsonBody:
        body = cls(dumps(value))
        body.value = value
        return body


def canonical(value: Any) -> bytes:
    """``value`` as JSON with every object's keys sorted: the same bytes for equal values (for hashing)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        raise InvalidArgument(f"cannot be sent as JSON: {exc}") from None
