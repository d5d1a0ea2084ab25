"""Changes: ``follow()`` of ``/{db}/_changes`` and ``/_db_updates``, and the seed's ``changes``/``unchanges``.

Rules kept here:

- ``follow()`` checks every option before anything is sent; ``doc_ids`` and
  ``selector`` go in a POST body, ``view`` implies ``filter=_view``, and a
  filter can't be combined with another filter's options.
- The seed's registry: callbacks registered with the same ``filter``,
  ``view`` and options share one continuous feed; the feed is closed at
  once when its last callback goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from typing import Any

from .._core.checks import mapping
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType
from .._core.feeds import FeedRequest, Follower, StatusCallback, StatusCallbacks, feed_request
from .._core.json import dumps
from .._core.retry import Backoff
from .._core.runtime import Task

__all__ = ["Changes", "DbUpdates", "changes_request", "db_updates_request"]

log = logging.getLogger("wallaby.backends.couchdb.changes")

_DEFAULT_HEARTBEAT_MS = 10_000
_DEFAULT_PAGE = 1000

# _changes options sent as they are, as text
_PASSTHROUGH = frozenset(
    {"include_docs", "conflicts", "attachments", "att_encoding_info", "style", "descending", "seq_interval", "timeout"}
)


def changes_request(
    path: str,
    *,
    since: Any = None,
    feed: str = "continuous",
    filter: str | None = None,
    view: str | None = None,
    doc_ids: list[str] | None = None,
    selector: dict[str, Any] | None = None,
    filter_params: dict[str, Any] | None = None,
    heartbeat: int = _DEFAULT_HEARTBEAT_MS,
    limit: int | None = None,
    page_size: int = _DEFAULT_PAGE,
    **options: Any,
) -> FeedRequest:
    """Check the options of ``GET /{db}/_changes`` and turn them into a FeedRequest."""
    unknown = sorted(set(options) - _PASSTHROUGH)
    if unknown:
        raise InvalidArgument(f"unknown changes option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if options.get("descending") and feed != "normal":
        raise InvalidArgument("descending works only with feed='normal'")
    query = {name: value for name, value in options.items() if value is not None}
    body = None
    if doc_ids is not None:
        if not isinstance(doc_ids, (list, tuple)) or not all(isinstance(i, str) for i in doc_ids):
            raise InvalidType("doc_ids must be a list of str")
        filter = _one_filter(filter, "_doc_ids")
        body = dumps({"doc_ids": list(doc_ids)})
    if selector is not None:
        mapping(selector, "selector")
        filter = _one_filter(filter, "_selector")
        body = dumps({"selector": selector})
    if view is not None:
        if not isinstance(view, str) or view.count("/") != 1:
            raise InvalidArgument(f"view must be 'DDOC/VIEW', not {view!r}")
        filter = _one_filter(filter, "_view")
        query["view"] = view
    if filter is not None:
        if not isinstance(filter, str):
            raise InvalidType(f"filter must be a str, not {type(filter).__name__}")
        if filter in ("_doc_ids", "_selector") and body is None:
            raise InvalidArgument(f"filter={filter} needs {'doc_ids' if filter == '_doc_ids' else 'selector'}=")
        if filter == "_view" and "view" not in query:
            raise InvalidArgument("filter=_view needs view='DDOC/VIEW'")
        if not filter.startswith("_") and filter.count("/") != 1:
            raise InvalidArgument(f"filter must be 'DDOC/FILTER' or a built-in one, not {filter!r}")
        query["filter"] = filter
    if filter_params:
        mapping(filter_params, "filter_params")
        clash = set(filter_params) & {"feed", "since", "limit", "heartbeat", "filter", "view", *_PASSTHROUGH}
        if clash:
            raise InvalidArgument(f"filter_params may not set {', '.join(sorted(clash))}")
        query.update(filter_params)
    return feed_request(
        f"{path}/_changes",
        feed=feed,
        since=since,
        heartbeat=heartbeat,
        limit=limit,
        page_size=page_size,
        query=query,
        body=body,
    )


def _one_filter(given: str | None, implied: str) -> str:
    if given is not None and given != implied:
        raise InvalidArgument(f"filter={given!r} cannot be combined with the options of {implied}")
    return implied


def db_updates_request(
    *,
    since: Any = None,
    feed: str = "continuous",
    heartbeat: int = _DEFAULT_HEARTBEAT_MS,
    limit: int | None = None,
    page_size: int = _DEFAULT_PAGE,
) -> FeedRequest:
    """Check the options of ``GET /_db_updates`` and turn them into a FeedRequest."""
    return feed_request("/_db_updates", feed=feed, since=since, heartbeat=heartbeat, limit=limit, page_size=page_size)


class _Subscription:
    __slots__ = ("follower", "callbacks", "errbacks", "task")

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.callbacks: list[Callable[..., Any]] = []
        self.errbacks: list[Callable[[BaseException], Any]] = []
        self.task: Task | None = None


class _Registry:
    """The seed's ``changes()`` callbacks of one Database: its shared feeds and who hears their state."""

    __slots__ = ("subscriptions", "status")

    def __init__(self) -> None:
        self.subscriptions: dict[str, _Subscription] = {}
        self.status = StatusCallbacks()


