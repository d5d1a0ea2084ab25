"""Database: the seed's object, a facade over documents, attachments, views and changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .._core.errors import InvalidArgument
from .._core.params import query_string
from .._core.urls import db_segment
from .attachments import Attachments
from .bulk import Bulk
from .changes import Changes
from .conflicts import Conflicts
from .design import Design
from .documents import Documents
from .maintenance import Maintenance
from .mango import Mango
from .open_revs import OpenRevs
from .partitions import Partitions
from .revisions import Revisions
from .security import Security
from .server import Server
from .views import Views

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Database"]


class Database(
    Documents,
    Conflicts,
    Bulk,
    Revisions,
    OpenRevs,
    Maintenance,
    Attachments,
    Views,
    Design,
    Mango,
    Partitions,
    Changes,
    Security,
):
    """One CouchDB database: ``Database(name, user, password, url)``, as in the seed.

    A Database made this way owns a Server (and its connection pool), which
    ``close()`` releases; ``server.database(name)`` shares the server's pool
    instead. Nothing is sent until a method is called.
    """

    name: str
    """The database's name."""
    server: Server
    """The Server whose connections this Database uses."""

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
        self.server = server
        self._client = server._client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self._client.base}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop this database's changes feeds; close the pool if the Database made it."""
        self._stop_changes()
        if self._owns_server:
            await self.server.close()

    async def info(self) -> dict[str, Any]:
        """``GET /{db}``: document count, update sequence, sizes."""
        return await self._client.json_dict("GET", self._path)

    async def create(self, **params: Any) -> dict[str, Any]:
        """``PUT /{db}``: create this database (``q``, ``n``, ``partitioned``).

        On a cluster CouchDB answers 201 once every node has recorded the new
        database (its shard map) and 202 when only some did (a node down or
        too slow): the result then holds ``"accepted": True``, and another
        node may answer 404 for the database for a moment.
        """
        return await self._client.write("PUT", self._path, query_string(params))

    async def destroy(self) -> dict[str, Any]:
        """``DELETE /{db}``: delete this database and all its documents.

        Answered 202 (``"accepted": True`` in the result) when only some of a
        cluster's nodes recorded the deletion.
        """
        return await self._client.write("DELETE", self._path)
