# Written by tests/typecheck/stubgen.py (./dev stubs): do not edit by hand.
# The Twisted flavour as type checkers see it: the core's classes, each coroutine returning a Deferred.

import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, BinaryIO, Generic, TypeVar

from twisted.internet.defer import Deferred
from typing_extensions import Self, Unpack

from wallaby.backends.couchdb._api.conflicts import Chooser
from wallaby.backends.couchdb._api.design import Rendered
from wallaby.backends.couchdb._api.open_revs import Revision
from wallaby.backends.couchdb._core.feeds import StatusCallback, _Batches
from wallaby.backends.couchdb._replicator.options import ReplicationOptions
from wallaby.backends.couchdb._replicator.progress import EventIterator

from .._core.public import (
    Backoff as Backoff,
    BadRequest as BadRequest,
    ClientError as ClientError,
    Conflict as Conflict,
    CouchDBError as CouchDBError,
    DocumentUpdateConflict as DocumentUpdateConflict,
    Forbidden as Forbidden,
    InvalidArgument as InvalidArgument,
    InvalidType as InvalidType,
    NetworkError as NetworkError,
    NotFound as NotFound,
    PreconditionFailed as PreconditionFailed,
    ProtocolError as ProtocolError,
    ResponseError as ResponseError,
    ServerError as ServerError,
    Timeout as Timeout,
    TLSConfig as TLSConfig,
    TLSError as TLSError,
    TruncatedBody as TruncatedBody,
    Unauthorized as Unauthorized,
    UnknownError as UnknownError,
    ViewBadRequest as ViewBadRequest,
    ViewClientError as ViewClientError,
    ViewConflict as ViewConflict,
    ViewError as ViewError,
    ViewForbidden as ViewForbidden,
    ViewNotFound as ViewNotFound,
    ViewPreconditionFailed as ViewPreconditionFailed,
    ViewServerError as ViewServerError,
    ViewUnauthorized as ViewUnauthorized,
)
from .._replicator.progress import (
    ReplicationEvent as ReplicationEvent,
    ReplicationResult as ReplicationResult,
    SyncResult as SyncResult,
)

__all__ = [
    "Server",
    "Database",
    "Follower",
    "Stream",
    "Replication",
    "Sync",
    "replicate",
    "sync",
    "Backoff",
    "TLSConfig",
    "BadRequest",
    "ClientError",
    "Conflict",
    "CouchDBError",
    "DocumentUpdateConflict",
    "Forbidden",
    "InvalidArgument",
    "InvalidType",
    "NetworkError",
    "NotFound",
    "PreconditionFailed",
    "ProtocolError",
    "ResponseError",
    "ServerError",
    "TLSError",
    "Timeout",
    "TruncatedBody",
    "Unauthorized",
    "UnknownError",
    "ViewBadRequest",
    "ViewClientError",
    "ViewConflict",
    "ViewError",
    "ViewForbidden",
    "ViewNotFound",
    "ViewPreconditionFailed",
    "ViewServerError",
    "ViewUnauthorized",
    "ReplicationEvent",
    "ReplicationResult",
    "SyncResult",
]

_T = TypeVar("_T")

