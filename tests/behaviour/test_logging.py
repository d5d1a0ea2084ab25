"""Logging: stdlib loggers, one per area, a request id on each request, never a credential."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

SECRET = "pa55-word-never-logged"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, self.format(record)))


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger("wallaby.backends.couchdb")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_each_request_is_logged_with_an_id_and_no_credentials(couch, records) -> None:
    db = await couch.fresh_db()
    await db.save({"_id": "logged"})
    if not couch.is_store:  # the embedded store has no users
        host = couch.url.split("://", 1)[1].rpartition("@")[2]
        with pytest.raises(couch.module.Unauthorized):
            await couch.server(f"http://someone:{SECRET}@{host}").info()
    requests = [line for name, line in records.lines if name == "wallaby.backends.couchdb.http"]
    sent = [line for line in requests if re.fullmatch(r"#\d+ PUT \S+/logged", line)]
    assert len(sent) == 1
    request_id = sent[0].split()[0]
    answered = "-> 201" if couch.is_store else "-> 201 (CouchDB request"  # the store sends no request id
    assert any(line.startswith(f"{request_id} PUT ") and answered in line for line in requests)
    assert couch.is_store or any("-> 401" in line for line in requests)
    assert all(SECRET not in line and "someone:" not in line for _, line in records.lines)


def test_the_loggers_are_named_for_their_areas() -> None:
    import logging

    import wallaby.backends.couchdb.aio  # noqa: F401
    import wallaby.backends.couchdb.tx  # noqa: F401

    prefix = "wallaby.backends.couchdb."
    ours = {name[len(prefix) :] for name in logging.root.manager.loggerDict if name.startswith(prefix)}
    assert {"http", "feeds", "changes"} <= ours
    assert all("." not in area for area in ours), ours  # one level: an area, not a module path
