"""Server: one CouchDB node's (or cluster's) root URL, its credentials and its connection pool."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from .._core.auth import make_auth
from .._core.checks import text, whole_number
from .._core.client import Client, Flavour
from .._core.errors import InvalidArgument
from .._core.params import ALL_DBS
from .._core.runtime import Timeouts
from .._core.tls import TLSConfig, check_tls
from .._core.urls import db_segment, split_credentials
from .bulk import ServerBulk
from .changes import DbUpdates
from .nodes import Nodes
from .replication import Replication
from .users import Users

if TYPE_CHECKING:
    from typing_extensions import Self

    from .database import Database

__all__ = ["Server"]


class Server(ServerBulk, DbUpdates, Nodes, Replication, Users):
    """A CouchDB server: ``Server('http://admin:secret@localhost:5984')``.

    Credentials come from ``user``/``password`` (``username`` too) or from the
    URL's userinfo; they are sent as HTTP Basic auth, or with ``auth="cookie"``
    exchanged once for a session cookie that is renewed as needed. ``token``
    (a JWT, or a callable returning the current one) and ``proxy_user``/
    ``proxy_roles``/``proxy_secret`` (proxy authentication) are the other
    ways. Credentials are never shown again. ``tls=TLSConfig(...)`` sets the
    CA bundle and client certificate of an ``https://`` server.
    One Server holds one pool of keep-alive connections, shared by every
    Database it hands out; ``close()`` (or leaving ``async with``) releases it.
    """

    url: str
    """The server's base URL, without credentials."""

    _flavour: ClassVar[Flavour]
    _database_class: ClassVar[type[Database]]

    def __init__(
        self,
        url: str = "http://localhost:5984",
        user: str | None = None,
        password: str | None = None,
        *,
        username: str | None = None,
        connect_timeout: float | None = 10.0,
        read_timeout: float | None = 60.0,
        auth: str | None = None,
        token: str | Callable[[], Any] | None = None,
        proxy_user: str | None = None,
        proxy_roles: Iterable[str] = (),
        proxy_secret: str | None = None,
        tls: TLSConfig | None = None,
    ) -> None:
        base, url_user, url_password = split_credentials(url)
        if username is not None:
            if user is not None and user != username:
                raise InvalidArgument("give user or username, not both")
            user = username
        if user is None:  # credentials from the URL's userinfo (an explicit password wins)
            user = url_user
            if password is None:
                password = url_password
        if user is not None:
            text(user, "user")
        if password is not None:
            text(password, "password")
        credentials = make_auth(
            user,
            password,
            auth=auth,
            token=token,
            proxy_user=proxy_user,
            proxy_roles=proxy_roles,
            proxy_secret=proxy_secret,
        )
        self.url = base
        self._path = ""
        self._client = Client(
            self._flavour, base, credentials, Timeouts(connect_timeout, read_timeout), check_tls(base, tls)
        )

    @property
    def user(self) -> str | None:
        """The user this Server authenticates as (None: anonymous, or a JWT without a known name)."""
        auth = self._client.auth
        return auth.user if auth is not None else None

    def __repr__(self) -> str:
        auth = self._client.auth
        who = f" as {auth.user!r}" if auth is not None and auth.user else ""
        how = f" ({auth.scheme})" if auth is not None and auth.scheme != "basic" else ""
        return f"<{type(self).__name__} {self.url}{who}{how}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop every changes feed of this server and close its connections."""
        await self._client.close()

    def database(self, name: str) -> Database:
        """The Database ``name`` on this server (no request is sent)."""
        return self._database_class(name, server=self)

    async def info(self) -> dict[str, Any]:
        """``GET /``: the server's welcome, version and vendor."""
        return await self._client.json_dict("GET", "/")

    async def all_dbs(self, **params: Any) -> list[str]:
        """``GET /_all_dbs``: database names (``limit``, ``skip``, ``startkey``...)."""
        ALL_DBS.check(params)
        return await self._client.json_list("GET", "/_all_dbs", ALL_DBS.query(params))

    async def uuids(self, count: int = 1) -> list[str]:
        """``GET /_uuids?count=N``: ``count`` fresh ids from the server."""
        whole_number(count, "count", 1)
        result = await self._client.json_dict("GET", "/_uuids", f"?count={count}")
        uuids: list[str] = result["uuids"]
        return uuids

    async def create(self, name: str, **params: Any) -> Database:
        """``PUT /{db}``: create a database (``q``, ``n``, ``partitioned``) and return it."""
        database = self.database(name)
        await database.create(**params)
        return database

    async def delete(self, name: str) -> dict[str, Any]:
        """``DELETE /{db}``: delete a database and all its documents."""
        return await self._client.json_dict("DELETE", "/" + db_segment(name))
