"""JSON in and out, through orjson, in one place."""

from __future__ import annotations

from typing import Any

import orjson

from .errors import InvalidArgument

__all__ = ["JSON_TYPE", "JSONDecodeError", "dumps", "loads"]

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