class Changes(Resource):
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
        heartbeat: int = _DEFAULT_HEARTBEAT_MS,
        limit: int | None = None,
        page_size: int = _DEFAULT_PAGE,
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
        return self._client.follow(request, backoff, status)

    # --- the seed's callback registry -------------------------------------------

    @cached_property
    def _registry(self) -> _Registry:
        return _Registry()

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
        registry = self._registry
        key = _key(filter, view, options)
        sub = registry.subscriptions.get(key)
        new = sub is None
        if sub is None:
            follower = self.follow(since, filter=filter, view=view, status=registry.status, **options)
            sub = registry.subscriptions[key] = _Subscription(follower)
        if cb not in sub.callbacks:
            sub.callbacks.append(cb)
        if errback is not None and errback not in sub.errbacks:
            sub.errbacks.append(errback)
        if new:  # after the callbacks are in: under Twisted a feed may run (and fail) before spawn returns
            sub.task = self._client.spawn(self._deliver(key, sub, view))

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
        sub = self._registry.subscriptions.get(key)
        if sub is None:
            return
        if cb is None:
            sub.callbacks.clear()
        elif cb in sub.callbacks:
            sub.callbacks.remove(cb)
        if not sub.callbacks:
            self._unsubscribe(key, sub)

    def addConnectionStatusCallback(self, cb: StatusCallback) -> None:  # noqa: N802 (the seed's name)
        """Call ``cb(state, error)`` when a ``changes()`` feed connects, drops, reconnects or stops."""
        self._registry.status.add(cb)

    def removeConnectionStatusCallback(self, cb: StatusCallback) -> None:  # noqa: N802 (the seed's name)
        """Stop calling ``cb`` when a ``changes()`` feed changes state."""
        self._registry.status.remove(cb)

    def _stop_changes(self) -> None:
        """Stop every ``changes()`` feed of this database."""
        for key, sub in list(self._registry.subscriptions.items()):
            self._unsubscribe(key, sub)

    def _unsubscribe(self, key: str, sub: _Subscription) -> None:
        subscriptions = self._registry.subscriptions
        if subscriptions.get(key) is sub:
            del subscriptions[key]
        if sub.task is not None:
            sub.task.cancel()
        sub.follower._stop()

    async def _deliver(self, key: str, sub: _Subscription, view: str | None) -> None:
        runtime = self._client.runtime
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
            subscriptions = self._registry.subscriptions
            if subscriptions.get(key) is sub:
                del subscriptions[key]
            if not sub.errbacks:
                log.error("changes feed of %s stopped: %s", self._client.url(self._path), exc)
            for errback in sub.errbacks:
                errback(exc)


class DbUpdates(Resource):
    def db_updates(
        self,
        since: Any = None,
        *,
        feed: str = "continuous",
        heartbeat: int = _DEFAULT_HEARTBEAT_MS,
        limit: int | None = None,
        page_size: int = _DEFAULT_PAGE,
        backoff: Backoff | None = None,
        status: StatusCallback | None = None,
    ) -> Follower:
        """Follow ``GET /_db_updates``: every database created, updated or deleted.

        The same Follower as ``Database.follow()``, with the same guarantees
        (resume from ``last_seq``, reconnect with backoff, typed errors). CouchDB
        answers 404 until the ``_global_changes`` database exists.
        """
        request = db_updates_request(since=since, feed=feed, heartbeat=heartbeat, limit=limit, page_size=page_size)
        return self._client.follow(request, backoff, status)


def _key(filter: Any, view: Any, options: dict[str, Any]) -> str:
    if view is not None and filter is None:
        filter = "_view"
    return dumps([filter, view, dict(sorted(options.items()))]).decode()
