"""Server and Database classes over a stand-in Runtime, for tests that check requests without a server.

``classes(make_runtime)`` gives the core's Server and Database wired to
``make_runtime(timeouts, tls)``, as a flavour wires them to its own Runtime
(the base URL a flavour's ``make_runtime`` also gets is dropped here).
"""

from __future__ import annotations

from collections.abc import Callable
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
