"""CouchDB's collation of JSON values: a sortable byte key, and a comparison.

Rules kept here (``couch_ejson_compare`` in CouchDB):

- Types in order: null < false < true < numbers < strings < arrays < objects.
- Numbers by value: ``1`` equals ``1.0``, ``-0.0`` equals ``0``.
- Strings as ICU's root collator orders them with its default attributes:
  tertiary strength, punctuation not ignored, no normalization; ``a < A < aa
  < b``. Strings ICU finds equal are equal (``"a"`` and ``"a\\u0000"``: the
  control character is ignorable); a view then orders their rows by doc id.
- Arrays element by element, a prefix first. Objects member by member in
  the order they were written (key as a string, then value), fewer members
  first; the keys are not sorted.

``sort_key(value)`` is bytes whose order (``memcmp``, SQLite's BLOB order) is
that order, so an index table can ``ORDER BY`` it and range-scan it. A string
becomes the UCA sort key built from ``root_collation.json.z``, a table made
from ICU by ``tools/make_collation_table.py``: each level's weights (primary,
secondary, tertiary) in the order of the string, the levels separated by a
0 byte. Weights are written as prefix-free code words whose first byte is
never 0, so the key of a string is never a prefix of the key of another
string, and a string key is safe inside an array or an object key.
"""

from __future__ import annotations

import struct
import unicodedata
import zlib
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["compare", "sort_key", "string_key", "TABLE_ICU_VERSION"]

TABLE_ICU_VERSION = 72

# type tags; 0 ends an array or an object
_NULL, _FALSE, _TRUE, _NUMBER, _STRING, _ARRAY, _OBJECT = (bytes([i]) for i in range(1, 8))
_END = b"\x00"
_MEMBER = b"\x01"

_Fragments = tuple[bytes, bytes, bytes]


class _Primaries:
    """Code words for primary weights: one byte for those of ASCII characters, four for the others.

    The ranks of ASCII's primaries cut the others into gaps; walking up, a
    gap gets one first byte (then 3 bytes of rank), the next ASCII primary
    the next byte. So the code words keep the order, none is the prefix of
    another, and ASCII text is one ``bytes.translate`` per level.
    """

    def __init__(self, ascii_ranks: list[int]) -> None:
        self.ascii = sorted(set(ascii_ranks))
        self.single = {rank: bytes((2 + 2 * i,)) for i, rank in enumerate(self.ascii)}
        if 2 * len(self.ascii) + 1 >= 0xFE:
            raise RuntimeError("collation table: too many ASCII primaries")

    def __call__(self, rank: int) -> bytes:
        if rank < 0:  # the few above the unassigned code points (U+FFFD, U+FFFF)
            return bytes((0xFF, -rank))
        found = self.single.get(rank)
        if found is not None:
            return found
        gap = bisect_right(self.ascii, rank)
        return bytes((1 + 2 * gap,)) + rank.to_bytes(3, "big")


def _unassigned(cp: int) -> bytes:
    # ICU puts unassigned code points above every assigned primary (but FF..), in code point order
    return b"\xfe" + (cp + 1).to_bytes(3, "big")


def _minor(rank: int) -> bytes:
    """A secondary or tertiary weight's code word: 1 byte (01..EF) or 2 bytes (F0..)."""
    return bytes((rank,)) if rank < 0xF0 else (0xF000 + rank - 0xF0).to_bytes(2, "big")


def _fragments(weights: Sequence[int], primary: _Primaries) -> _Fragments:
    p, s, t = [], [], []
    for i in range(0, len(weights), 3):
        if weights[i]:
            p.append(primary(weights[i]))
        if weights[i + 1]:
            s.append(_minor(weights[i + 1]))
        if weights[i + 2]:
            t.append(_minor(weights[i + 2]))
    return b"".join(p), b"".join(s), b"".join(t)


_LISTS = ("chars", "runs", "contractions")
_PIECE = 2000


def encode_table(table: dict[str, Any]) -> bytes:
    """The collation table as stored: compressed lines of JSON, the header then the lists a piece at a time.

    Pieces, because one parse of the whole table would hold the GIL (and so
    the event loop's thread) for tens of milliseconds.
    """
    lines = [orjson.dumps({name: value for name, value in table.items() if name not in _LISTS})]
    for name in _LISTS:
        for start in range(0, len(table[name]), _PIECE):
            lines.append(orjson.dumps([name, table[name][start : start + _PIECE]]))
    return zlib.compress(b"\n".join(lines), 9)


def decode_table(raw: bytes) -> dict[str, Any]:
    lines = zlib.decompress(raw).split(b"\n")
    table: dict[str, Any] = orjson.loads(lines[0])
    for name in _LISTS:
        table[name] = []
    for line in lines[1:]:
        name, piece = orjson.loads(line)
        table[name] += piece
    return table


