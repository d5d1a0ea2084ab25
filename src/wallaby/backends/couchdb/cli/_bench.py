"""``bench``: the benchmark suite of a source checkout (benchmarks/bench.py)."""

from __future__ import annotations

COMMANDS: list[object] = []