class Server:
    url: str
    def __aenter__(self) -> Deferred[Self]: ...
    def __aexit__(self, *exc: object) -> Deferred[None]: ...
    def __init__(
        self,
        url: str = ...,
        user: str | None = ...,
        password: str | None = ...,
        *,
        username: str | None = ...,
        connect_timeout: float | None = ...,
        read_timeout: float | None = ...,
        auth: str | None = ...,
        token: str | Callable[[], Any] | None = ...,
        proxy_user: str | None = ...,
        proxy_roles: Iterable[str] = ...,
        proxy_secret: str | None = ...,
        tls: TLSConfig | None = ...,
    ) -> None: ...
    def active_tasks(self) -> Deferred[list[dict[str, Any]]]: ...
    def all_dbs(self, **params: Any) -> Deferred[list[str]]: ...
    def cancel_replication(self, replication_id: str | Mapping[str, Any]) -> Deferred[dict[str, Any]]: ...
    def change_password(self, name: str, new_password: str) -> Deferred[dict[str, Any]]: ...
    def close(self) -> Deferred[None]: ...
    def cluster_setup(self, action: str | None = ..., **fields: Any) -> Deferred[dict[str, Any]]: ...
    def config(self, node: str = ..., section: str | None = ..., key: str | None = ...) -> Deferred[Any]: ...
    def create(self, name: str, **params: Any) -> Deferred[Database]: ...
    def create_user(
        self, name: str, password: str, roles: Iterable[str] = ..., **fields: Any
    ) -> Deferred[dict[str, Any]]: ...
    def database(self, name: str) -> Database: ...
    def db_updates(
        self,
        since: Any = ...,
        *,
        feed: str = ...,
        heartbeat: int = ...,
        limit: int | None = ...,
        page_size: int = ...,
        backoff: Backoff | None = ...,
        status: StatusCallback | None = ...,
    ) -> Follower: ...
    def dbs_info(self, keys: Sequence[str] | None = ..., **params: Any) -> Deferred[list[dict[str, Any]]]: ...
    def delete(self, name: str) -> Deferred[dict[str, Any]]: ...
    def delete_config(self, section: str, key: str, node: str = ..., *, persist: bool = ...) -> Deferred[str]: ...
    def delete_user(self, name: str, rev: str | None = ...) -> Deferred[dict[str, Any]]: ...
    def get_user(self, name: str) -> Deferred[dict[str, Any]]: ...
    def info(self) -> Deferred[dict[str, Any]]: ...
    def login(self, user: str | None = ..., password: str | None = ...) -> Deferred[dict[str, Any]]: ...
    def logout(self) -> Deferred[dict[str, Any]]: ...
    def membership(self) -> Deferred[dict[str, Any]]: ...
    def node_info(self, node: str = ...) -> Deferred[dict[str, Any]]: ...
    def reload_config(self, node: str = ...) -> Deferred[dict[str, Any]]: ...
    def replicate(
        self,
        source: Any,
        target: Any,
        *,
        continuous: bool = ...,
        cancel: bool = ...,
        create_target: bool = ...,
        doc_ids: list[str] | None = ...,
        filter: str | None = ...,
        selector: dict[str, Any] | None = ...,
        since_seq: Any = ...,
        replication_id: str | None = ...,
        read_timeout: float | None = ...,
        **options: Any,
    ) -> Deferred[dict[str, Any]]: ...
    def replication_state(self, docid: str, replicator_db: str = ...) -> Deferred[str]: ...
    def scheduler_doc(self, docid: str, replicator_db: str = ...) -> Deferred[dict[str, Any]]: ...
    def scheduler_docs(self, replicator_db: str | None = ..., **params: Any) -> Deferred[dict[str, Any]]: ...
    def scheduler_job(self, job_id: str) -> Deferred[dict[str, Any]]: ...
    def scheduler_jobs(self, **params: Any) -> Deferred[dict[str, Any]]: ...
    def session(self) -> Deferred[dict[str, Any]]: ...
    def set_config(
        self, section: str, key: str, value: Any, node: str = ..., *, persist: bool = ...
    ) -> Deferred[str]: ...
    def start_replication(
        self,
        docid: str,
        source: Any,
        target: Any,
        *,
        continuous: bool = ...,
        create_target: bool = ...,
        doc_ids: list[str] | None = ...,
        filter: str | None = ...,
        selector: dict[str, Any] | None = ...,
        since_seq: Any = ...,
        replicator_db: str = ...,
        **options: Any,
    ) -> Deferred[dict[str, Any]]: ...
    def stats(self, node: str = ..., path: str | Iterable[str] = ...) -> Deferred[Any]: ...
    def stop_replication(self, docid: str, replicator_db: str = ...) -> Deferred[dict[str, Any]]: ...
    def system(self, node: str = ...) -> Deferred[dict[str, Any]]: ...
    def up(self) -> Deferred[dict[str, Any]]: ...
    def update_user(
        self, name: str, *, password: str | None = ..., roles: Iterable[str] | None = ..., **fields: Any
    ) -> Deferred[dict[str, Any]]: ...
    @property
    def user(self) -> str | None: ...
    def uuids(self, count: int = ...) -> Deferred[list[str]]: ...
    def versions(self, node: str = ...) -> Deferred[dict[str, Any]]: ...

