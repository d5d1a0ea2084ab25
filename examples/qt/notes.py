"""A Qt window on a CouchDB database, kept live by its changes feed (PySide6 + qasync).

The original wallaby was a Qt application framework; this is the same idea on
today's stack: qasync runs asyncio inside Qt's event loop, so the window's
slots can await the library, and a changes feed updates the list as documents
are added anywhere.

    COUCHDB_URL=http://admin:secret@localhost:5984 python notes.py [DATABASE]
"""

from __future__ import annotations

import asyncio
import os
import sys

import qasync
from PySide6.QtWidgets import QApplication, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget

from wallaby.backends.couchdb.aio import Database, PreconditionFailed


class NotesWindow(QWidget):
    """Every note of the database, as a list; a line edit and a button to add one."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.setWindowTitle(f"notes in {db.name}")
        self.notes = QListWidget()
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("a new note")
        self.add = QPushButton("Add")
        self.add.clicked.connect(self.on_add)
        self.entry.returnPressed.connect(self.on_add)
        layout = QVBoxLayout(self)
        for widget in (self.notes, self.entry, self.add):
            layout.addWidget(widget)
        self.texts: dict[str, str] = {}
        self.feed: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.feed = asyncio.ensure_future(self.follow())

    async def follow(self) -> None:
        async with self.db.follow(None, include_docs=True) as changes:
            async for change in changes:
                if change.get("deleted"):
                    self.texts.pop(change["id"], None)
                elif "text" in change.get("doc", {}):
                    self.texts[change["id"]] = change["doc"]["text"]
                self.notes.clear()
                self.notes.addItems([self.texts[key] for key in sorted(self.texts)])

    @qasync.asyncSlot()
    async def on_add(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            await self.db.save({"text": text})  # the feed shows it

    async def stop(self) -> None:
        if self.feed is not None:
            self.feed.cancel()
            try:
                await self.feed
            except asyncio.CancelledError:
                pass


async def open_database(name: str, url: str) -> Database:
    db = Database(name, url=url)
    try:
        await db.create()
    except PreconditionFailed:
        pass
    return db


async def main(name: str) -> None:
    db = await open_database(name, os.environ.get("COUCHDB_URL", "http://localhost:5984"))
    window = NotesWindow(db)
    window.show()
    window.start()
    closed = asyncio.Event()
    QApplication.instance().aboutToQuit.connect(closed.set)  # type: ignore[union-attr]
    await closed.wait()
    await window.stop()
    await db.close()


if __name__ == "__main__":
    app = QApplication(sys.argv)
    qasync.run(main(sys.argv[1] if len(sys.argv) > 1 else "notes"))
