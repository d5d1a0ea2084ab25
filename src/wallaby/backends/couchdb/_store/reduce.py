"""Reduce functions: CouchDB's built-in ones in Python, JavaScript ones through the sandbox.

Rules kept here (``couch_query_servers`` in CouchDB):

- A built-in is named by its prefix: ``_sum``, ``_count``, ``_stats``,
  ``_approx_count_distinct``, ``_first``, ``_last``, ``_top_N`` and
  ``_bottom_N`` (1 <= N <= 100); any other name starting with ``_`` is
  refused when the design document is saved (``invalid_design_doc``).
- ``_sum`` adds numbers, arrays of numbers (element by element, the longer
  tail kept) and objects (member by member, the result's members sorted by
  name). A value it cannot add makes the result an error object,
  ``{"error": "builtin_reduce_error", "reason": ..., "caused_by": value}``,
  not a failed query.
- ``_stats`` gives ``{"sum", "count", "min", "max", "sumsqr"}`` (a list of
  them for arrays); a value that is not a number is a failed query,
  ``invalid_value``.
- ``_approx_count_distinct`` counts distinct keys with a HyperLogLog of
  precision 11, as CouchDB does; small counts are exact, large ones
  approximate (and not the same approximation as CouchDB's: the hash differs).
- A JavaScript reduce runs on chunks of rows (``rereduce=false``), then on
  the chunks' results (``rereduce=true``). A result that does not shrink
  (over 4096 bytes and more than half its input) becomes
  ``{"reduce_overflow_error": message}``, CouchDB's ``reduce_limit``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .collate import sort_key
from .js import JSError, Sandbox

__all__ = ["Row", "check_reduce", "erlang_term", "is_builtin", "reduce_rows", "ReduceError", "CHUNK"]

Row = tuple[Any, str, Any]  # key, doc id, value
CHUNK = 200  # rows per first-level JavaScript reduce call
MAX_RANK = 100

SUM_ERROR = (
    "The _sum function requires that map values be numbers, "
    "arrays of numbers, or objects. Objects cannot be mixed with other "
    "data structures. Objects can be arbitrarily nested, provided that the values "
    "for all fields are themselves numbers, arrays of numbers, or objects."
)


class ReduceError(JSError):
    """A reduce CouchDB fails the query for (``invalid_value``, ``invalid_design_doc``)."""


_BUILTINS = ("_sum", "_count", "_stats", "_approx_count_distinct", "_first", "_last")


def is_builtin(source: str) -> bool:
    return source.startswith("_")


def check_reduce(source: str) -> None:
    """Refuse an unknown built-in or a bad rank, as saving the design document does in CouchDB."""
    if not source.startswith("_"):
        return
    if source.startswith(_BUILTINS):
        return
    for prefix in ("_top_", "_bottom_"):
        if source.startswith(prefix):
            _rank(source[len(prefix) :])
            return
    raise ReduceError(400, "invalid_design_doc", f"`{source}` is not a supported reduce function.")


def _rank(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ReduceError(400, "invalid_design_doc", "invalid rank reducer") from None
    if not 1 <= n <= MAX_RANK:
        raise ReduceError(400, "invalid_design_doc", f"rank value must be between 1 and {MAX_RANK}")
    return n


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# --- _sum ----------------------------------------------------------------------


class _SumError(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result


def _sum_error(cause: Any) -> _SumError:
    return _SumError({"error": "builtin_reduce_error", "reason": SUM_ERROR, "caused_by": cause})


def _sum_arrays(xs: list[Any], ys: list[Any]) -> list[Any]:
    out: list[Any] = []
    for i in range(max(len(xs), len(ys))):
        if i >= len(xs):
            return out + ys[i:]
        if i >= len(ys):
            return out + xs[i:]
        x, y = xs[i], ys[i]
        if not (_is_number(x) and _is_number(y)):
            raise _sum_error(xs[i:])
        out.append(x + y)
    return out


def _sum_objects(new: dict[str, Any], acc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(set(new) | set(acc), key=lambda n: n.encode()):
        if name in new and name in acc:
            out[name] = _sum_values(new[name], acc[name])
        else:
            out[name] = new[name] if name in new else acc[name]
    return out


def _sum_values(value: Any, acc: Any) -> Any:
    if _is_number(value) and _is_number(acc):
        return acc + value
    if isinstance(value, list) and isinstance(acc, list):
        return _sum_arrays(acc, value)
    if _is_number(value) and isinstance(acc, list):
        return _sum_arrays(acc, [value])
    if isinstance(value, list) and _is_number(acc):
        return _sum_arrays([acc], value)
    if isinstance(value, dict):
        if value.get("error") == "builtin_reduce_error":
            raise _SumError(value)
        if type(acc) is int and acc == 0:
            return _sum_objects(value, {})
        if isinstance(acc, dict):
            return _sum_objects(value, acc)
    raise _sum_error(value)


def _sum(values: Sequence[Any]) -> Any:
    acc: Any = 0
    try:
        for value in values:
            acc = _sum_values(value, acc)
    except _SumError as exc:
        return exc.result
    return acc


# --- _stats --------------------------------------------------------------------

_Stats = tuple[Any, Any, Any, Any, Any]


def erlang_term(value: Any) -> str:
    """A JSON value as Erlang's ``~w`` prints CouchDB's term for it (for error messages)."""
    if value is None or value is True or value is False:
        return "null" if value is None else str(value).lower()
    if isinstance(value, str):
        return "<<" + ",".join(str(b) for b in value.encode()) + ">>"
    if isinstance(value, list):
        return "[" + ",".join(erlang_term(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{[" + ",".join("{" + erlang_term(k) + "," + erlang_term(v) + "}" for k, v in value.items()) + "]}"
    return orjson.dumps(value).decode()


def _stats_error(message: str) -> ReduceError:
    return ReduceError(500, "invalid_value", message)


def _unpack(props: dict[str, Any]) -> _Stats:
    out = []
    for name in ("sum", "count", "min", "max", "sumsqr"):
        if name not in props:
            raise _stats_error(f"user _stats input missing required field {name} ({erlang_term(props)})")
        if not _is_number(props[name]):
            raise _stats_error(f"non-numeric _stats input received for {name}: {erlang_term(props[name])}")
        out.append(props[name])
    return out[0], out[1], out[2], out[3], out[4]


def _initial(value: Any) -> Any:
    if isinstance(value, list):
        return [_initial(v) for v in value]
    if _is_number(value):
        return (value, 1, value, value, value * value)
    if isinstance(value, tuple):
        return value
    if isinstance(value, dict):
        return _unpack(value)
    raise _stats_error(f"non-numeric _stats input: {erlang_term(value)}")


def _stat_values(value: Any, acc: Any) -> Any:
    if isinstance(value, list) and isinstance(acc, list):
        if len(value) != len(acc):
            raise _stats_error("The _stats function requires that map values be numbers or arrays of numbers")
        return [_stat_values(v, a) for v, a in zip(value, acc, strict=True)]
    if isinstance(value, dict):
        return _stat_values(_unpack(value), acc)
    if _is_number(value):
        return _stat_values((value, 1, value, value, value * value), acc)
    if _is_number(acc):
        return _stat_values(value, (acc, 1, acc, acc, acc * acc))
    if isinstance(value, tuple) and isinstance(acc, tuple):
        return (value[0] + acc[0], value[1] + acc[1], min(value[2], acc[2]), max(value[3], acc[3]), value[4] + acc[4])
    raise _stats_error(
        "The _stats function requires that map values be numbers or arrays of numbers, not '" + erlang_term(value) + "'"
    )


def _stats(values: Sequence[Any]) -> Any:
    if not values:
        return (0, 0, 0, 0, 0)
    acc = _initial(values[0])
    for value in values[1:]:
        acc = _stat_values(value, acc)
    return acc


def _pack(stats: Any) -> Any:
    if isinstance(stats, list):
        return [_pack(s) for s in stats]
    total, count, low, high, squares = stats
    return {"sum": total, "count": count, "min": low, "max": high, "sumsqr": squares}


# --- _approx_count_distinct ----------------------------------------------------

_P = 11
_M = 1 << _P


def _hll_add(registers: bytearray, key: Any) -> None:
    digest = hashlib.blake2b(sort_key(key), digest_size=8).digest()
    h = int.from_bytes(digest, "big")
    index = h >> (64 - _P)
    rest = (h << _P) & 0xFFFFFFFFFFFFFFFF
    rank = 1
    while rank <= 64 - _P and not rest & (1 << 63):
        rank += 1
        rest = (rest << 1) & 0xFFFFFFFFFFFFFFFF
    if rank > registers[index]:
        registers[index] = rank


def _hll_count(registers: bytearray) -> int:
    zeros = registers.count(0)
    if zeros:
        linear = _M * math.log(_M / zeros)
        if linear <= 5 * _M / 2:
            return round(linear)
    alpha = 0.7213 / (1 + 1.079 / _M)
    return round(alpha * _M * _M / sum(2.0**-r for r in registers))


# --- running a reduce ------------------------------------------------------------


def _first_last(rows: Sequence[Row], last: bool) -> Any:
    if not rows:
        return []
    best = min if not last else max
    return best(rows, key=lambda r: (sort_key(r[0]), r[1].encode()))[2]


def _top(rows: Sequence[Row], n: int, bottom: bool) -> list[Any]:
    # unique values by collation, highest first (lowest for _bottom_)
    seen: dict[bytes, Any] = {}
    for _, _, value in rows:
        seen.setdefault(sort_key(value), value)
    ordered = sorted(seen.items(), key=lambda kv: kv[0], reverse=not bottom)
    return [value for _, value in ordered[:n]]


def _builtin(source: str, rows: Sequence[Row]) -> Any:
    values = [row[2] for row in rows]
    if source.startswith("_sum"):
        return _sum(values)
    if source.startswith("_count"):
        return len(rows)
    if source.startswith("_stats"):
        return _pack(_stats(values))
    if source.startswith("_approx_count_distinct"):
        registers = bytearray(_M)
        for row in rows:
            _hll_add(registers, row[0])
        return _hll_count(registers)
    if source.startswith("_first"):
        return _first_last(rows, last=False)
    if source.startswith("_last"):
        return _first_last(rows, last=True)
    if source.startswith("_top_"):
        return _top(rows, _rank(source[5:]), bottom=False)
    if source.startswith("_bottom_"):
        return _top(rows, _rank(source[8:]), bottom=True)
    raise ReduceError(400, "invalid_design_doc", f"`{source}` is not a supported reduce function.")


def _overflow(result: Any, given: int) -> Any:
    size = len(orjson.dumps(result))
    if size > 4096 and size * 2 > given:
        return {
            "reduce_overflow_error": f"Reduce output must shrink more rapidly: input size: {given} output size: {size}"
        }
    return result


def _js(sandbox: Sandbox, fun: str, rows: Sequence[Row]) -> Any:
    reductions = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        keys = [[row[0], row[1]] for row in chunk]
        values = [row[2] for row in chunk]
        given = len(orjson.dumps([keys, values]))
        reductions.append(_overflow(sandbox.reduce([fun], keys, values, False)[0], given))
    while len(reductions) > 1:
        for r in reductions:
            if isinstance(r, dict) and "reduce_overflow_error" in r:
                return r
        next_level = []
        for start in range(0, len(reductions), CHUNK):
            chunk = reductions[start : start + CHUNK]
            given = len(orjson.dumps(chunk))
            next_level.append(_overflow(sandbox.reduce([fun], None, chunk, True)[0], given))
        reductions = next_level
    if not reductions:  # no rows: what the function says for nothing
        return sandbox.reduce([fun], [], [], False)[0]
    return reductions[0]


def reduce_rows(source: str, rows: Sequence[Row], sandbox: Callable[[], Sandbox], key: str = "") -> Any:
    """The reduction of ``rows`` (in view order) by the reduce function ``source``, as CouchDB shows it.

    ``sandbox()`` gives the JavaScript sandbox where ``key`` names the
    compiled function; it is asked for only when ``source`` is JavaScript.
    """
    if is_builtin(source):
        return _builtin(source, rows)
    return _js(sandbox(), key, rows)
