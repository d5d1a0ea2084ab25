"""SQLite connections of one database, and its schema.

Rules kept here:

- A database on disk is one SQLite file in WAL mode: one writer connection,
  used under a lock by one thread at a time, and a pool of reader
  connections that any thread borrows. Readers never wait for the writer
  and see only committed transactions.
- A database in memory is one connection under a lock: readers and the
  writer take turns. ``acquire_reader(block=False)`` gives None instead of waiting,
  so the event loop's thread never waits for it.
- ``synchronous=NORMAL`` (WAL): a committed transaction survives the process
  being killed; a power cut may lose the last ones, never the file's
  integrity. ``sync="full"`` in the store URL makes every commit wait for the
  disk.
- Every write is one ``BEGIN IMMEDIATE`` .. ``COMMIT``; an exception rolls
  it back whole.

Schema (``user_version`` 1):

``meta(key, value)``
    update_seq, purge_seq, doc_count, del_count, external size, revs_limit,
    security object, uuid, partitioned.
``docs(seq, id, rev, deleted, tree, atts, body)``
    One row per document, keyed by the seq of its latest change (so
    ``_changes`` reads the table in order); ``id`` unique. ``rev`` and
    ``deleted`` are the winner's; ``tree`` the revision tree
    (``revtree.RevTree``); ``atts`` the winner's attachment stubs (JSON) and
    ``body`` its members other than CouchDB's special ones (JSON).
``revs(id, rev, deleted, atts, body)``
    The bodies of the other revisions: losing leaves, and older revisions
    until compaction.
``local(id, rev, body)``
    ``_local/`` documents: no history, no seq.
``blobs(num, digest, length, refs)`` and ``chunks(key, data)``
    Attachment data by ``md5-`` digest, counted by the revisions that refer
    to it, in chunks keyed ``num * 2**24 + n``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["Connections", "FileConnections", "MemoryConnections", "SCHEMA", "VERSION", "Closed"]

VERSION = 1
CHUNK_SHIFT = 24

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    rev TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    tree BLOB NOT NULL,
    atts BLOB,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_deleted ON docs(id) WHERE deleted;
CREATE TABLE IF NOT EXISTS revs (
    id TEXT NOT NULL,
    rev TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    atts BLOB,
    body BLOB NOT NULL,
    PRIMARY KEY (id, rev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS local (id TEXT PRIMARY KEY, rev INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
    num INTEGER PRIMARY KEY,
    digest TEXT UNIQUE,
    length INTEGER NOT NULL,
    refs INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (key INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""


class Closed(Exception):
    """The database was closed (deleted, or its store closed) while in use."""


def _tune(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA cache_size=-16000")  # 16 MB
    conn.execute("PRAGMA temp_store=MEMORY")


def open_connection(path: str, *, sync: str = "normal", create: bool = False) -> sqlite3.Connection:
    """A connection to the file at ``path`` (``:memory:`` for a database in memory)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=128, timeout=30.0)
    if path != ":memory:":
        if create:
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
        conn.execute("PRAGMA journal_size_limit=8388608")
    _tune(conn)
    return conn


class Connections:
    """How a database's connections are shared between threads."""

    def acquire_reader(self, block: bool = True) -> sqlite3.Connection | None:
        """A connection to read with, until ``release_reader``; None when ``block`` is false and it would wait."""
        raise NotImplementedError

    def release_reader(self, conn: sqlite3.Connection) -> None:
        raise NotImplementedError

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        conn = self.acquire_reader()
        assert conn is not None
        try:
            yield conn
        finally:
            self.release_reader(conn)

    def writing(self) -> AbstractContextManager[sqlite3.Connection]:
        """The writer connection, for this thread alone until the block ends."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class FileConnections(Connections):
    """One writer under a lock, and a pool of readers (WAL lets them read while it writes)."""

    def __init__(self, path: str, writer: sqlite3.Connection, sync: str) -> None:
        self._path = path
        self._sync = sync
        self._writer = writer
        self._write_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False

    def acquire_reader(self, block: bool = True) -> sqlite3.Connection | None:
        if self._closed:
            raise Closed()
        try:
            return self._idle.pop()
        except IndexError:
            conn = open_connection(self._path, sync=self._sync)
            conn.execute("PRAGMA query_only=1")
            return conn

    def release_reader(self, conn: sqlite3.Connection) -> None:
        if self._closed:
            conn.close()
        else:
            self._idle.append(conn)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            if self._closed:
                raise Closed()
            yield self._writer

    def close(self) -> None:
        with self._write_lock:
            self._closed = True
            self._writer.close()
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class MemoryConnections(Connections):
    """One connection to a database in memory; readers and the writer take turns."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._closed = False

    def acquire_reader(self, block: bool = True) -> sqlite3.Connection | None:
        if not self._lock.acquire(blocking=block):
            return None
        if self._closed:
            self._lock.release()
            raise Closed()
        return self._conn

    def release_reader(self, conn: sqlite3.Connection) -> None:
        self._lock.release()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise Closed()
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()
