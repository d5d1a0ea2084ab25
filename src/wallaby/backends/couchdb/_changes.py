"""A database's changes: ``follow()`` and the seed's ``changes``/``unchanges`` callback registry."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from ._errors import InvalidArgument, InvalidType
from ._feeds import Follower, changes_request
from ._json import dumps
from ._retry import Backoff

if TYPE_CHECKING:
    from ._http import Http
    from ._runtime import Task
    from ._server import Server

__all__ = ["Changes"]

log = logging.getLogger("wallaby.backends.couchdb")

StatusCallback = Callable[[str, "BaseException | None"], Any]


class _Subscription:
    __slots__ = ("follower", "callbacks", "errbacks", "task")

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.callbacks: list[Callable[..., Any]] = []
        self.errbacks: list[Callable[[BaseException], Any]] = []
        self.task: Task | None = None


class Changes:
    _http: Http
    _path: str
    _server: Server
    _subscriptions: dict[str, _Subscription]
    _status_callbacks: list[StatusCallback]
    _follower_class: ClassVar[type[Follower]]

    def follow(
        self,
        since: Any = None,
        *,
        feed: str = "continuous",
        filter: str | None = None,
        view: str | None = None,
        doc_ids: list[str] | None = None,
        selector: dict[str, Any] | None = None,
        filter_params: dict[str, Any] | None = None,
        heartbeat: int = 10_000,
        limit: int | None = None,
        page_size: int = 1000,
        backoff: Backoff | None = None,
        status: StatusCallback | None = None,
        **options: Any,
    ) -> Follower:
        """Follow ``GET /{db}/_changes`` from ``since`` (``"now"``: new changes only).

        ``feed`` is ``continuous`` (the default: follows for ever), ``longpoll``
        (follows by repeated polls) or ``normal`` (ends when caught up). Filters:
        ``filter="ddoc/name"`` with ``filter_params``, ``view="ddoc/view"``,
        ``doc_ids=[...]`` and ``selector={...}`` (both sent as a POST body),
        ``filter="_design"``. Other options are CouchDB's: ``include_docs``,
        ``conflicts``, ``attachments``, ``style="all_docs"``, ``descending``
        (normal feed), ``seq_interval``, ``timeout``; ``limit`` ends the feed
        after that many changes, ``heartbeat`` (ms) also bounds how long a silent
        connection is trusted. ``backoff`` sets the reconnect policy (default:
        forever) and ``status(state, error)`` hears connected / disconnected /
        reconnecting / stopped. No request is sent until iteration starts.
        """
        request = changes_request(
            self._path,
            since=since,
            feed=feed,
            filter=filter,
            view=view,
            doc_ids=doc_ids,
            selector=selector,
            filter_params=filter_params,
            heartbeat=heartbeat,
            limit=limit,
            page_size=page_size,
            **options,
        )
        return self._follower_class(self._server, request, backoff=backoff, status=status)

    # --- the seed's callback registry -------------------------------------------

    def changes(
        self,
        cb: Callable[..., Any] | None = None,
        since: Any = None,
        filter: str | None = None,
        view: str | None = None,
        errback: Callable[[BaseException], Any] | None = None,
        **options: Any,
    ) -> None:
        """Call ``cb(changes, viewID=view)`` with each batch of changes, as the seed did.

        Callbacks registered with the same ``filter``, ``view`` and options share
        one continuous feed, which starts after ``since``. A callback that returns
        an awaitable (a Deferred under Twisted) is awaited before more changes are
        read. The feed reconnects after network failures and resumes after the
        last change delivered; an error retrying cannot fix stops it and is
        passed to each ``errback`` (or logged). Options are those of ``follow()``.
        """
        if not callable(cb):
            raise InvalidType("changes() needs a callable cb")
        if errback is not None and not callable(errback):
            raise InvalidType("errback must be callable")
        if "feed" in options:
            raise InvalidArgument("changes() always follows a continuous feed; use follow() for others")
        key = _key(filter, view, options)
        sub = self._subscriptions.get(key)
        if sub is None:
            follower = self.follow(since, filter=filter, view=view, status=self._fan_out_status, **options)
            sub = self._subscriptions[key] = _Subscription(follower)
            sub.task = self._server._spawn(self._deliver(key, sub, view))
        if cb not in sub.callbacks:
            sub.callbacks.append(cb)
        if errback is not None and errback not in sub.errbacks:
            sub.errbacks.append(errback)

    def unchanges(
        self,
        cb: Callable[..., Any] | None = None,
        since: Any = None,
        filter: str | None = None,
        view: str | None = None,
        **options: Any,
    ) -> None:
        """Stop calling ``cb`` (every callback, without one) for this filter, view and options.

        When no callback is left, the feed and its connection are closed at once.
        ``since`` is accepted for the seed's call shape and not used.
        """
        key = _key(filter, view, options)
        sub = self._subscriptions.get(key)
        if sub is None:
            return
        if cb is None:
            sub.callbacks.clear()
        elif cb in sub.callbacks:
            sub.callbacks.remove(cb)
        if not sub.callbacks:
            self._unsubscribe(key, sub)

    def addConnectionStatusCallback(self, cb: StatusCallback) -> None:
        """Call ``cb(state, error)`` when a ``changes()`` feed connects, drops, reconnects or stops."""
        if not callable(cb):
            raise InvalidType("a status callback must be callable")
        if cb not in self._status_callbacks:
            self._status_callbacks.append(cb)

    def removeConnectionStatusCallback(self, cb: StatusCallback) -> None:
        if cb in self._status_callbacks:
            self._status_callbacks.remove(cb)

    def _fan_out_status(self, state: str, error: BaseException | None) -> None:
        for cb in list(self._status_callbacks):
            try:
                cb(state, error)
            except Exception:
                log.exception("connection status callback %r failed", cb)

    def _unsubscribe(self, key: str, sub: _Subscription) -> None:
        if self._subscriptions.get(key) is sub:
            del self._subscriptions[key]
        if sub.task is not None:
            self._server._forget(sub.task)
            sub.task.cancel()
        sub.follower._stop()

    async def _deliver(self, key: str, sub: _Subscription, view: str | None) -> None:
        runtime = self._http.runtime
        try:
            async for batch in sub.follower.batches():
                for cb in list(sub.callbacks):
                    try:
                        result = cb(batch, viewID=view)
                        if runtime.is_awaitable(result):
                            await result
                    except Exception as exc:
                        if runtime.is_cancellation(exc):
                            raise
                        log.exception("changes callback %r failed; the feed goes on", cb)
        except Exception as exc:
            if runtime.is_cancellation(exc):
                raise
            if self._subscriptions.get(key) is sub:
                del self._subscriptions[key]
            if not sub.errbacks:
                log.error("changes feed of %s stopped: %s", self._http.url(self._path), exc)
            for errback in sub.errbacks:
                errback(exc)


def _key(filter: Any, view: Any, options: dict[str, Any]) -> str:
    if view is not None and filter is None:
        filter = "_view"
    return dumps([filter, view, dict(sorted(options.items()))]).decode()
