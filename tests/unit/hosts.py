"""Server and Database classes over a stand-in Runtime, for tests that check requests without a server.

``classes(make_runtime)`` gives the core's Server and Database wired to
``make_runtime(timeouts, tls)``, as a flavour wires them to its own Runtime
(the base URL a flavour's ``make_runtime`` also gets is dropped here);
``Canned`` is a Response such a Runtime answers with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from wallaby.backends.couchdb._api import database, server
from wallaby.backends.couchdb._core.client import Flavour
from wallaby.backends.couchdb._core.feeds import Follower
from wallaby.backends.couchdb._core.streams import Stream


def classes(make_runtime: Callable[..., Any]) -> tuple[type[server.Server], type[database.Database]]:
    class Server(server.Server):
        _flavour = Flavour(lambda base, timeouts, tls: make_runtime(timeouts, tls), Stream, Follower)

    class Database(database.Database):
        _server_class = Server

    Server._database_class = Database
    return Server, Database


class Canned:
    """A Response whose status and body are known in advance."""

    def __init__(self, status: int = 200, body: bytes = b"{}") -> None:
        self.status = status
        self._body = body

    def header(self, name: str) -> str | None:
        return "application/json" if name.lower() == "content-type" else None

    def header_values(self, name: str) -> list[str]:
        value = self.header(name)
        return [] if value is None else [value]

    async def read(self) -> bytes:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self._body

    def close(self) -> None:
        pass
