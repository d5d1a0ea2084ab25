"""The one host of every concept module: a server's request path, its flavour's classes, its tasks.

Rules kept here:

- A ``Client`` is made by a ``Server`` and shared by every ``Database`` it
  hands out. Concept modules (``_api/``) reach the server through it, and
  only through it: ``Resource`` is what their methods see (the client and
  the path under its base URL), never a Server or a Database.
- It owns the background tasks of its feeds: each is forgotten when it ends,
  and ``close()`` cancels those still running and waits for them before the
  connection pool is closed.
- Its flavour (``Flavour``) decides the Runtime and the Stream and Follower
  classes; the core never asks which flavour it has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, NamedTuple, TypeVar

from .auth import Auth
from .errors import TruncatedBody
from .feeds import FeedRequest, Follower, StatusCallback
from .http import Http
from .json import JSON_TYPE
from .retry import Backoff
from .runtime import Runtime, Task, Tasks, Timeouts
from .streams import Stream
from .tls import TLSConfig
from .wire import RowParser

__all__ = ["Client", "Flavour", "Resource"]

T = TypeVar("T")


class Flavour(NamedTuple):
    """What a flavour gives the core: its Runtime, and its Stream and Follower classes."""

    make_runtime: Callable[[str, Timeouts, TLSConfig | None], Runtime]
    """The Runtime for the server at a base URL (an embedded store's URL gets the store's runtime)."""
    stream: type[Stream[Any]]
    follower: type[Follower]


class Client(Http):
    """``Http`` (the request path) plus what the concept modules share: streams, feeds, tasks."""

    __slots__ = ("flavour", "_tasks")

    def __init__(
        self, flavour: Flavour, base: str, auth: Auth | None, timeouts: Timeouts, tls: TLSConfig | None
    ) -> None:
        super().__init__(flavour.make_runtime(base, timeouts, tls), base, auth, timeouts)
        self.flavour = flavour
        self._tasks = Tasks(self.runtime)

    def __repr__(self) -> str:
        return f"<Client {self.base}>"

    # --- tasks ---------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, None]) -> Task:
        """Run ``coro`` in the background until it ends, is cancelled, or the client closes."""
        return self._tasks.spawn(coro)

    async def close(self) -> None:
        """Cancel the background tasks, wait for them to end, close the connection pool."""
        await self._tasks.cancel_all()
        await self.runtime.close()

    # --- streams and feeds ---------------------------------------------------------

    def stream(self, source: AsyncIterator[T], meta: dict[str, Any] | None = None) -> Stream[T]:
        """``source`` as the flavour's Stream."""
        return self.flavour.stream(self.runtime, source, meta)

    async def rows(
        self,
        method: str,
        path: str,
        query: str,
        body: bytes | None,
        member: str,
        meta: dict[str, Any],
        *,
        view: bool = False,
    ) -> AsyncIterator[Any]:
        """Yield the elements of ``member`` in CouchDB's answer as they arrive; the rest goes to ``meta``."""
        response = await self.send(
            method, path, query, body=body, content_type=JSON_TYPE if body is not None else None, view=view
        )
        parser = RowParser(member)
        parser.meta = meta
        try:
            async for chunk in response.chunks():
                for row in parser.feed(chunk):
                    yield row
            parser.close()
        except TruncatedBody as exc:
            raise TruncatedBody(exc.reason, method=method, url=self.url(path, query)) from None
        finally:
            response.close()

    def stream_rows(
        self, method: str, path: str, query: str, body: bytes | None, member: str, *, view: bool = False
    ) -> Stream[dict[str, Any]]:
        """``rows()`` as a Stream whose ``meta`` gets the other members of the answer."""
        meta: dict[str, Any] = {}
        return self.stream(self.rows(method, path, query, body, member, meta, view=view), meta)

    def follow(self, request: FeedRequest, backoff: Backoff | None, status: StatusCallback | None) -> Follower:
        """A Follower of ``request``, in this client's flavour."""
        return self.flavour.follower(self, self.spawn, request, backoff=backoff, status=status)


class Resource:
    """What a concept module's methods work on: the client, and the path they build URLs under.

    ``""`` for a Server, ``"/{db}"`` for a Database.
    """

    _client: Client
    _path: str
