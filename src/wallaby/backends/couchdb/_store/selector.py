"""Mango selectors: checked and normalized, matched against documents (``mango_selector`` in CouchDB).

Rules kept here:

- Normalizing makes every condition ``{field: {op: arg}}`` with the field a
  dotted path: several members are an implicit ``$and``, a bare value is
  ``$eq``, ``{"a": {"b": 1}}`` is ``{"a.b": {"$eq": 1}}``; then ``$not`` and
  ``$nor`` are pushed down to the conditions (De Morgan; ``$lt`` becomes
  ``$gte``, ``$in`` ``$nin``, ``$exists`` its opposite).
- A bad argument is ``400 bad_arg`` "Bad argument for operator $op: ...",
  an unknown operator ``400 invalid_operator``, ``$where`` and the geo
  operators ``400 not_supported``, a condition with no field
  ``400 invalid_selector``.
- Comparisons use CouchDB's collation (``collate.compare``), except on
  ``_id``, which compares as Erlang terms (strings by bytes). There is no
  implicit matching of array elements: ``{"tags": "x"}`` does not match
  ``["x"]``; that is ``$elemMatch`` (or ``$all``, ``$in``).
- A missing field fails every condition but ``{"$exists": false}``. A path
  segment that is a whole number indexes into an array.
- ``$all`` and ``$size`` need an array; ``$mod`` an integer (the remainder
  takes the sign of the dividend, as Erlang's ``rem``); ``$regex`` and
  ``$beginsWith`` a string; ``$allMatch`` a non-empty array; ``$keyMapMatch``
  an object (it matches its keys). Empty ``$and``/``$or`` match everything,
  an empty ``$in`` nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson

from .collate import compare
from .js import JSError
from .reduce import erlang_term

__all__ = [
    "MangoError",
    "field_path",
    "get_field",
    "has_required_fields",
    "index_rows",
    "is_constant_field",
    "match",
    "normalize",
    "selector_fields",
]

_MISSING: Any = object()
_BAD_PATH: Any = object()


class MangoError(JSError):
    """An error CouchDB's Mango answers (status, error, reason)."""


def _bad_arg(op: str, arg: Any) -> MangoError:
    return MangoError(400, "bad_arg", f"Bad argument for operator {op}: {erlang_term(arg)}")


_COMPARISONS = ("$lt", "$lte", "$eq", "$ne", "$gte", "$gt")
_UNSUPPORTED = ("$where", "$geoWithin", "$geoIntersects", "$near", "$nearSphere")


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _norm_ops(selector: Any) -> Any:
    if isinstance(selector, dict) and len(selector) == 1:
        ((op, arg),) = selector.items()
        if op in ("$and", "$or", "$nor"):
            if not isinstance(arg, list):
                raise _bad_arg(op, arg)
            return {op: [_norm_ops(a) for a in arg]}
        if op == "$not":
            if not isinstance(arg, dict):
                raise _bad_arg(op, arg)
            return {op: _norm_ops(arg)}
        if op in ("$in", "$nin", "$all"):
            if not isinstance(arg, list):
                raise _bad_arg(op, arg)
            return selector
        if op == "$exists":
            if not isinstance(arg, bool):
                raise _bad_arg(op, arg)
            return selector
        if op == "$type":
            if not isinstance(arg, str):
                raise _bad_arg(op, arg)
            return selector
        if op == "$mod":
            if not (
                isinstance(arg, list)
                and len(arg) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in arg)
            ):
                raise _bad_arg(op, arg)
            return selector
        if op == "$regex":
            if not isinstance(arg, str) or _regex(arg) is None:
                raise _bad_arg(op, arg)
            return selector
        if op in ("$elemMatch", "$allMatch", "$keyMapMatch"):
            if not isinstance(arg, dict):
                raise _bad_arg(op, arg)
            return {op: _norm_ops(arg)}
        if op == "$size":
            if not (isinstance(arg, int) and not isinstance(arg, bool) and arg >= 0):
                raise _bad_arg(op, arg)
            return selector
        if op == "$beginsWith":
            if not isinstance(arg, str):
                raise _bad_arg(op, arg)
            return selector
        if op == "$text":
            raise MangoError(400, "invalid_operator", "Invalid operator: $text (text indexes need a search engine)")
        if op in _COMPARISONS:
            return selector
        if op in _UNSUPPORTED:
            raise MangoError(400, "not_supported", f"Unsupported operator: {op}")
        if op.startswith("$"):
            raise MangoError(400, "invalid_operator", f"Invalid operator: {op}")
        return {op: _norm_ops(arg)}
    if isinstance(selector, dict) and len(selector) > 1:
        return {"$and": [_norm_ops({k: v}) for k, v in selector.items()]}
    if isinstance(selector, dict):
        return selector  # {}
    return {"$eq": selector}


