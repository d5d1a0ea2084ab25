"""Replication: ``/_replicate``, ``_replicator`` documents and the ``/_scheduler``.

Rules kept here:

- An endpoint (source or target) is sent as CouchDB 3.x reads it:

  - a URL string (``http://`` or ``https://``) as given;
  - any other string as a database name of the server asked: CouchDB 3.x
    puts its own address in front (deprecated, but accepted by CouchDB 3 and
    PouchDB Server alike);
  - a ``Database`` as its URL. When its server has credentials they go in
    the 3.x endpoint object ``{"url": ..., "auth": {"basic": {"username",
    "password"}}}``, never into the URL; without credentials the URL alone
    is sent, as a string;
  - a dict as given (it must hold a ``url``), for ``headers`` or other auth.

- ``doc_ids``, ``filter`` and ``selector`` pick documents in exclusive ways:
  at most one is accepted. Every other CouchDB option is checked by name and
  type before sending.
- ``replicate(..., cancel=True)`` cancels the replication that the same
  arguments started: CouchDB finds it by the id it derives from the body.
  ``cancel_replication(id)`` cancels by the ``_local_id`` CouchDB answered.
- A replication document lives in ``_replicator`` or in another database
  whose name ends with ``/_replicator``; its id is an ordinary document id
  (CouchDB ignores design and local documents there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .._core.checks import flag, mapping, refuse_unknown, seq
from .._core.client import Resource
from .._core.errors import Conflict, InvalidArgument, InvalidType, NotFound
from .._core.params import Options, query_string
from .._core.urls import db_segment, doc_segment, redact, segment

__all__ = [
    "REPLICATION_OPTIONS",
    "SERVER_TIMEOUT",
    "Replication",
    "endpoint",
    "replication_body",
    "replicator_db_segment",
]


class _ServerTimeout:
    def __repr__(self) -> str:
        return "SERVER_TIMEOUT"


SERVER_TIMEOUT: Any = _ServerTimeout()
"""The default ``read_timeout`` of ``replicate()``: the Server's own."""


