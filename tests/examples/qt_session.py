"""Drive examples/qt/notes.py headless: add a note through the window, another from outside; both show.

Run by test_qt.py in its own process (one QApplication per process), with
QT_QPA_PLATFORM=offscreen; the server and database come from the command line.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "qt"))

from notes import NotesWindow, open_database  # noqa: E402

from wallaby.backends.couchdb.aio import Database  # noqa: E402


async def shown(window: NotesWindow, texts: list[str], timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if [window.notes.item(n).text() for n in range(window.notes.count())] == texts:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the list shows {[window.notes.item(n).text() for n in range(window.notes.count())]}")


async def session(url: str, name: str) -> None:
    db = await open_database(name, url)
    window = NotesWindow(db)
    window.show()
    window.start()
    window.entry.setText("buy milk")
    window.add.click()  # the slot saves it; the feed brings it into the list
    await shown(window, ["buy milk"])
    async with Database(name, url=url) as elsewhere:
        await elsewhere.save({"_id": "zz-from-elsewhere", "text": "call Ann"})
    await shown(window, ["buy milk", "call Ann"])
    await window.stop()
    await db.close()
    window.close()
    print("qt session ok")


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    qasync.run(session(sys.argv[1], sys.argv[2]))