def _norm_fields(selector: Any, path: str | None = None) -> Any:
    if selector == {}:
        return {path: {}} if path is not None else {}
    ((op, arg),) = selector.items()
    if op in ("$and", "$or", "$nor"):
        return {op: [_norm_fields(a, path) for a in arg]}
    if op == "$not":
        return {op: _norm_fields(arg, path)}
    if op in ("$elemMatch", "$allMatch", "$keyMapMatch"):
        return {path if path is not None else "": {op: _norm_fields(arg)}}
    if op.startswith("$"):
        return {path if path is not None else "": selector}
    return _norm_fields(arg, op if path is None else f"{path}.{op}")


_NEGATED = {
    "$lt": "$gte",
    "$lte": "$gt",
    "$eq": "$ne",
    "$ne": "$eq",
    "$gte": "$lt",
    "$gt": "$lte",
    "$in": "$nin",
    "$nin": "$in",
}


def _norm_negations(selector: Any) -> Any:
    if not isinstance(selector, dict) or len(selector) != 1:
        return selector
    ((op, arg),) = selector.items()
    if op == "$not":
        return _negate(arg)
    if op == "$nor":
        return {"$and": [_negate(a) for a in arg]}
    if op in ("$and", "$or"):
        return {op: [_norm_negations(a) for a in arg]}
    if op in ("$elemMatch", "$allMatch", "$keyMapMatch"):
        return {op: _norm_negations(arg)}
    return selector


def _negate(selector: Any) -> Any:
    ((op, arg),) = selector.items()
    if op == "$not":
        return _norm_negations(arg)
    if op == "$nor":
        return {"$or": [_norm_negations(a) for a in arg]}
    if op == "$and":
        return {"$or": [_negate(a) for a in arg]}
    if op == "$or":
        return {"$and": [_negate(a) for a in arg]}
    if op in _NEGATED:
        return {_NEGATED[op]: arg}
    if op == "$exists":
        return {"$exists": not arg}
    if op.startswith("$"):
        return {"$not": selector}
    return {op: _negate(arg)}


def normalize(selector: Any) -> dict[str, Any]:
    """The normalized form of a selector, or ``MangoError`` (400) for a bad one."""
    if not isinstance(selector, dict):
        raise MangoError(400, "invalid_selector_json", f"Selector must be a JSON object, not: {erlang_term(selector)}")
    if not selector:
        return {}
    normal = _norm_negations(_norm_fields(_norm_ops(selector)))
    if "" in normal:
        raise MangoError(400, "invalid_selector", "One or more conditions is missing a field name.")
    return normal  # type: ignore[no-any-return]


# --- fields ------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def field_path(field: str) -> tuple[str, ...]:
    """A dotted field name as its segments (``a\\.b`` is one segment ``a.b``)."""
    parts, current, i = [], [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field) and field[i + 1] == ".":
            current.append(".")
            i += 2
            continue
        if c == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return tuple(parts)


