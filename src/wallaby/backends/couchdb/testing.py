"""A throwaway PouchDB Server for tests and demos, on a free loopback port.

::

    with PouchDBServer() as url:
        ...  # url is "http://127.0.0.1:PORT"

It runs npm's ``pouchdb-server`` (found on ``$POUCHDB_SERVER``, in
``node_modules/.bin`` of the working directory or a parent, or on ``PATH``)
with Node.js, in memory unless ``data_dir`` is given, and stops it on exit.
``restart()`` stops and starts it again on the same port (with ``data_dir``
the data survives).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import BinaryIO

__all__ = ["PouchDBServer", "find_pouchdb_server", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_pouchdb_server() -> str:
    """The path of the ``pouchdb-server`` command, or FileNotFoundError saying how to get it."""
    named = os.environ.get("POUCHDB_SERVER")
    if named:
        return named
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "node_modules" / ".bin" / "pouchdb-server"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("pouchdb-server")
    if found:
        return found
    raise FileNotFoundError(
        "pouchdb-server not found: run `npm install pouchdb-server` in the project (or set POUCHDB_SERVER),"
        " or test on the embedded store with `--couchdb-url memory://tests`"
    )


class PouchDBServer:
    def __init__(self, port: int | None = None, data_dir: str | None = None, start_timeout: float = 30.0) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None
        self._workdir = tempfile.mkdtemp(prefix="pouchdb-server-")

    def start(self) -> str:
        command = [find_pouchdb_server(), "--port", str(self.port), "--host", "127.0.0.1", "--no-stdout-logs"]
        command += ["--config", os.path.join(self._workdir, "config.json")]
        if self.data_dir is None:
            command += ["--in-memory", "--dir", self._workdir]
        else:
            command += ["--dir", self.data_dir]
        self._log = open(os.path.join(self._workdir, "output.txt"), "ab")  # closed by stop()
        self._process = subprocess.Popen(
            command, cwd=self._workdir, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pouchdb-server exited with {self._process.returncode}: {self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as answer:
                    answer.read()
                return self.url
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pouchdb-server did not answer on {self.url} within {self.start_timeout}s")

    def output(self) -> str:
        try:
            return Path(self._workdir, "output.txt").read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def restart(self) -> str:
        self.stop()
        return self.start()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)
