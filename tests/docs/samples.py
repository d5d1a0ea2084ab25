"""The code samples of the docs, read from their Markdown, and how each one is run.

Rules kept here:

- Every ```` ```python ```` block is a sample, run in a fresh process against the test
  server. A block is asyncio or Twisted by its first line (``# asyncio``, ``# Twisted``),
  else by what it imports (``wallaby.backends.couchdb.aio`` or ``asyncio``: asyncio;
  ``wallaby.backends.couchdb``, ``twisted`` or a bare ``yield``: Twisted).
- A complete program (it calls ``asyncio.run`` or ``task.react``) runs as it is. A
  fragment runs inside a coroutine (asyncio) or an ``inlineCallbacks`` generator
  (Twisted), so its top-level ``await``/``yield`` work; it finds ``server``, ``db``
  (a fresh database, deleted after) and ``url`` already defined.
- Hidden code in HTML comments, invisible on the site: ``<!-- setup ... -->`` runs
  before each following fragment of the page, ``<!-- then ... -->`` right after the
  block above it (to call what the block defined, and check what it did).
  ``<!-- sample: couchdb-only -->`` before a block runs it only on Apache CouchDB.
- Samples name ``http://localhost:5984`` and the user ``admin`` with password
  ``secret``; the runner points them at the test server and its credentials.
- Every ```` ```sh ```` line that starts with ``wallaby-couchdb`` is run too, with
  ``COUCHDB_URL`` set to the test server, and must exit 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Sample", "read_samples"]

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
HIDDEN = re.compile(r"<!--\s*(setup|then)\s*\n(.*?)-->", re.S)
COUCHDB_ONLY = re.compile(r"<!--\s*sample:\s*couchdb-only\s*-->\s*$")


@dataclass
class Sample:
    path: Path
    line: int
    language: str
    code: str
    flavour: str = "asyncio"
    setup: list[str] = field(default_factory=list)
    then: str = ""
    couchdb_only: bool = False

    @property
    def complete(self) -> bool:
        return "asyncio.run(" in self.code or "task.react(" in self.code

    @property
    def name(self) -> str:
        return f"{self.path.as_posix()}:{self.line}"


def _flavour(code: str) -> str:
    first = code.lstrip().splitlines()[0].lower() if code.strip() else ""
    if first.startswith("# asyncio"):
        return "asyncio"
    if first.startswith("# twisted"):
        return "twisted"
    if "wallaby.backends.couchdb.aio" in code or "import asyncio" in code:
        return "asyncio"
    if re.search(r"wallaby\.backends\.couchdb import|from twisted|^\s*(\w+ = )?yield ", code, re.M):
        return "twisted"
    return "asyncio"


def read_samples(path: Path, root: Path) -> list[Sample]:
    text = path.read_text()
    hidden = [(m.start(), m.end(), m.group(1), m.group(2)) for m in HIDDEN.finditer(text)]
    samples: list[Sample] = []
    setups: dict[str, list[str]] = {"asyncio": [], "twisted": []}
    position = 0
    for match in FENCE.finditer(text):
        for start, _, kind, body in hidden:
            if position <= start < match.start() and kind == "setup":
                flavour = _flavour(body)
                setups[flavour].append(body)
        before = text[: match.start()].rstrip()
        language, code = match.group(1), match.group(2)
        line = text.count("\n", 0, match.start()) + 2
        position = match.end()
        if language == "python":
            flavour = _flavour(code)
            sample = Sample(path.relative_to(root), line, language, code, flavour, list(setups[flavour]))
            sample.couchdb_only = bool(COUCHDB_ONLY.search(before))
            after = text[match.end() :].lstrip()
            then = HIDDEN.match(after)
            if then and then.group(1) == "then":
                sample.then = then.group(2)
            samples.append(sample)
        elif language in ("sh", "console", "bash"):
            commands = [c.strip().removeprefix("$ ") for c in code.splitlines()]
            commands = [c.split("  #")[0].strip() for c in commands if c.startswith(("wallaby-couchdb", "$ wallaby"))]
            if commands:
                samples.append(Sample(path.relative_to(root), line, "sh", "\n".join(commands)))
    return samples