def get_field(value: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``value``, ``_MISSING`` or ``_BAD_PATH``."""
    for name in path:
        if isinstance(value, dict):
            if name not in value:
                return _MISSING
            value = value[name]
        elif isinstance(value, list):
            if not name.isdigit():
                return _BAD_PATH
            pos = int(name)
            if pos >= len(value):
                return _BAD_PATH
            value = value[pos]
        else:
            return _BAD_PATH
    return value


def is_missing(value: Any) -> bool:
    return value is _MISSING or value is _BAD_PATH


# --- matching ----------------------------------------------------------------------------------

_ATOMS = {False: "false", None: "null", True: "true"}


def _raw_rank(v: Any) -> int:
    if isinstance(v, bool) or v is None:
        return 1
    if isinstance(v, (int, float)):
        return 0
    if isinstance(v, dict):
        return 2
    if isinstance(v, list):
        return 3
    return 4


def compare_raw(a: Any, b: Any) -> int:
    """Erlang's term order on CouchDB's terms for JSON (``mango_json:cmp_raw``), used on ``_id``."""
    ra, rb = _raw_rank(a), _raw_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 0:
        return int(a > b) - int(a < b)
    if ra == 1:
        na, nb = _ATOMS[a], _ATOMS[b]
        return int(na > nb) - int(na < nb)
    if ra == 4:
        ea, eb = a.encode(), b.encode()
        return int(ea > eb) - int(ea < eb)
    if ra == 3:
        for x, y in zip(a, b, strict=False):
            c = compare_raw(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    # objects are tuples of a proplist: compare the lists of {key, value} pairs
    return compare_raw([[k, v] for k, v in a.items()], [[k, v] for k, v in b.items()])


def same(a: Any, b: Any) -> bool:
    """Erlang's exact equality (``=:=``): 1 and 1.0 differ, true and 1 differ."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


def json_type(value: Any) -> str:
    return _TYPES.get(type(value), "object")


def _erlang_rem(value: int, divisor: int) -> int:
    r = abs(value) % abs(divisor)
    return -r if value < 0 else r


Cmp = Callable[[Any, Any], int]


def _match(selector: dict[str, Any], value: Any, cmp: Cmp) -> bool:
    if not selector:
        return True
    ((op, arg),) = selector.items()
    if op == "$and":
        return all(_match(s, value, cmp) for s in arg)
    if op == "$or":
        return not arg or any(_match(s, value, cmp) for s in arg)
    if op == "$not":
        return not _match(arg, value, cmp)
    if op == "$all":
        if not arg or not isinstance(value, list):
            return False
        has = all(any(same(a, v) for v in value) for a in arg)
        return has or (len(arg) == 1 and isinstance(arg[0], list) and same(arg[0], value))
    if op == "":
        return _match(arg, value, cmp)
    if op == "$elemMatch":
        return isinstance(value, list) and any(_match(arg, v, cmp) for v in value)
    if op == "$allMatch":
        return isinstance(value, list) and bool(value) and all(_match(arg, v, cmp) for v in value)
    if op == "$keyMapMatch":
        return isinstance(value, dict) and any(_match(arg, k, cmp) for k in value)
    if op == "$lt":
        return cmp(value, arg) < 0
    if op == "$lte":
        return cmp(value, arg) <= 0
    if op == "$eq":
        return cmp(value, arg) == 0
    if op == "$ne":
        return cmp(value, arg) != 0
    if op == "$gte":
        return cmp(value, arg) >= 0
    if op == "$gt":
        return cmp(value, arg) > 0
    if op == "$in":
        if isinstance(value, list):
            return any(cmp(v, a) == 0 for a in arg for v in value)
        return any(cmp(value, a) == 0 for a in arg)
    if op == "$nin":
        if isinstance(value, list):
            return not any(cmp(v, a) == 0 for a in arg for v in value)
        return all(cmp(value, a) != 0 for a in arg)
    if op == "$exists":
        return bool(arg)
    if op == "$type":
        return bool(arg == json_type(value))
    if op == "$mod":
        if not isinstance(value, int) or isinstance(value, bool) or arg[0] == 0:
            return False
        return bool(_erlang_rem(value, arg[0]) == arg[1])
    if op == "$beginsWith":
        return isinstance(value, str) and value.startswith(arg)
    if op == "$regex":
        pattern = _regex(arg)
        return isinstance(value, str) and pattern is not None and pattern.search(value) is not None
    if op == "$size":
        return isinstance(value, list) and len(value) == arg
    if op.startswith("$"):
        raise MangoError(400, "invalid_operator", f"Invalid operator: {op}")
    found = get_field(value, field_path(op))
    if found is _MISSING or found is _BAD_PATH:
        return found is _MISSING and arg == {"$exists": False}
    return _match(arg, found, compare_raw if op == "_id" else cmp)


def match(selector: dict[str, Any], doc: Any) -> bool:
    """Does the document (a JSON object) match the normalized selector?"""
    return _match(selector, doc, compare)


def index_rows(mapping: dict[str, Any], doc: dict[str, Any]) -> list[list[Any]]:
    """The rows a json index keeps for ``doc``: ``[[fields' values], null]``, or none when a field is missing."""
    partial = mapping.get("__normal")
    if partial is None and mapping.get("partial_filter_selector"):
        partial = mapping["__normal"] = normalize(mapping["partial_filter_selector"])
    values = []
    for field in mapping["fields"]:
        value = get_field(doc, field_path(field))
        if value is _MISSING or value is _BAD_PATH:
            return []
        values.append(value)
    if partial and not match(partial, doc):
        return []
    return [[values, None]]


# --- what an index needs ----------------------------------------------------------------------------


def has_required_fields(selector: dict[str, Any], required: list[str]) -> bool:
    """Does every document the selector matches have each of ``required``? (``$exists: false`` does not.)"""
    return not _remainder([selector] if selector else [], list(required))


def _remainder(selectors: list[Any], required: list[str]) -> list[str]:
    for selector in selectors:
        if not required:
            return []
        if not selector:
            continue
        ((op, arg),) = selector.items()
        if op == "$and" and isinstance(arg, list):
            required = _remainder(arg, required)
        elif op == "$or" and isinstance(arg, list):
            left: set[str] = set()
            for child in arg:
                left |= set(_remainder([child], required))
            required = sorted(left)
        elif op.startswith("$"):
            continue
        elif arg != {"$exists": False}:
            required = [f for f in required if f != op]
    return required


def is_constant_field(selector: dict[str, Any], field: str) -> bool:
    """Is ``field`` held to one value (``$eq``) by the selector, through ``$and``?"""
    if not selector:
        return False
    ((op, arg),) = selector.items()
    if op == "$and":
        return any(is_constant_field(a, field) for a in arg)
    return op == field and isinstance(arg, dict) and next(iter(arg), None) == "$eq"


def selector_fields(selector: dict[str, Any]) -> list[str]:
    """The fields the selector names at its top (through ``$and``/``$or``...), for ``_explain``."""
    if not selector:
        return []
    ((op, arg),) = selector.items()
    if op.startswith("$") and isinstance(arg, list):
        return [f for a in arg for f in selector_fields(a)]
    return [op]


def canonical(selector: Any) -> bytes:
    return orjson.dumps(selector)