def _is_bool(value: object) -> bool:
    return isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_str(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_dict(value: object) -> bool:
    return isinstance(value, Mapping)


# Option name -> (check, what a good value is); the options CouchDB's replicator reads.
REPLICATION_OPTIONS: Mapping[str, tuple[Callable[[object], bool], str]] = {
    "create_target_params": (_is_dict, "a dict such as {'q': 1, 'n': 1}"),
    "query_params": (_is_dict, "a dict of the filter function's parameters"),
    "winning_revs_only": (_is_bool, "a bool"),
    "use_checkpoints": (_is_bool, "a bool"),
    "use_bulk_get": (_is_bool, "a bool"),
    "checkpoint_interval": (_is_int, "milliseconds, an int"),
    "worker_processes": (_is_int, "an int"),
    "worker_batch_size": (_is_int, "an int"),
    "http_connections": (_is_int, "an int"),
    "connection_timeout": (_is_int, "milliseconds, an int"),
    "retries_per_request": (_is_int, "an int"),
    "socket_options": (_is_str, "an Erlang term as a str"),
    "source_proxy": (_is_str, "a proxy URL str"),
    "target_proxy": (_is_str, "a proxy URL str"),
    "user_ctx": (_is_dict, "a dict with name and roles"),
}

_SCHEDULER_JOBS = Options("scheduler", text=("limit", "skip"))
_SCHEDULER_DOCS = Options("scheduler", text=("limit", "skip", "states"))


def endpoint(value: object, what: str) -> Any:
    """The JSON CouchDB reads for a source or target (see the module's rules)."""
    if isinstance(value, Resource) and value._path:  # a Database
        client = value._client
        url = client.base + value._path
        credentials = client.auth.credentials() if client.auth is not None else None
        if credentials is None:
            return url
        user, password = credentials
        return {"url": url, "auth": {"basic": {"username": user, "password": password}}}
    if isinstance(value, str):
        if not value:
            raise InvalidArgument(f"{what} must not be empty")
        if "://" in value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidArgument(f"{what} must be an http(s) URL or a database name, not {redact(value)!r}")
        return value
    if isinstance(value, Mapping):
        if not isinstance(value.get("url"), str) or not value["url"]:
            raise InvalidArgument(f"a {what} given as a dict needs its 'url'")
        return dict(value)
    raise InvalidType(f"{what} must be a database name, a URL, a Database or a dict, not {type(value).__name__}")


def replication_body(
    source: object,
    target: object,
    *,
    continuous: bool = False,
    create_target: bool = False,
    doc_ids: object = None,
    filter: object = None,
    selector: object = None,
    since_seq: object = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON of a replication: a ``/_replicate`` body or a ``_replicator`` document."""
    body: dict[str, Any] = {"source": endpoint(source, "source"), "target": endpoint(target, "target")}
    for name, value in (("create_target", create_target), ("continuous", continuous)):
        if flag(value, name):
            body[name] = True
    pickers = [
        name for name, value in (("doc_ids", doc_ids), ("filter", filter), ("selector", selector)) if value is not None
    ]
    if len(pickers) > 1:
        raise InvalidArgument(f"give one of doc_ids, filter and selector, not {' and '.join(pickers)}")
    if doc_ids is not None:
        if not isinstance(doc_ids, (list, tuple)):
            raise InvalidType(f"doc_ids must be a list of ids, not {type(doc_ids).__name__}")
        for docid in doc_ids:
            if not isinstance(docid, str) or not docid:
                raise InvalidArgument(f"doc_ids must hold non-empty str ids, not {docid!r}")
        body["doc_ids"] = list(doc_ids)
    if filter is not None:
        if not isinstance(filter, str) or not filter:
            raise InvalidArgument(f"filter must be a 'ddoc/name' str, not {filter!r}")
        body["filter"] = filter
    if selector is not None:
        body["selector"] = dict(mapping(selector, "selector"))
    if since_seq is not None:
        body["since_seq"] = seq(since_seq, "since_seq")
    options = options or {}
    refuse_unknown(options, REPLICATION_OPTIONS, "replication")
    for name, value in options.items():
        check, good = REPLICATION_OPTIONS[name]
        if not check(value):
            raise InvalidArgument(f"replication option {name} must be {good}, not {value!r}")
        body[name] = dict(value) if isinstance(value, Mapping) else value
    return body


def replicator_db_segment(name: object) -> str:
    """``_replicator``, or another replicator database (its name ends with ``/_replicator``)."""
    if isinstance(name, str) and name != "_replicator" and not name.endswith("/_replicator"):
        raise InvalidArgument(f"a replicator database is '_replicator' or ends with '/_replicator', not {name!r}")
    return db_segment(name)


def _replication_doc_segment(docid: object) -> str:
    if isinstance(docid, str) and docid.startswith("_"):
        raise InvalidArgument(f"a replication document id cannot start with '_': {docid!r}")
    return doc_segment(docid)


def _scheduler_query(params: dict[str, Any], options: Options) -> str:
    options.check(params)
    states = params.get("states")
    if isinstance(states, (list, tuple)):
        if not all(isinstance(state, str) and state for state in states):
            raise InvalidArgument(f"states must be state names, not {states!r}")
        params = {**params, "states": ",".join(states)}
    for name in ("limit", "skip"):
        if name in params and not _is_int(params[name]):
            raise InvalidArgument(f"{name} must be a non-negative int, not {params[name]!r}")
    return options.query(params)


class Replication(Resource):
    async def replicate(
        self,
        source: Any,
        target: Any,
        *,
        continuous: bool = False,
        cancel: bool = False,
        create_target: bool = False,
        doc_ids: list[str] | None = None,
        filter: str | None = None,
        selector: dict[str, Any] | None = None,
        since_seq: Any = None,
        replication_id: str | None = None,
        read_timeout: float | None = SERVER_TIMEOUT,
        **options: Any,
    ) -> dict[str, Any]:
        """``POST /_replicate``: replicate ``source`` into ``target``.

        ``source`` and ``target`` are database names of this server, URLs,
        ``Database`` objects (their credentials sent in the 3.x ``auth``
        object) or endpoint dicts. A one-shot replication answers when it is
        done, with its history; ``continuous=True`` answers at once with the
        ``_local_id`` to cancel it by. ``cancel=True`` with the same
        arguments (or ``replication_id=`` alone) stops a running one. Other
        CouchDB options (``create_target_params``, ``query_params``,
        ``winning_revs_only``, ``checkpoint_interval``...) go as keywords.
        ``read_timeout`` (seconds; None waits as long as it takes) replaces
        the server's for this request, since a one-shot replication may take
        longer than any other request.
        """
        if replication_id is not None:
            if not cancel:
                raise InvalidArgument("replication_id only cancels a replication: give cancel=True")
            others = (source, target, doc_ids, filter, selector, since_seq)
            if any(value is not None for value in others) or continuous or create_target or options:
                raise InvalidArgument("cancel by replication_id alone, or by the arguments that started it, not both")
            body: dict[str, Any] = {"replication_id": _replication_id(replication_id), "cancel": True}
        else:
            body = replication_body(
                source,
                target,
                continuous=continuous,
                create_target=create_target,
                doc_ids=doc_ids,
                filter=filter,
                selector=selector,
                since_seq=since_seq,
                options=options,
            )
            if flag(cancel, "cancel"):
                body["cancel"] = True
        timeout: dict[str, Any] = {}
        if read_timeout is not SERVER_TIMEOUT:
            if read_timeout is not None and (
                isinstance(read_timeout, bool) or not isinstance(read_timeout, (int, float))
            ):
                raise InvalidType(
                    f"read_timeout must be a number of seconds or None, not {type(read_timeout).__name__}"
                )
            timeout["read_timeout"] = read_timeout
        return await self._client.json_dict("POST", "/_replicate", "", body, **timeout)

    async def cancel_replication(self, replication_id: str | Mapping[str, Any]) -> dict[str, Any]:
        """``POST /_replicate`` with ``{"replication_id": ..., "cancel": true}``: stop a replication.

        ``replication_id`` is the ``_local_id`` that ``replicate(...,
        continuous=True)`` answered (that answer itself is accepted too), or
        a job's ``id`` from ``scheduler_jobs()``. CouchDB answers 404 for a
        replication that is not running. PouchDB Server cannot cancel by id:
        cancel with ``replicate(source, target, ..., cancel=True)`` there.
        """
        given: object = replication_id
        if isinstance(given, Mapping):
            given = given.get("_local_id") or given.get("id")
        body = {"replication_id": _replication_id(given), "cancel": True}
        return await self._client.json_dict("POST", "/_replicate", "", body)

    async def start_replication(
        self,
        docid: str,
        source: Any,
        target: Any,
        *,
        continuous: bool = False,
        create_target: bool = False,
        doc_ids: list[str] | None = None,
        filter: str | None = None,
        selector: dict[str, Any] | None = None,
        since_seq: Any = None,
        replicator_db: str = "_replicator",
        **options: Any,
    ) -> dict[str, Any]:
        """``PUT /_replicator/{docid}``: a replication kept by the server, as a document.

        Takes the same endpoints and options as ``replicate()``. The server
        runs it (and restarts it after a restart) until it completes or
        ``stop_replication(docid)`` deletes the document; follow it with
        ``replication_state(docid)``. Returns ``{"ok", "id", "rev"}``.
        """
        path = f"/{replicator_db_segment(replicator_db)}/{_replication_doc_segment(docid)}"
        body = replication_body(
            source,
            target,
            continuous=continuous,
            create_target=create_target,
            doc_ids=doc_ids,
            filter=filter,
            selector=selector,
            since_seq=since_seq,
            options=options,
        )
        return await self._client.write("PUT", path, "", body)

    async def stop_replication(self, docid: str, replicator_db: str = "_replicator") -> dict[str, Any]:
        """``DELETE /_replicator/{docid}?rev=``: delete the replication document, which stops it.

        Reads the current rev first; when the replicator updates the document
        in between (it records the state there), reads it again. On a cluster
        a copy that had not yet seen the replicator's update may take the
        delete as a branch of its own (CouchDB answers 202) while the updated
        document lives on: then it is read and deleted again.
        """
        path = f"/{replicator_db_segment(replicator_db)}/{_replication_doc_segment(docid)}"
        result: dict[str, Any] = {}
        for attempt in range(5):
            try:
                rev = (await self._client.json_dict("GET", path))["_rev"]
            except NotFound:
                if not result:
                    raise
                return result  # the accepted delete took
            try:
                result = await self._client.write("DELETE", path, query_string({"rev": rev}))
            except Conflict:
                if attempt == 4:
                    raise
                continue
            if not result.get("accepted"):
                return result
        return result

    async def replication_state(self, docid: str, replicator_db: str = "_replicator") -> str:
        """The state of a replication document, from ``GET /_scheduler/docs/{replicator_db}/{docid}``.

        One of ``initializing``, ``running``, ``pending``, ``crashing``,
        ``error``, ``completed`` and ``failed``. Raises ``NotFound`` until the
        scheduler has seen the document (a moment after it is saved).
        """
        state: str = (await self.scheduler_doc(docid, replicator_db))["state"]
        return state

    async def scheduler_jobs(self, **params: Any) -> dict[str, Any]:
        """``GET /_scheduler/jobs``: the replications running now (``limit``, ``skip``).

        ``{"total_rows", "offset", "jobs": [...]}``, each job with its ``id``,
        ``source``, ``target``, ``doc_id`` (None for ``/_replicate`` ones)
        and its ``history`` of state changes.
        """
        return await self._client.json_dict("GET", "/_scheduler/jobs", _scheduler_query(params, _SCHEDULER_JOBS))

    async def scheduler_job(self, job_id: str) -> dict[str, Any]:
        """``GET /_scheduler/jobs/{job_id}``: one running replication, by its replication id."""
        return await self._client.json_dict("GET", "/_scheduler/jobs/" + segment(job_id, "job id"))

    async def scheduler_docs(self, replicator_db: str | None = None, **params: Any) -> dict[str, Any]:
        """``GET /_scheduler/docs[/{replicator_db}]``: every replication document and its state.

        ``{"total_rows", "offset", "docs": [...]}``, completed and failed ones
        included; ``limit``, ``skip`` and ``states`` (a list, or CouchDB's
        comma-separated text) narrow it.
        """
        path = "/_scheduler/docs"
        if replicator_db is not None:
            path += "/" + replicator_db_segment(replicator_db)
        return await self._client.json_dict("GET", path, _scheduler_query(params, _SCHEDULER_DOCS))

    async def scheduler_doc(self, docid: str, replicator_db: str = "_replicator") -> dict[str, Any]:
        """``GET /_scheduler/docs/{replicator_db}/{docid}``: one replication document's state."""
        path = f"/_scheduler/docs/{replicator_db_segment(replicator_db)}/{_replication_doc_segment(docid)}"
        return await self._client.json_dict("GET", path)


def _replication_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"a replication id is a non-empty str, not {value!r}")
    return value
