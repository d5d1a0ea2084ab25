"""examples/qt: the notes window, headless (QT_QPA_PLATFORM=offscreen), on qasync."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_notes_window_shows_notes_added_here_and_elsewhere(couchdb_dbname: str, couchdb_url: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("qt_session.py")), couchdb_url, couchdb_dbname],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "qt session ok" in done.stdout
