"""JSON in and out, through orjson, in one place."""

from __future__ import annotations

from typing import Any

import orjson

from .errors import InvalidArgument

__all__ = ["JSON_TYPE", "JSONDecodeError", "canonical", "dumps", "loads"]

JSON_TYPE = "application/json"
"""The ``Content-Type`` and ``Accept`` of a JSON body."""

loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError


def dumps(value: Any) -> bytes:
    """Serialise ``value``; a value JSON cannot hold raises InvalidArgument."""
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise InvalidArgument(f"cannot be sent as JSON: {exc}") from None


def canonical(value: Any) -> bytes:
    """``value`` as JSON with every object's keys sorted: the same bytes for equal values (for hashing)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        raise InvalidArgument(f"cannot be sent as JSON: {exc}") from None
