"""Blocking work stays off the event loop, and attachment data streams through in bounded memory.

These check the design's bounds loosely (the machine may be busy): the
benchmark (``benchmarks/embedded.py``) reports the real figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from store.conftest import loop_lags, store_db


async def test_a_bulk_load_leaves_the_loop_free(couch, tmp_path):
    db = await store_db(couch, tmp_path.as_uri())

    async def load() -> None:
        for start in range(0, 20_000, 1_000):
            docs = [{"_id": f"d{n:06}", "n": n, "text": "x" * 150} for n in range(start, start + 1_000)]
            await db.save({"docs": docs})

    lags = await loop_lags(couch, load())
    assert len(lags) > 20
    # 50 ms on a quiet machine (the benchmark measures it); a loop blocked by SQLite would wait seconds
    assert max(lags) < 0.5, sorted(lags)[-5:]


SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "attachment_memory.py"


def test_a_large_attachment_streams_in_and_out_in_bounded_memory(tmp_path: Path) -> None:
    size = 200 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, str(SCRIPT), tmp_path.as_uri(), str(size)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    growth = int(done.stdout)
    assert growth < 50 * 1024 * 1024, f"peak memory grew by {growth / 2**20:.1f} MiB"
