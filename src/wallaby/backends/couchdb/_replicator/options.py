"""The options of a client-side replication, checked before anything is sent.

Rules kept here:

- ``doc_ids``, ``selector`` and ``filter`` pick documents in exclusive ways,
  as CouchDB's ``_replicate`` has them; ``query_params`` goes with ``filter``.
- ``batch_size`` changes are read per request and ``batches_in_flight``
  batches are worked on at once: the documents held in memory are at most
  their product (plus one batch of changes read ahead), whatever the size of
  the database. Attachments are streamed and count for one chunk each.
- ``checkpoint_interval`` is the least number of seconds between two
  checkpoints; 0 writes one after each batch (one write at a time: batches
  that end while it is written are recorded by the next).
- The defaults of ``Backoff``: a one-shot replication gives up after 10
  failures in a row (about a minute), a continuous one never.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from .._api.database import Database
from .._core.checks import flag, mapping, seq, whole_number
from .._core.errors import InvalidArgument, InvalidType
from .._core.retry import Backoff
from .progress import ReplicationEvent

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_BATCHES_IN_FLIGHT", "Options", "ReplicationOptions", "check_database"]

DEFAULT_BATCH_SIZE = 500
DEFAULT_BATCHES_IN_FLIGHT = 4
ONE_SHOT_RETRIES = 10


class ReplicationOptions(TypedDict, total=False):
    """The keyword options of ``replicate()``, ``sync()`` and ``Sync`` (``Replication``'s, spelled out there)."""

    doc_ids: list[str] | None
    selector: dict[str, Any] | None
    filter: str | None
    query_params: dict[str, Any] | None
    since_seq: Any
    create_target: bool
    winning_revs_only: bool
    batch_size: int
    batches_in_flight: int
    checkpoint_interval: float
    use_checkpoints: bool
    backoff: Backoff | None
    progress: Callable[[ReplicationEvent], Any] | None


class Options:
    """One replication's options, checked."""

    __slots__ = (
        "continuous",
        "doc_ids",
        "selector",
        "filter",
        "query_params",
        "since_seq",
        "create_target",
        "winning_revs_only",
        "batch_size",
        "batches_in_flight",
        "checkpoint_interval",
        "use_checkpoints",
        "backoff",
        "progress",
    )

    def __init__(
        self,
        *,
        continuous: bool,
        doc_ids: object,
        selector: object,
        filter: object,
        query_params: object,
        since_seq: object,
        create_target: object,
        winning_revs_only: object,
        batch_size: object,
        batches_in_flight: object,
        checkpoint_interval: object,
        use_checkpoints: object,
        backoff: object,
        progress: object,
    ) -> None:
        self.continuous = flag(continuous, "continuous")
        pickers = [
            name
            for name, value in (("doc_ids", doc_ids), ("selector", selector), ("filter", filter))
            if value is not None
        ]
        if len(pickers) > 1:
            raise InvalidArgument(f"give one of doc_ids, selector and filter, not {' and '.join(pickers)}")
        self.doc_ids: list[str] | None = None
        if doc_ids is not None:
            if not isinstance(doc_ids, (list, tuple)):
                raise InvalidType(f"doc_ids must be a list of ids, not {type(doc_ids).__name__}")
            if not all(isinstance(docid, str) and docid for docid in doc_ids):
                raise InvalidArgument("doc_ids must hold non-empty str ids")
            self.doc_ids = sorted(set(doc_ids))
        self.selector = dict(mapping(selector, "selector")) if selector is not None else None
        if filter is not None and (not isinstance(filter, str) or filter.count("/") != 1 or filter.startswith("_")):
            raise InvalidArgument(f"filter must be a 'ddoc/name' str, not {filter!r}")
        self.filter: str | None = filter
        if query_params is not None and filter is None:
            raise InvalidArgument("query_params go with a filter")
        self.query_params = dict(mapping(query_params, "query_params")) if query_params is not None else None
        self.since_seq = None if since_seq is None else seq(since_seq, "since_seq")
        self.create_target = flag(create_target, "create_target")
        self.winning_revs_only = flag(winning_revs_only, "winning_revs_only")
        self.batch_size = whole_number(batch_size, "batch_size", 1)
        self.batches_in_flight = whole_number(batches_in_flight, "batches_in_flight", 1)
        if isinstance(checkpoint_interval, bool) or not isinstance(checkpoint_interval, (int, float)):
            raise InvalidType(f"checkpoint_interval must be a number of seconds, not {checkpoint_interval!r}")
        if checkpoint_interval < 0:
            raise InvalidArgument("checkpoint_interval must be at least 0")
        self.checkpoint_interval = float(checkpoint_interval)
        self.use_checkpoints = flag(use_checkpoints, "use_checkpoints")
        if backoff is None:
            backoff = Backoff() if self.continuous else Backoff(retries=ONE_SHOT_RETRIES)
        if not isinstance(backoff, Backoff):
            raise InvalidType(f"backoff must be a Backoff, not {type(backoff).__name__}")
        self.backoff = backoff
        if progress is not None and not callable(progress):
            raise InvalidType("progress must be callable")
        self.progress: Callable[[ReplicationEvent], Any] | None = progress

    def picker(self) -> Any:
        """What picks the documents, for the replication id (the filter's code is added by the caller)."""
        if self.doc_ids is not None:
            return {"doc_ids": self.doc_ids}
        if self.selector is not None:
            return {"selector": self.selector}
        if self.filter is not None:
            return {"filter": self.filter, "query_params": self.query_params or {}}
        return None

    def feed_options(self) -> dict[str, Any]:
        """The options of ``Database.follow()`` that pick the changes to replicate."""
        options: dict[str, Any] = {}
        if not self.winning_revs_only:
            options["style"] = "all_docs"
        if self.doc_ids is not None:
            options["doc_ids"] = self.doc_ids
        elif self.selector is not None:
            options["selector"] = self.selector
        elif self.filter is not None:
            options["filter"] = self.filter
            if self.query_params:
                options["filter_params"] = self.query_params
        return options


def check_database(value: object, what: str) -> Database:
    """A Database object, of either flavour."""
    if not isinstance(value, Database):
        raise InvalidType(f"{what} must be a Database, not {type(value).__name__}")
    return value
