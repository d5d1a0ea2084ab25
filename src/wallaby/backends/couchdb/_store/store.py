"""A store: the databases under one URL, a directory on disk or a name in memory.

Rules kept here:

- ``file:///abs/dir`` is a directory with one SQLite file per database
  (``{name}.couch.sqlite``, the name percent-encoded where a file name
  cannot hold it); the directory is made when missing.
- ``memory://NAME`` lives as long as the process and is shared by every
  Server of the process that names it; ``memory://`` alone is private to
  the Server that made it and goes with it.
- One process uses a directory at a time: the first Server to open it takes
  an OS lock on ``.wallaby-store.lock`` and holds it until the last Server
  of that process using the directory is closed. Another process gets
  ``503 store_locked`` at its first request (a ``ServerError``), with the
  holder's pid in the reason.
- Database names follow CouchDB's rule: ``^[a-z][a-z0-9_$()+/-]*$``, and the
  system names ``_users``, ``_replicator``, ``_global_changes``.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import uuid
from typing import IO
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

from .._core.urls import STORE_SCHEMES
from .database import LocalDb
from .errors import BadRequest, HttpError, NotFound, PreconditionFailed

__all__ = ["Store", "acquire_store", "check_db_name", "is_store_url", "release_store"]
_SUFFIX = ".couch.sqlite"
_LOCK_FILE = ".wallaby-store.lock"
_DB_NAME = re.compile(r"^[a-z][a-z0-9_$()+/-]*\Z")
_SYSTEM_DBS = ("_users", "_replicator", "_global_changes")


def is_store_url(base: str) -> bool:
    return base.partition(":")[0] in STORE_SCHEMES


def check_db_name(name: str) -> None:
    if not (_DB_NAME.match(name) or name in _SYSTEM_DBS):
        raise BadRequest(
            f"Name: '{name}'. Only lowercase characters (a-z), digits (0-9), and any of the characters "
            "_, $, (, ), +, -, and / are allowed. Must begin with a letter.",
            error="illegal_database_name",
        )


class StoreLocked(HttpError):
    status = 503
    error = "store_locked"


class _DirectoryLock:
    """An OS lock on a file in the directory, held while this process uses it."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, _LOCK_FILE)
        self.file: IO[str] | None = None

    def acquire(self) -> None:
        file = open(self.path, "a+")
        try:
            _lock(file)
        except OSError:
            file.seek(0)
            holder = file.read().strip() or "unknown"
            file.close()
            raise StoreLocked(
                f"the store at {os.path.dirname(self.path)} is used by another process (pid {holder}); "
                "one process opens a store directory at a time"
            ) from None
        file.seek(0)
        file.truncate()
        file.write(str(os.getpid()))
        file.flush()
        self.file = file

    def release(self) -> None:
        file, self.file = self.file, None
        if file is not None:
            file.close()  # closing the file drops the lock


if sys.platform == "win32":  # pragma: no cover - not run in CI
    import msvcrt

    def _lock(file: IO[str]) -> None:
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(file: IO[str]) -> None:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


class Store:
    """The databases of one store URL, opened as they are first used."""

    def __init__(self, key: str, directory: str | None, private: bool = False) -> None:
        self.key = key
        self.directory = directory
        self.private = private
        self.uuid = uuid.uuid4().hex
        self.users = 0
        self._dbs: dict[str, LocalDb] = {}
        self._lock = threading.RLock()
        self._dir_lock: _DirectoryLock | None = None

    def __repr__(self) -> str:
        return f"<Store {self.key}>"

    # --- the directory -----------------------------------------------------------------

    def _path(self, name: str) -> str:
        assert self.directory is not None
        return os.path.join(self.directory, quote(name, safe="") + _SUFFIX)

    def _open_directory(self) -> None:
        """Take the directory (made if missing) for this process, once."""
        if self.directory is None or self._dir_lock is not None:
            return
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as exc:
            raise HttpError(f"cannot make the store directory {self.directory}: {exc.strerror}", status=500) from None
        lock = _DirectoryLock(self.directory)
        lock.acquire()
        self._dir_lock = lock
        id_file = os.path.join(self.directory, ".wallaby-store.uuid")
        try:
            with open(id_file, encoding="ascii") as file:
                self.uuid = file.read().strip() or self.uuid
        except OSError:
            with open(id_file, "w", encoding="ascii") as file:
                file.write(self.uuid)

    # --- databases -------------------------------------------------------------------

    def names(self) -> list[str]:
        with self._lock:
            if self.directory is None:
                return sorted(self._dbs)
            self._open_directory()
            found = [unquote(entry[: -len(_SUFFIX)]) for entry in os.listdir(self.directory) if entry.endswith(_SUFFIX)]
            return sorted(found)

    def get(self, name: str) -> LocalDb:
        """The database ``name``; 404 when there is none."""
        db = self._dbs.get(name)
        if db is not None:
            return db
        with self._lock:
            db = self._dbs.get(name)
            if db is not None:
                return db
            if self.directory is None:
                raise NotFound("Database does not exist.")
            self._open_directory()
            path = self._path(name)
            if not os.path.exists(path):
                raise NotFound("Database does not exist.")
            db = self._dbs[name] = LocalDb.open(name, path, sync="normal")
            return db

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except NotFound:
            return False
        return True

    def create(self, name: str, *, partitioned: bool = False) -> LocalDb:
        check_db_name(name)
        with self._lock:
            if self.exists(name):
                raise PreconditionFailed(
                    "The database could not be created, the file already exists.", error="file_exists"
                )
            path = None if self.directory is None else self._path(name)
            if path is not None:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            db = self._dbs[name] = LocalDb.create(name, path, sync="normal", partitioned=partitioned)
            return db

    def delete(self, name: str) -> LocalDb:
        with self._lock:
            db = self.get(name)
            del self._dbs[name]
            db.close()
            if db.path is not None:
                for suffix in ("", "-wal", "-shm"):
                    try:
                        os.remove(db.path + suffix)
                    except FileNotFoundError:
                        pass
            return db

    def close(self) -> None:
        with self._lock:
            dbs, self._dbs = list(self._dbs.values()), {}
            for db in dbs:
                db.close()
            if self._dir_lock is not None:
                self._dir_lock.release()
                self._dir_lock = None


# --- which Servers share which store -----------------------------------------------------

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def _location(base: str) -> tuple[str, str | None, bool]:
    """(registry key, directory or None, private) of a store URL."""
    parts = urlsplit(base)
    if parts.scheme == "memory":
        if parts.path not in ("", "/"):
            raise ValueError(f"a memory store URL is memory://NAME, with no path: {base!r}")
        name = parts.netloc
        return (f"memory://{name}", None, not name)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"a file store URL names a local directory (file:///abs/dir), not {base!r}")
    directory = os.path.realpath(url2pathname(parts.path))
    return (f"file://{directory}", directory, False)


def acquire_store(base: str) -> Store:
    """The store of ``base``, shared with the other users of the same URL in this process."""
    key, directory, private = _location(base)
    with _stores_lock:
        if private:
            store = Store(key, None, private=True)
        else:
            store = _stores.get(key) or Store(key, directory)
            _stores[key] = store
        store.users += 1
        return store


def release_store(store: Store) -> None:
    """One user less; a private store, or a directory no one in the process uses, is closed."""
    with _stores_lock:
        store.users -= 1
        if store.users > 0:
            return
        if store.private:
            store.close()
        elif store.directory is not None:
            _stores.pop(store.key, None)
            store.close()