class _Table:
    """The root collation table, loaded on first use."""

    def __init__(self) -> None:
        table = decode_table(resources.files(__package__).joinpath("root_collation.json.z").read_bytes())
        self.chars: dict[str, _Fragments] = {}  # filled as characters are met
        self.weights: dict[str, tuple[int, ...]] = {}  # tuples of ints: the garbage collector skips them
        entries = table["chars"]
        ascii_ranks = [w for entry in entries[:128] for w in entry[1::3] if w]
        self.primary = primary = _Primaries(ascii_ranks)
        cp = -1
        for entry in entries:
            cp += entry[0]
            self.weights[chr(cp)] = tuple(entry)
        self.common = _minor(table["common"][0]), _minor(table["common"][1])
        runs = table["runs"]
        self.run_starts = [r[0] for r in runs]
        self.runs = [(r[0], r[1], r[2], _minor(r[3]), _minor(r[4])) for r in runs]
        self.contractions: dict[str, _Fragments] = {}
        self.starters: set[str] = set()
        self.longest = 1
        for entry in table["contractions"]:
            text = entry[0]
            self.contractions[text] = _fragments(entry[1:], primary)
            self.longest = max(self.longest, len(text))
            for i in range(1, len(text)):  # every prefix can start a longer match
                self.starters.add(text[:i])
        # ASCII has no contraction and one element per character: one bytes.translate per level
        levels: list[bytearray] = [bytearray(256), bytearray(256), bytearray(256)]
        ignorable = bytearray()
        for code in range(128):
            fragments = self.char(chr(code))
            if not any(fragments):
                ignorable.append(code)
                continue
            for level, fragment in zip(levels, fragments, strict=True):
                if len(fragment) != 1:
                    raise RuntimeError(f"collation table: ASCII {code} is not one simple element")
                level[code] = fragment[0]
        self.ascii = [bytes(level) for level in levels]
        self.ignorable = bytes(ignorable)

    def char(self, c: str) -> _Fragments:
        found = self.chars.get(c)
        if found is not None:
            return found
        weights = self.weights.get(c)
        if weights is not None:
            found = self.chars[c] = _fragments(weights[1:], self.primary)
            return found
        cp = ord(c)
        i = bisect_right(self.run_starts, cp) - 1
        if i >= 0:
            first, count, rank, s, t = self.runs[i]
            if cp < first + count:
                return self.primary(rank + cp - first), s, t
        return _unassigned(cp), *self.common

    def key(self, text: str) -> bytes:
        if text.isascii():
            raw = text.encode("ascii")
            ignorable = self.ignorable
            p, s, t = self.ascii
            return b"".join(
                (
                    raw.translate(p, ignorable),
                    _END,
                    raw.translate(s, ignorable),
                    _END,
                    raw.translate(t, ignorable),
                    _END,
                )
            )
        ps: list[bytes] = []
        ss: list[bytes] = []
        ts: list[bytes] = []
        chars = list(text)
        i, n = 0, len(chars)
        starters, contractions = self.starters, self.contractions
        while i < n:
            c = chars[i]
            if c in starters:
                unit, i = self._contraction(chars, i)
                frags = contractions[unit] if len(unit) > 1 else self.char(unit)
                n = len(chars)
            else:
                frags = self.char(c)
                i += 1
            ps.append(frags[0])
            ss.append(frags[1])
            ts.append(frags[2])
        return b"".join((*ps, _END, *ss, _END, *ts, _END))

    def _contraction(self, chars: list[str], i: int) -> tuple[str, int]:
        """The longest contraction at ``chars[i]``, then non-starters after it that extend it (UCA S2.1).

        A non-starter taken out of order is removed from ``chars``.
        """
        n = len(chars)
        unit, end = chars[i], i + 1
        for k in range(min(self.longest, n - i), 1, -1):
            candidate = "".join(chars[i : i + k])
            if candidate in self.contractions:
                unit, end = candidate, i + k
                break
        blocked = 0  # highest combining class passed over
        j = end
        while j < n:
            ccc = unicodedata.combining(chars[j])
            if ccc == 0:
                break
            if blocked < ccc and unit + chars[j] in self.contractions:
                unit += chars.pop(j)
                n -= 1
                continue
            blocked = max(blocked, ccc)
            j += 1
        return unit, end


_table: _Table | None = None


def _loaded() -> _Table:
    global _table
    if _table is None:
        _table = _Table()
    return _table


@lru_cache(maxsize=65536)
def string_key(text: str) -> bytes:
    """The sort key of a string: bytes ordered as CouchDB orders the strings."""
    return _loaded().key(text)


def _number(value: float) -> bytes:
    if value == 0:
        value = 0.0  # -0.0 sorts with 0
    bits: int = struct.unpack(">Q", struct.pack(">d", value))[0]
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | 0x8000000000000000
    return bits.to_bytes(8, "big")


def _encode(value: Any, out: list[bytes]) -> None:
    if value is None:
        out.append(_NULL)
    elif value is True:
        out.append(_TRUE)
    elif value is False:
        out.append(_FALSE)
    elif isinstance(value, str):
        out.append(_STRING)
        out.append(string_key(value))
    elif isinstance(value, (int, float)):
        out.append(_NUMBER)
        out.append(_number(float(value)))
    elif isinstance(value, list):
        out.append(_ARRAY)
        for item in value:
            _encode(item, out)
        out.append(_END)
    elif isinstance(value, dict):
        out.append(_OBJECT)
        for name, item in value.items():
            out.append(_MEMBER)
            out.append(string_key(name))
            _encode(item, out)
        out.append(_END)
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def sort_key(value: Any) -> bytes:
    """The key of a JSON value (as orjson decodes it): bytes in CouchDB's collation order."""
    if isinstance(value, str):
        return _STRING + string_key(value)
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


_RANK = {type(None): 0, bool: 1, int: 2, float: 2, str: 3, list: 4, dict: 5}


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1: how CouchDB orders two JSON values (walks them; ``sort_key`` is the fast way)."""
    ra, rb = _RANK[type(a)], _RANK[type(b)]
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (1, 2):
        return int(a > b) - int(a < b)
    if ra == 3:
        ka, kb = string_key(a), string_key(b)
        return (ka > kb) - (ka < kb)
    if ra == 4:
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 5:
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=False):
            c = compare(ka, kb) or compare(va, vb)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    return 0
