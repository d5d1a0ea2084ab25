"""One database of the store: its SQLite connections, its counters, who waits for its changes.

Rules kept here:

- Blocking work runs off the event loop: ``read`` and ``write`` run their
  function on a worker thread (the flavour's ``to_thread``). Only
  ``read_here`` runs on the caller's thread, for point reads that take
  microseconds (one document, one counter); on a database in memory it gives
  up (``Busy``) rather than wait for the writer, and the caller goes to a
  thread instead.
- The counters (update seq, document counts, sizes, revs_limit, security) are
  kept in memory and written in the same transaction as the change that
  moves them; they take their new values only once that transaction has
  committed. One process owns a store at a time (see ``store.py``), so
  memory and file never disagree.
- Each change ends by waking the feeds waiting on this database, on their
  own loops (``Waiter.fire_threadsafe``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from .._core.runtime import Runtime, Waiter
from . import blobs
from .errors import NotFound
from .sqlite import SCHEMA, VERSION, Closed, Connections, FileConnections, MemoryConnections, open_connection

__all__ = ["Busy", "LocalDb", "Txn"]

T = TypeVar("T")

DEFAULT_REVS_LIMIT = 1000
DEFAULT_SECURITY: dict[str, Any] = {"members": {"roles": ["_admin"]}, "admins": {"roles": ["_admin"]}}

_COUNTERS = ("update_seq", "purge_seq", "doc_count", "del_count", "external")


class Busy(Exception):
    """``read_here`` would have had to wait: read on a worker thread instead."""


class Txn:
    """A write transaction: its connection and the counters as they will be once it commits."""

    __slots__ = ("conn", "db", "values", "changed")

    def __init__(self, conn: sqlite3.Connection, db: LocalDb) -> None:
        self.conn = conn
        self.db = db
        self.values: dict[str, Any] = dict(db.counters)
        self.changed = False

    def next_seq(self) -> int:
        seq: int = self.values["update_seq"] + 1
        self.values["update_seq"] = seq
        self.changed = True
        return seq

    def add(self, name: str, delta: int) -> None:
        if delta:
            self.values[name] += delta

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value


class LocalDb:
    """A database of a store: a SQLite file, or a SQLite database in memory."""

    def __init__(self, name: str, path: str | None, conns: Connections, counters: dict[str, Any]) -> None:
        self.name = name
        self.path = path
        self.conns = conns
        self.counters = counters
        self.instance_start_time = str(int(time.time() * 1_000_000))
        self.compact_running = False
        self.pending_memo: tuple[int, int, int] | None = None
        """(update_seq, seq, changes after it): ``_changes`` keeps ``pending`` up by difference."""
        self._waiters: list[Waiter] = []
        self._waiters_lock = threading.Lock()
        self.closed = False
        self.extensions: dict[str, Any] = {}
        """What other modules keep per database (the query side's indexes), by module name."""

    # --- opening -------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, path: str | None, *, sync: str, partitioned: bool) -> LocalDb:
        conn = open_connection(path or ":memory:", sync=sync, create=True)
        conn.executescript(SCHEMA)
        values = {
            "update_seq": 0,
            "purge_seq": 0,
            "doc_count": 0,
            "del_count": 0,
            "external": 0,
            "revs_limit": DEFAULT_REVS_LIMIT,
            "security": orjson.dumps(DEFAULT_SECURITY).decode(),
            "uuid": uuid.uuid4().hex,
            "partitioned": 1 if partitioned else 0,
        }
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())
        conn.execute(f"PRAGMA user_version={VERSION}")
        conn.execute("COMMIT")
        return cls._with(name, path, conn, sync)

    @classmethod
    def open(cls, name: str, path: str, *, sync: str) -> LocalDb:
        conn = open_connection(path, sync=sync)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != VERSION:
            conn.close()
            raise RuntimeError(f"{path} has store format {version}, not {VERSION}")
        db = cls._with(name, path, conn, sync)
        db._drop_orphan_blobs()
        return db

    @classmethod
    def _with(cls, name: str, path: str | None, conn: sqlite3.Connection, sync: str) -> LocalDb:
        counters: dict[str, Any] = dict(conn.execute("SELECT key, value FROM meta"))
        conns: Connections = FileConnections(path, conn, sync) if path else MemoryConnections(conn)
        return cls(name, path, conns, counters)

    def _drop_orphan_blobs(self) -> None:
        """Attachment data written by an upload that never reached a document (the process died)."""
        with self.conns.writing() as conn:
            orphans = [num for (num,) in conn.execute("SELECT num FROM blobs WHERE refs <= 0")]
            if orphans:
                conn.execute("BEGIN IMMEDIATE")
                for num in orphans:
                    blobs.delete(conn, num)
                conn.execute("COMMIT")

    def close(self) -> None:
        self.closed = True
        self.conns.close()
        self.wake()

    # --- counters ------------------------------------------------------------------

    @property
    def update_seq(self) -> int:
        return int(self.counters["update_seq"])

    @property
    def revs_limit(self) -> int:
        return int(self.counters["revs_limit"])

    @property
    def partitioned(self) -> bool:
        return bool(self.counters.get("partitioned"))

    def file_size(self) -> int:
        if self.path is None:
            return 0
        size = 0
        for suffix in ("", "-wal"):
            try:
                size += os.path.getsize(self.path + suffix)
            except OSError:
                pass
        return size

    # --- reading and writing -------------------------------------------------------

    def _read_with(self, block: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conns = self.conns
        try:
            conn = conns.acquire_reader(block)
        except Closed:
            raise NotFound("Database does not exist.") from None
        if conn is None:
            raise Busy()
        try:
            return fn(conn, *args)
        except sqlite3.ProgrammingError:  # closed under the read
            raise NotFound("Database does not exist.") from None
        finally:
            conns.release_reader(conn)

    def read_here(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on this thread, or Busy when that would mean waiting for the writer."""
        return self._read_with(False, fn, args)

    def read_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on this (worker) thread with a reader connection."""
        return self._read_with(True, fn, args)

    async def read(self, runtime: Runtime, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on a worker thread."""
        return await runtime.to_thread(self.read_blocking, fn, *args)

    async def point_read(self, runtime: Runtime, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on the loop's thread when it needs no waiting, else on a worker thread."""
        try:
            return self.read_here(fn, *args)
        except Busy:
            return await self.read(runtime, fn, *args)

    def write_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(txn, *args)`` in one transaction, on this (worker) thread."""
        try:
            with self.conns.writing() as conn:
                txn = Txn(conn, self)
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(txn, *args)
                    changed = [(k, v) for k, v in txn.values.items() if self.counters.get(k) != v]
                    if changed:
                        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", changed)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                self.counters = txn.values
        except (Closed, sqlite3.ProgrammingError):
            raise NotFound("Database does not exist.") from None
        if txn.changed:
            self.wake()
        return result

    async def write(self, runtime: Runtime, fn: Callable[..., T], *args: Any) -> T:
        """``fn(txn, *args)`` in one transaction, on a worker thread."""
        return await runtime.to_thread(self.write_blocking, fn, *args)

    # --- who waits for changes -----------------------------------------------------

    def listen(self, waiter: Waiter) -> None:
        """Fire ``waiter`` (once) at the next change, or when the database closes."""
        with self._waiters_lock:
            self._waiters.append(waiter)

    def forget(self, waiter: Waiter) -> None:
        with self._waiters_lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def wake(self) -> None:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.fire_threadsafe()
