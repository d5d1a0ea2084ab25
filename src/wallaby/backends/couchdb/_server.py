"""Server: one CouchDB node's root URL, its credentials and its connection pool."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Coroutine, Iterable

from ._auth import make_auth
from ._bulk import ServerBulk
from ._errors import InvalidArgument, InvalidType
from ._checks import whole_number
from ._http import Http
from ._nodes import Nodes
from ._feeds import db_updates_request
from ._params import ALL_DBS_PARAMS, check_params, query_string
from ._replication import Replication
from ._retry import Backoff
from ._runtime import Runtime, Task, Timeouts
from ._tls import TLSConfig, check_tls
from ._urls import db_segment, split_credentials
from ._users import Users

if TYPE_CHECKING:
    from ._database import Database
    from ._feeds import Follower
    from ._streams import Stream

__all__ = ["Server"]

log = logging.getLogger("wallaby.backends.couchdb")

_ALL_DBS_PARAMS = ALL_DBS_PARAMS


class Server(ServerBulk, Nodes, Replication, Users):
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

    _make_runtime: ClassVar[Callable[[Timeouts, TLSConfig | None], Runtime]]
    _database_class: ClassVar[type[Database]]
    _follower_class: ClassVar[type[Follower]]
    _stream_class: ClassVar[type[Stream[Any]]]

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
        for value, what in ((user, "user"), (password, "password")):
            if value is not None and not isinstance(value, str):
                raise InvalidType(f"{what} must be a str, not {type(value).__name__}")
        credentials = make_auth(
            user, password, auth=auth, token=token, proxy_user=proxy_user, proxy_roles=proxy_roles, proxy_secret=proxy_secret
        )
        self.url = base
        self.user = credentials.user if credentials else None
        self._credentials = (user, password) if user else None  # for replication endpoints; never shown
        timeouts = Timeouts(connect_timeout, read_timeout)
        tls = check_tls(base, tls)
        self._runtime = type(self)._make_runtime(timeouts, tls) if tls else type(self)._make_runtime(timeouts)
        self._http = Http(self._runtime, base, credentials, timeouts)
        self._tasks: set[Task] = set()

    def __repr__(self) -> str:
        auth = self._http.auth
        who = f" as {auth.user!r}" if auth is not None and auth.user else ""
        how = f" ({auth.scheme})" if auth is not None and auth.scheme != "basic" else ""
        return f"<{type(self).__name__} {self.url}{who}{how}>"

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> Task:
        task = self._runtime.spawn(coro)
        self._tasks.add(task)
        return task

    def _forget(self, task: Task) -> None:
        self._tasks.discard(task)

    async def close(self) -> None:
        """Stop every changes feed of this server and close its connections."""
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        await self._runtime.close()

    def database(self, name: str) -> Database:
        """The Database ``name`` on this server (no request is sent)."""
        return self._database_class(name, server=self)

    async def info(self) -> dict[str, Any]:
        """``GET /``: the server's welcome, version and vendor."""
        return await self._http.json("GET", "/")

    async def all_dbs(self, **params: Any) -> list[str]:
        """``GET /_all_dbs``: database names (``limit``, ``skip``, ``startkey``...)."""
        check_params(params, _ALL_DBS_PARAMS, "_all_dbs")
        return await self._http.json("GET", "/_all_dbs", query_string(params, _ALL_DBS_PARAMS))

    async def uuids(self, count: int = 1) -> list[str]:
        """``GET /_uuids?count=N``: ``count`` fresh ids from the server."""
        whole_number(count, "count", 1)
        result = await self._http.json("GET", "/_uuids", f"?count={count}")
        return result["uuids"]

    async def create(self, name: str, **params: Any) -> Database:
        """``PUT /{db}``: create a database (``q``, ``n``, ``partitioned``) and return it."""
        await self._http.json("PUT", "/" + db_segment(name), query_string(params))
        return self.database(name)

    async def delete(self, name: str) -> dict[str, Any]:
        """``DELETE /{db}``: delete a database and all its documents."""
        return await self._http.json("DELETE", "/" + db_segment(name))

    def db_updates(
        self,
        since: Any = None,
        *,
        feed: str = "continuous",
        heartbeat: int = 10_000,
        limit: int | None = None,
        page_size: int = 1000,
        backoff: Backoff | None = None,
        status: Callable[[str, BaseException | None], Any] | None = None,
    ) -> Follower:
        """Follow ``GET /_db_updates``: every database created, updated or deleted.

        The same Follower as ``Database.follow()``, with the same guarantees
        (resume from ``last_seq``, reconnect with backoff, typed errors). CouchDB
        answers 404 until the ``_global_changes`` database exists.
        """
        request = db_updates_request(since=since, feed=feed, heartbeat=heartbeat, limit=limit, page_size=page_size)
        return self._follower_class(self, request, backoff=backoff, status=status)