class Database:
    name: str
    server: Server
    def __aenter__(self) -> Deferred[Self]: ...
    def __aexit__(self, *exc: object) -> Deferred[None]: ...
    def __init__(
        self,
        name: str,
        user: str | None = ...,
        password: str | None = ...,
        url: str = ...,
        *,
        username: str | None = ...,
        server: Server | None = ...,
        **server_options: Any,
    ) -> None: ...
    def addConnectionStatusCallback(self, cb: StatusCallback) -> None: ...
    def all_docs(self, **params: Any) -> Deferred[Any]: ...
    def bulk_docs(
        self,
        docs: Sequence[MutableMapping[str, Any]],
        new_edits: bool = ...,
        all_or_nothing: bool = ...,
        w: int | None = ...,
    ) -> Deferred[list[dict[str, Any]]]: ...
    def bulk_get(
        self, docs: Sequence[str | Mapping[str, Any]], revs: bool = ..., latest: bool = ...
    ) -> Deferred[list[dict[str, Any]]]: ...
    def changes(
        self,
        cb: Callable[..., Any] | None = ...,
        since: Any = ...,
        filter: str | None = ...,
        view: str | None = ...,
        errback: Callable[[BaseException], Any] | None = ...,
        **options: Any,
    ) -> None: ...
    def close(self) -> Deferred[None]: ...
    def compact(self, ddoc: str | None = ...) -> Deferred[dict[str, Any]]: ...
    def conflicts(self, id: str) -> Deferred[list[str]]: ...
    def copy(
        self, source_id: str, dest_id: str, dest_rev: str | None = ..., *, rev: str | None = ...
    ) -> Deferred[dict[str, Any]]: ...
    def create(self, **params: Any) -> Deferred[dict[str, Any]]: ...
    def create_index(
        self,
        fields: Sequence[str | Mapping[str, str]],
        name: str | None = ...,
        ddoc: str | None = ...,
        type: str | None = ...,
        partial_filter_selector: Mapping[str, Any] | None = ...,
        partitioned: bool | None = ...,
        w: int | None = ...,
    ) -> Deferred[dict[str, Any]]: ...
    def delete(self, doc: MutableMapping[str, Any]) -> Deferred[Any]: ...
    def delete_attachment(self, doc: MutableMapping[str, Any], name: str) -> Deferred[Any]: ...
    def delete_index(self, ddoc: str, name: str, type: str = ...) -> Deferred[dict[str, Any]]: ...
    def design_docs(self, **params: Any) -> Deferred[Any]: ...
    def destroy(self) -> Deferred[dict[str, Any]]: ...
    def ensure_full_commit(self) -> Deferred[dict[str, Any]]: ...
    def exists(self, id: str) -> Deferred[bool]: ...
    def explain(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = ...,
        sort: Sequence[str | Mapping[str, str]] | None = ...,
        limit: int | None = ...,
        skip: int | None = ...,
        use_index: str | Sequence[str] | None = ...,
        bookmark: str | None = ...,
        partition: str | None = ...,
        **options: Any,
    ) -> Deferred[dict[str, Any]]: ...
    def find(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = ...,
        sort: Sequence[str | Mapping[str, str]] | None = ...,
        limit: int | None = ...,
        skip: int | None = ...,
        use_index: str | Sequence[str] | None = ...,
        execution_stats: bool = ...,
        bookmark: str | None = ...,
        partition: str | None = ...,
        **options: Any,
    ) -> Deferred[dict[str, Any]]: ...
    def find_all(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = ...,
        sort: Sequence[str | Mapping[str, str]] | None = ...,
        page_size: int = ...,
        use_index: str | Sequence[str] | None = ...,
        partition: str | None = ...,
        **options: Any,
    ) -> Stream[dict[str, Any]]: ...
    def follow(
        self,
        since: Any = ...,
        *,
        feed: str = ...,
        filter: str | None = ...,
        view: str | None = ...,
        doc_ids: list[str] | None = ...,
        selector: dict[str, Any] | None = ...,
        filter_params: dict[str, Any] | None = ...,
        heartbeat: int = ...,
        limit: int | None = ...,
        page_size: int = ...,
        backoff: Backoff | None = ...,
        status: StatusCallback | None = ...,
        **options: Any,
    ) -> Follower: ...
    def get(self, id: str, rev: str | None = ..., **params: Any) -> Deferred[Any]: ...
    def get_attachment(
        self,
        doc: MutableMapping[str, Any] | str,
        name: str,
        rev: str | None = ...,
        *,
        range: tuple[int, int | None] | None = ...,
    ) -> Deferred[bytes]: ...
    def head(self, id: str) -> Deferred[str | None]: ...
    def indexes(self, limit: int | None = ..., skip: int | None = ...) -> Deferred[list[dict[str, Any]]]: ...
    def info(self) -> Deferred[dict[str, Any]]: ...
    def list_view(self, ddoc: str, name: str, view: str, *, accept: str = ..., **params: Any) -> Deferred[Rendered]: ...
    def local_docs(self, **params: Any) -> Deferred[Any]: ...
    def missing_revs(self, revs: Mapping[str, Sequence[str]]) -> Deferred[dict[str, list[str]]]: ...
    def partition_info(self, partition: str) -> Deferred[dict[str, Any]]: ...
    def purge(self, revs: Mapping[str, Sequence[str]]) -> Deferred[dict[str, Any]]: ...
    def put_attachment(
        self,
        doc: MutableMapping[str, Any],
        name: str,
        data: bytes | str | BinaryIO | os.PathLike[str] | AsyncIterable[bytes],
        contentType: str | None = ...,
        *,
        content_type: str | None = ...,
        length: int | None = ...,
    ) -> Deferred[Any]: ...
    def put_design(
        self, name: str, views: Mapping[str, Any] | None = ..., **fields: Any
    ) -> Deferred[dict[str, Any]]: ...
    def removeConnectionStatusCallback(self, cb: StatusCallback) -> None: ...
    def resolve_conflicts(self, id: str, choose: Chooser | None = ...) -> Deferred[list[dict[str, Any]]]: ...
    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> Deferred[dict[str, Any]]: ...
    def revs_limit(self) -> Deferred[int]: ...
    def save(self, doc: MutableMapping[str, Any], **params: Any) -> Deferred[Any]: ...
    def save_with_attachments(
        self, doc: MutableMapping[str, Any], attachments: Mapping[str, Any], **params: Any
    ) -> Deferred[Any]: ...
    def security(self) -> Deferred[dict[str, Any]]: ...
    def set_revs_limit(self, limit: int) -> Deferred[dict[str, Any]]: ...
    def set_security(self, doc: Mapping[str, Any]) -> Deferred[dict[str, Any]]: ...
    def show(
        self, ddoc: str, name: str, docid: str | None = ..., *, accept: str = ..., **params: Any
    ) -> Deferred[Rendered]: ...
    def stream_all_docs(self, **params: Any) -> Stream[dict[str, Any]]: ...
    def stream_attachment(
        self,
        doc: MutableMapping[str, Any] | str,
        name: str,
        rev: str | None = ...,
        *,
        range: tuple[int, int | None] | None = ...,
    ) -> Stream[bytes]: ...
    def stream_bulk_get(
        self, docs: Sequence[str | Mapping[str, Any]], revs: bool = ..., latest: bool = ...
    ) -> Stream[dict[str, Any]]: ...
    def stream_find(
        self,
        selector: Mapping[str, Any],
        fields: Sequence[str] | None = ...,
        sort: Sequence[str | Mapping[str, str]] | None = ...,
        limit: int | None = ...,
        skip: int | None = ...,
        use_index: str | Sequence[str] | None = ...,
        execution_stats: bool = ...,
        bookmark: str | None = ...,
        partition: str | None = ...,
        **options: Any,
    ) -> Stream[dict[str, Any]]: ...
    def stream_open_revs(
        self, id: str, revs: Sequence[str] | str = ..., *, latest: bool = ..., atts_since: Sequence[str] | None = ...
    ) -> Stream[Revision]: ...
    def stream_view(self, path: str, **params: Any) -> Stream[dict[str, Any]]: ...
    def unchanges(
        self,
        cb: Callable[..., Any] | None = ...,
        since: Any = ...,
        filter: str | None = ...,
        view: str | None = ...,
        **options: Any,
    ) -> None: ...
    def update(
        self,
        ddoc: str,
        name: str,
        docid: str | None = ...,
        body: Any = ...,
        *,
        content_type: str | None = ...,
        accept: str = ...,
        **params: Any,
    ) -> Deferred[Rendered]: ...
    def view(self, path: str, **params: Any) -> Deferred[Any]: ...
    def view_cleanup(self) -> Deferred[dict[str, Any]]: ...
    def view_info(self, ddoc: str) -> Deferred[dict[str, Any]]: ...
    def view_queries(self, path: str, queries: Sequence[Mapping[str, Any]]) -> Deferred[list[dict[str, Any]]]: ...

