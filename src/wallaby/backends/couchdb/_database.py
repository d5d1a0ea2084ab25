"""Database: the seed's object, a facade over documents, attachments, views and changes."""

from __future__ import annotations

from typing import Any, ClassVar

from ._attachments import Attachments
from ._bulk import Bulk
from ._changes import Changes
from ._conflicts import Conflicts
from ._design import Design
from ._documents import Documents
from ._documents_more import DocumentsMore
from ._errors import InvalidArgument
from ._maintenance import Maintenance
from ._mango import Mango
from ._params import query_string
from ._partitions import Partitions
from ._revisions import Revisions
from ._security import Security
from ._server import Server
from ._urls import db_segment
from ._views import Views

__all__ = ["Database"]


class Database(Documents, DocumentsMore, Conflicts, Bulk, Revisions, Maintenance, Attachments, Views, Design, Mango, Partitions, Changes, Security):
    """One CouchDB database: ``Database(name, user, password, url)``, as in the seed.

    A Database made this way owns a Server (and its connection pool), which
    ``close()`` releases; ``server.database(name)`` shares the server's pool
    instead. Nothing is sent until a method is called.
    """

    _server_class: ClassVar[type[Server]]

    def __init__(
        self,
        name: str,
        user: str | None = None,
        password: str | None = None,
        url: str = "http://localhost:5984",
        *,
        username: str | None = None,
        server: Server | None = None,
        **server_options: Any,
    ) -> None:
        self._path = "/" + db_segment(name)
        self.name = name
        if server is None:
            server = self._server_class(url, user, password, username=username, **server_options)
            self._owns_server = True
        else:
            if user is not None or password is not None or username is not None or server_options:
                raise InvalidArgument("a Database from a Server uses the server's credentials and options")
            self._owns_server = False
        self.server = self._server = server
        self._http = server._http
        self._subscriptions = {}
        self._status_callbacks = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self._http.base}>"

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop this database's changes feeds; close the pool if the Database made it."""
        for key, sub in list(self._subscriptions.items()):
            self._unsubscribe(key, sub)
        if self._owns_server:
            await self._server.close()

    async def info(self) -> dict[str, Any]:
        """``GET /{db}``: document count, update sequence, sizes."""
        return await self._http.json("GET", self._path)

    async def create(self, **params: Any) -> dict[str, Any]:
        """``PUT /{db}``: create this database (``q``, ``n``, ``partitioned``)."""
        return await self._http.json("PUT", self._path, query_string(params))

    async def destroy(self) -> dict[str, Any]:
        """``DELETE /{db}``: delete this database and all its documents."""
        return await self._http.json("DELETE", self._path)
