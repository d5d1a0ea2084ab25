"""Argument checks shared by every endpoint: raised before any request is sent."""

from __future__ import annotations

from typing import Any

from ._errors import InvalidArgument, InvalidType

__all__ = ["as_list", "flag", "whole_number"]


def as_list(value: object, what: str) -> list[Any]:
    """A list or tuple, as a list."""
    if not isinstance(value, (list, tuple)):
        raise InvalidType(f"{what} must be a list, not {type(value).__name__}")
    return list(value)


def flag(value: object, name: str) -> bool:
    """A real bool (1 or "yes" are refused, not guessed)."""
    if not isinstance(value, bool):
        raise InvalidType(f"{name} must be True or False, not {value!r}")
    return value


def whole_number(value: object, name: str, least: int = 0) -> int:
    """An int (not a bool) of at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}")
    if value < least:
        raise InvalidArgument(f"{name} must be at least {least}, not {value}")
    return value
