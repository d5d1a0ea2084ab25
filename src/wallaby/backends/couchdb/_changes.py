"""Changes feeds: the follower loop and the seed's callback registry.

Rules kept here:

- The resume position moves only past changes the consumer has finished
  with, so a reconnect continues from exactly the last change handed over.
- A dropped, reset or timed-out connection, or a 5xx, leads to a reconnect
  after a backoff; any other error ends the feed and is handed to ``errback``.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from ._errors import InvalidArgument, InvalidType, NetworkError, ServerError
from ._json import dumps, loads
from ._params import CHANGES_PARAMS, check_params, query_string
from ._wire import LineSplitter

if TYPE_CHECKING:
    from ._http import Http
    from ._runtime import Task
    from ._server import Server

__all__ = ["Changes", "follow_batches"]

log = logging.getLogger("wallaby.backends.couchdb")

_DEFAULT_HEARTBEAT_MS = 10_000
_RETRYABLE = (NetworkError, ServerError)


def _backoff(attempt: int, first: float = 0.1, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, first * 2**attempt))


async def follow_batches(http: Http, path: str, since: Any, params: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
    """Follow ``{path}/_changes`` continuously; yield each chunk's changes as a list."""
    heartbeat = params.pop("heartbeat", _DEFAULT_HEARTBEAT_MS)
    doc_ids = params.pop("doc_ids", None)
    body = dumps({"doc_ids": doc_ids}) if doc_ids is not None else None
    if doc_ids is not None:
        params.setdefault("filter", "_doc_ids")
    read_timeout = max(2 * heartbeat, heartbeat + 5000) / 1000
    attempt = 0
    while True:
        query = {**params, "feed": "continuous", "heartbeat": heartbeat}
        if since is not None:
            query["since"] = since
        response = None
        try:
            response = await http.send(
                "POST" if body is not None else "GET",
                f"{path}/_changes",
                query_string(query, CHANGES_PARAMS),
                body=body,
                content_type="application/json" if body is not None else None,
                read_timeout=read_timeout,
            )
            attempt = 0
            lines = LineSplitter()
            async for chunk in response.chunks():
                batch = []
                for line in lines.feed(chunk):
                    row = loads(line)
                    if "last_seq" in row:
                        since = row["last_seq"]
                    elif "seq" in row:
                        batch.append(row)
                if batch:
                    yield batch
                    since = batch[-1]["seq"]
        except _RETRYABLE as exc:
            delay = _backoff(attempt)
            attempt += 1
            log.info("changes feed of %s cut (%s); reconnecting in %.2fs", http.url(path), exc, delay)
            await http.runtime.sleep(delay)
        finally:
            if response is not None:
                response.close()


class _Subscription:
    __slots__ = ("callbacks", "errbacks", "task")

    def __init__(self) -> None:
        self.callbacks: list[Callable[..., Any]] = []
        self.errbacks: list[Callable[[BaseException], Any]] = []
        self.task: Task | None = None


def _key(filter: Any, view: Any, params: dict[str, Any]) -> tuple[Any, ...]:
    return (filter, view, dumps(dict(sorted(params.items()))))


class Changes:
    _http: Http
    _path: str
    _server: Server
    _subscriptions: dict[tuple[Any, ...], _Subscription]

    def changes(
        self,
        cb: Callable[..., Any] | None = None,
        since: Any = None,
        filter: str | None = None,
        view: str | None = None,
        errback: Callable[[BaseException], Any] | None = None,
        **params: Any,
    ) -> None:
        """Call ``cb(changes, viewID=view)`` with each batch of ``GET /{db}/_changes``.

        The seed's registry: callbacks registered with the same ``filter``,
        ``view`` and options share one continuous feed, which starts after
        ``since`` (``"now"`` for new changes only). A callback that returns an
        awaitable is awaited before more changes are read. The feed reconnects
        after a network failure and resumes after the last change delivered; an
        error retrying cannot fix stops it and is passed to ``errback``.
        """
        if not callable(cb):
            raise InvalidType("changes() needs a callable cb")
        if errback is not None and not callable(errback):
            raise InvalidType("errback must be callable")
        if view is not None and filter is None:
            filter = "_view"
        for name, value in (("filter", filter), ("view", view)):
            if value is not None and not isinstance(value, str):
                raise InvalidType(f"{name} must be a str, not {type(value).__name__}")
        check_params(params, CHANGES_PARAMS, "changes")
        for name in ("feed", "since", "filter", "view"):
            if name in params:
                raise InvalidArgument(f"changes() sets {name} itself")
        key = _key(filter, view, params)
        sub = self._subscriptions.get(key)
        if sub is None:
            sub = self._subscriptions[key] = _Subscription()
            query = dict(params)
            if filter is not None:
                query["filter"] = filter
            if view is not None:
                query["view"] = view
            sub.task = self._server._spawn(self._deliver(key, sub, since, query, view))
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
        **params: Any,
    ) -> None:
        """Stop calling ``cb`` (every callback, without one) for this filter and view.

        When no callback is left the feed is closed. ``since`` is accepted for
        the seed's call shape and not used.
        """
        if view is not None and filter is None:
            filter = "_view"
        key = _key(filter, view, params)
        sub = self._subscriptions.get(key)
        if sub is None:
            return
        if cb is None:
            sub.callbacks.clear()
        elif cb in sub.callbacks:
            sub.callbacks.remove(cb)
        if not sub.callbacks:
            self._stop(key, sub)

    def _stop(self, key: tuple[Any, ...], sub: _Subscription) -> None:
        if self._subscriptions.get(key) is sub:
            del self._subscriptions[key]
        if sub.task is not None:
            self._server._forget(sub.task)
            sub.task.cancel()

    async def _deliver(self, key: tuple[Any, ...], sub: _Subscription, since: Any, query: dict[str, Any], view: str | None) -> None:
        runtime = self._http.runtime
        try:
            async for batch in follow_batches(self._http, self._path, since, query):
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
