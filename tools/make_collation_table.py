"""Write ``_store/root_collation.json.z``: ICU's root collation as CouchDB uses it, as a table.

    python tools/make_collation_table.py        (needs the system's ICU, libicui18n.so.NN)

The table holds, for every code point that is not an unassigned one, its
collation elements with each weight replaced by its rank among the weights
of that level (1, 2, 3... in ICU's order); runs of code points whose single
element's primary rank grows by one (Han) are kept as ranges. Unassigned code
points are left out: ICU orders them by code point above every assigned
primary, and ``collate.py`` computes that. Contractions (and the four prefix
rules of root, which act as contractions there) are listed with their elements,
but for U+FDD1 U+FDD0, a marker for tailorings that no text holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wallaby.backends.couchdb._store.collate import encode_table

sys.path.insert(0, str(Path(__file__).parent))
from icu import code_points, load  # noqa: E402

TARGET = Path(__file__).parents[1] / "src/wallaby/backends/couchdb/_store/root_collation.json.z"
UNASSIGNED_LEAD = 0xFE
HIGH_LEAD = 0xFF


def unassigned_primary(cp: int) -> int:
    """ICU's primary for an unassigned code point (Collation::unassignedPrimaryFromCodePoint)."""
    c = cp + 1
    primary = 2 + (c % 18) * 14
    c //= 18
    primary |= (2 + (c % 254)) << 8
    c //= 254
    primary |= (4 + (c % 251)) << 16
    return primary | (UNASSIGNED_LEAD << 24)


def main() -> None:
    icu = load()
    if icu is None:
        raise SystemExit("no ICU library found (libicui18n.so.NN)")
    elements: dict[int, list[tuple[int, int, int]]] = {}
    for cp in code_points():
        ces = icu.elements(chr(cp))
        if len(ces) == 1 and ces[0][0] >> 24 == UNASSIGNED_LEAD:
            if ces[0] != (unassigned_primary(cp), 0x500, 0x500):
                raise SystemExit(f"U+{cp:04X}: an unassigned primary not from the formula: {ces}")
            continue
        elements[cp] = ces
    contractions = {text: icu.elements(text) for text in sorted(icu.contractions())}
    # U+FDD1 U+FDD0 is root's "[first unassigned]" marker for tailorings, not text: left out
    contractions = {t: ces for t, ces in contractions.items() if all(p >> 24 != UNASSIGNED_LEAD for p, _, _ in ces)}
    everything = [*elements.values(), *contractions.values()]
    primaries = sorted({p for ces in everything for p, _, _ in ces if p})
    if any(p >> 24 == UNASSIGNED_LEAD for p in primaries):
        raise SystemExit("an assigned primary uses the unassigned lead byte")
    high = [p for p in primaries if p >> 24 == HIGH_LEAD]
    normal = [p for p in primaries if p >> 24 != HIGH_LEAD]
    rank = {p: i + 1 for i, p in enumerate(normal)}
    rank.update({p: -(i + 1) for i, p in enumerate(high)})
    secondaries = {s: i + 1 for i, s in enumerate(sorted({s for ces in everything for _, s, _ in ces if s}))}
    tertiaries = {t: i + 1 for i, t in enumerate(sorted({t for ces in everything for _, _, t in ces if t}))}

    def ranked(ces: list[tuple[int, int, int]]) -> list[int]:
        flat: list[int] = []
        for p, s, t in ces:
            flat += [rank[p] if p else 0, secondaries.get(s, 0), tertiaries.get(t, 0)]
        return flat

    chars: list[list[int]] = []  # [cp delta, weights...]
    runs: list[list[int]] = []  # [first cp, count, first primary rank, secondary, tertiary]
    previous = -1
    for cp, ces in elements.items():
        flat = ranked(ces)
        if len(ces) == 1 and flat[0] > 0 and runs and runs[-1][0] + runs[-1][1] == cp:
            first, count, p0, s0, t0 = runs[-1]
            if flat == [p0 + count, s0, t0]:
                runs[-1][1] += 1
                continue
        if len(ces) == 1 and flat[0] > 0 and 0x3400 <= cp and "CJK" in _block_hint(cp):
            runs.append([cp, 1, *flat])
            continue
        chars.append([cp - previous, *flat])
        previous = cp
    table = {
        "icu": icu.version,
        "uca": icu.uca_version,
        "primaries": len(normal),
        "common": [secondaries[0x500], tertiaries[0x500]],  # the minor weights of an unassigned code point
        "chars": chars,
        "runs": runs,
        "contractions": [[text, *ranked(ces)] for text, ces in contractions.items()],
    }
    data = encode_table(table)
    TARGET.write_bytes(data)
    print(
        f"{TARGET.name}: ICU {icu.version} (UCA {icu.uca_version}), {len(chars)} code points, {len(runs)} runs "
        f"({sum(r[1] for r in runs)} code points), {len(contractions)} contractions, {len(normal)} primaries, "
        f"{len(secondaries)} secondaries, {len(tertiaries)} tertiaries; {len(data)} bytes"
    )


def _block_hint(cp: int) -> str:
    """'CJK' for the ideograph ranges, where runs pay off."""
    ranges = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF)]
    return "CJK" if any(a <= cp <= b for a, b in ranges) else ""


if __name__ == "__main__":
    main()