class Follower:
    last_seq: Any
    pending: int | None
    def __aenter__(self) -> Deferred[Self]: ...
    def __aexit__(self, *exc: object) -> Deferred[None]: ...
    def __aiter__(self) -> Follower: ...
    async def __anext__(self) -> dict[str, Any]: ...
    def add_status_callback(self, callback: StatusCallback) -> None: ...
    def batches(self) -> _Batches: ...
    def close(self) -> Deferred[None]: ...
    def remove_status_callback(self, callback: StatusCallback) -> None: ...
    def run(self, callback: Callable[..., Any], batch: bool = ...) -> Deferred[None]: ...

class Stream(Generic[_T]):
    meta: dict[str, Any]
    def __aenter__(self) -> Deferred[Self]: ...
    def __aexit__(self, *exc: object) -> Deferred[None]: ...
    def __aiter__(self) -> Stream[_T]: ...
    async def __anext__(self) -> _T: ...
    def close(self) -> Deferred[None]: ...
    def run(self, callback: Callable[[_T], Any]) -> Deferred[None]: ...
    def to_list(self) -> Deferred[list[_T]]: ...

class Replication:
    replication_id: str | None
    source: Database
    state: str
    target: Database
    def __aenter__(self) -> Deferred[Self]: ...
    def __aexit__(self, *exc: object) -> Deferred[None]: ...
    def __init__(
        self,
        source: Database,
        target: Database,
        *,
        continuous: bool = ...,
        doc_ids: list[str] | None = ...,
        selector: dict[str, Any] | None = ...,
        filter: str | None = ...,
        query_params: dict[str, Any] | None = ...,
        since_seq: Any = ...,
        create_target: bool = ...,
        winning_revs_only: bool = ...,
        batch_size: int = ...,
        batches_in_flight: int = ...,
        checkpoint_interval: float = ...,
        use_checkpoints: bool = ...,
        backoff: Backoff | None = ...,
        progress: Callable[[ReplicationEvent], Any] | None = ...,
    ) -> None: ...
    def close(self) -> Deferred[ReplicationResult]: ...
    def events(self) -> EventIterator: ...
    @property
    def result(self) -> ReplicationResult: ...
    def start(self) -> None: ...
    def wait(self) -> Deferred[ReplicationResult]: ...

class Sync:
    pull: Replication
    push: Replication
    def __aenter__(self) -> Deferred[Self]: ...
    def __aexit__(self, *exc: object) -> Deferred[None]: ...
    def __init__(
        self, a: Database, b: Database, *, continuous: bool = ..., **options: Unpack[ReplicationOptions]
    ) -> None: ...
    def close(self) -> Deferred[SyncResult]: ...
    def events(self) -> EventIterator: ...
    @property
    def result(self) -> SyncResult: ...
    def start(self) -> None: ...
    @property
    def state(self) -> str: ...
    def wait(self) -> Deferred[SyncResult]: ...

def replicate(
    source: Database, target: Database, **options: Unpack[ReplicationOptions]
) -> Deferred[ReplicationResult]: ...
def sync(a: Database, b: Database, **options: Unpack[ReplicationOptions]) -> Deferred[SyncResult]: ...
