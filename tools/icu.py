"""ICU's root collator through ctypes: the oracle for CouchDB's string order.

CouchDB compares strings with ``ucol_strcollIter`` on ``ucol_open("")`` (ICU's
root collator, default attributes). This module opens the same collator from
the system's ICU (``libicui18n.so.NN``, found by trying versions), so that the
collation table can be generated from it and tests can compare with it. It
is a development tool: the library never loads ICU.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

__all__ = ["Icu", "load"]

_INT = ctypes.POINTER(ctypes.c_int)


class Icu:
    """The root collator of one ICU library."""

    def __init__(self, version: int) -> None:
        self.version = version
        self._i18n = ctypes.CDLL(f"libicui18n.so.{version}")
        self._uc = ctypes.CDLL(f"libicuuc.so.{version}")
        status = ctypes.c_int(0)
        self._coll = self._fn("i18n", "ucol_open", ctypes.c_void_p, ctypes.c_char_p, _INT)(b"", ctypes.byref(status))
        if status.value > 0:
            raise OSError(f"ucol_open failed: {status.value}")
        self._strcoll = self._fn(
            "i18n", "ucol_strcollUTF8", ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
            ctypes.c_char_p, ctypes.c_int32, _INT,
        )  # fmt: skip
        self._open_elements = self._fn(
            "i18n", "ucol_openElements", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, _INT
        )
        self._next = self._fn("i18n", "ucol_next", ctypes.c_int32, ctypes.c_void_p, _INT)
        self._close_elements = self._fn("i18n", "ucol_closeElements", None, ctypes.c_void_p)
        self._contractions = self._fn(
            "i18n", "ucol_getContractionsAndExpansions", None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
            ctypes.c_int8, _INT,
        )  # fmt: skip
        self._uset_open = self._fn("uc", "uset_openEmpty", ctypes.c_void_p)
        self._uset_count = self._fn("uc", "uset_getItemCount", ctypes.c_int32, ctypes.c_void_p)
        self._uset_item = self._fn(
            "uc", "uset_getItem", ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_int32),
            ctypes.POINTER(ctypes.c_int32), ctypes.c_void_p, ctypes.c_int32, _INT,
        )  # fmt: skip
        version_array = (ctypes.c_uint8 * 4)()
        self._fn("i18n", "ucol_getUCAVersion", None, ctypes.c_void_p, ctypes.c_void_p)(self._coll, version_array)
        self.uca_version = ".".join(str(b) for b in version_array[:3])

    def _fn(self, lib: str, name: str, restype: object, *argtypes: object) -> ctypes._CFuncPtr:  # type: ignore[name-defined]
        fn = getattr(self._i18n if lib == "i18n" else self._uc, f"{name}_{self.version}")
        fn.restype = restype
        fn.argtypes = list(argtypes)
        return fn  # type: ignore[no-any-return]

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 as CouchDB's ``couch_ejson_compare`` orders two strings."""
        status = ctypes.c_int(0)
        ea, eb = a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
        result = self._strcoll(self._coll, ea, len(ea), eb, len(eb), ctypes.byref(status))
        if status.value > 0:
            raise ValueError(f"ucol_strcollUTF8 failed: {status.value}")
        return int(result)

    def elements(self, text: str) -> list[tuple[int, int, int]]:
        """The collation elements of ``text``: (primary 32 bits, secondary 16, tertiary 16 without case bits).

        ``ucol_next`` hands out each 64-bit element as two 32-bit halves, the
        second marked as a continuation (low byte 0b11xxxxxx) when not zero.
        """
        raw = text.encode("utf-16-le")
        buf = ctypes.create_string_buffer(raw, len(raw) + 2)
        status = ctypes.c_int(0)
        it = self._open_elements(self._coll, buf, len(raw) // 2, ctypes.byref(status))
        halves: list[int] = []
        try:
            while True:
                ce = self._next(it, ctypes.byref(status)) & 0xFFFFFFFF
                if ce == 0xFFFFFFFF:
                    break
                halves.append(ce)
        finally:
            self._close_elements(it)
        out: list[tuple[int, int, int]] = []
        i = 0
        while i < len(halves):
            first, second = halves[i], 0
            i += 1
            if i < len(halves) and halves[i] & 0xC0 == 0xC0:
                second = halves[i]
                i += 1
            primary = (first & 0xFFFF0000) | (second >> 16)
            secondary = ((first >> 8) & 0xFF) << 8 | ((second >> 8) & 0xFF)
            tertiary = ((first & 0xFF) << 8 | (second & 0x3F)) & 0x3F3F
            out.append((primary, secondary, tertiary))
        return out

    def contractions(self) -> list[str]:
        """Every string of two or more code points the root collator maps as one (prefix rules included)."""
        uset = self._uset_open()
        status = ctypes.c_int(0)
        self._contractions(self._coll, uset, None, 1, ctypes.byref(status))
        out: list[str] = []
        buf = ctypes.create_string_buffer(512)
        start, end = ctypes.c_int32(), ctypes.c_int32()
        for i in range(self._uset_count(uset)):
            status = ctypes.c_int(0)
            length = self._uset_item(uset, i, ctypes.byref(start), ctypes.byref(end), buf, 250, ctypes.byref(status))
            if length:
                out.append(buf.raw[: 2 * length].decode("utf-16-le"))
        return out


def code_points() -> Iterator[int]:
    """Every Unicode scalar value."""
    yield from range(0xD800)
    yield from range(0xE000, 0x110000)


def load() -> Icu | None:
    """The system's ICU, or None when there is none."""
    for version in range(90, 49, -1):
        try:
            return Icu(version)
        except OSError:
            continue
    return None
