"""One batch of changes onto the target: ``_revs_diff``, ``_bulk_get``, ``_bulk_docs``, and documents one by one.

Rules kept here:

- The protocol (CouchDB's ``couch_replicator_worker``): ask the target which
  leaf revs it lacks (``_revs_diff``), fetch those from the source with their
  history (``_bulk_get?revs=true&latest=true``), store them as they are
  (``_bulk_docs`` with ``new_edits=false``).
- A document with attachments, and a design document, goes alone: its
  revisions are read with ``open_revs`` as multipart (attachments streamed,
  only those added since the revs the target has, ``atts_since``) and written
  with a ``new_edits=false`` multipart PUT that streams them on. Attachments
  CouchDB keeps compressed go on compressed to an Apache CouchDB target, and
  inflated on the way to any other.
- A first replication into an empty target skips ``_revs_diff`` for the
  full batches it reads until it has caught up once: every rev is missing
  there (and storing one it has would change nothing). Later batches, which
  may hold what a replication the other way brought, are checked. Its
  changes carry their documents (``include_docs``): a document whose only
  revision is its first is written as it came, since its history is that
  rev alone; the others are fetched with ``_bulk_get`` as usual.
- What the target refuses (403 from ``validate_doc_update``, 413 too large,
  401 for a design document, 400, 415) is counted in ``doc_write_failures``,
  told as an ``error`` event, and the replication goes on. A ``_bulk_docs``
  refused whole with 400 or 413 is split in halves until the refused
  documents are found. A ``missing_stub`` (412: the target lacks an ancestor
  the stubs point to) fetches the document again with all its attachments.
- A ``_bulk_get`` row with an error other than ``not_found`` (CouchDB answers
  200 with ``internal_fabric_error`` in every row when it could not read the
  shards in time, e.g. on a loaded machine) is a failed read: the request is
  retried as a 5xx is. Only ``not_found`` (the revision gone from the source
  since the changes were read: a later change brings what replaced it) is
  passed over.
- Any other error ends the replication; a lost connection or a 5xx is
  retried by the caller's ``retry``, a document read and written one by one
  as a whole. A ``_bulk_get`` or ``_bulk_docs`` whose connection is lost is
  sent again in halves (``Halve``): on a network that cuts every few hundred
  ms, a request that takes longer would never get through whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

from .._api.database import Database
from .._api.open_revs import AttachmentBody, Revision
from .._core.errors import (
    ClientError,
    PreconditionFailed,
    ProtocolError,
    ResponseError,
    ServerError,
    Unauthorized,
)
from .progress import Counters

__all__ = ["Halve", "Retry", "Transfer"]

T = TypeVar("T")


class Halve(Exception):
    """The request's connection was lost (and the backoff waited): send its work again in two halves."""


class Retry(Protocol):
    """``await retry(call)``: ``call()`` again after a lost connection or a 5xx; with ``halve=True``
    a lost connection raises ``Halve`` instead of sending the same request again."""

    def __call__(self, call: Callable[[], Awaitable[T]], *, halve: bool = False) -> Awaitable[T]: ...


_REFUSED = frozenset((400, 403, 413, 415))
_SPLIT = frozenset((400, 413))
_OPEN_REVS_PER_REQUEST = 50  # each rev is ~40 characters in the URL: well under CouchDB's 8 KiB line
_KEEPS_ENCODING = "The Apache Software Foundation"


def _first_revision(change: dict[str, Any]) -> dict[str, Any] | None:
    """The document a change carries (``include_docs``) when it is all there is to copy of it.

    That is a document whose only revision is its first (``1-``: its history is
    that rev alone), without attachments, and not a design document. It goes
    as it came: with ``new_edits=false`` a ``_rev`` without ``_revisions`` is a
    history of that one rev, which for a ``1-`` rev is the whole of it.
    """
    doc = change.get("doc")
    if type(doc) is not dict or "_attachments" in doc:
        return None
    rev = doc.get("_rev")
    leaves = change["changes"]
    if len(leaves) != 1 or type(rev) is not str or rev[:2] != "1-" or leaves[0].get("rev") != rev:
        return None
    if change["id"][:8] == "_design/":
        return None
    return doc


def _failed_read(results: Sequence[Any]) -> dict[str, Any] | None:
    """The first error row of a ``_bulk_get`` answer that is not ``not_found``, if any."""
    for result in results:
        for item in (result.get("docs") if isinstance(result, dict) else None) or ():
            error = item.get("error") if isinstance(item, dict) else None
            if isinstance(error, dict) and error.get("error") != "not_found":
                return error
    return None


def _failure(docid: Any, rev: Any, error: Any, reason: Any) -> dict[str, Any]:
    return {"id": docid, "rev": rev, "error": error, "reason": reason}


def _from_exception(doc: dict[str, Any], exc: ResponseError) -> dict[str, Any]:
    return _failure(doc.get("_id"), doc.get("_rev"), exc.error or str(exc.status), exc.reason)


class Transfer:
    """Moves batches of changes from ``source`` to ``target`` for one replication."""

    __slots__ = ("source", "target", "counters", "_retry", "_refused", "_keeps_encoding")

    def __init__(
        self,
        source: Database,
        target: Database,
        counters: Counters,
        retry: Retry,
        refused: Callable[[dict[str, Any]], None],
    ) -> None:
        self.source = source
        self.target = target
        self.counters = counters
        self._retry = retry
        self._refused = refused
        self._keeps_encoding: bool | None = None

    async def batch(self, changes: Sequence[dict[str, Any]], check: bool = True) -> None:
        """Put every leaf of these changes that the target lacks onto it.

        ``check=False``: the target lacks them all, and a change that carries its
        document (``include_docs``) whose only revision is its first is written
        as it came, without asking the source again.
        """
        revs: dict[str, list[str]] = {}
        docs: list[dict[str, Any]] = []
        try:
            for change in changes:
                first = None if check else _first_revision(change)
                if first is None:
                    revs[change["id"]] = [entry["rev"] for entry in change["changes"]]
                else:
                    docs.append(first)
        except (KeyError, TypeError, AttributeError):
            raise ProtocolError(f"a change without its id or revs: {change!r:.200}") from None
        counters = self.counters
        counters.missing_checked += len(docs) + sum(len(leaves) for leaves in revs.values())
        missing: dict[str, tuple[list[str], list[str]]] = {}
        if not check:
            missing = {docid: (leaves, []) for docid, leaves in revs.items()}
        else:
            diff = await self._retry(lambda: self.target.revs_diff(revs))
            for docid, entry in diff.items():
                if isinstance(entry, dict) and entry.get("missing"):
                    missing[docid] = (list(entry["missing"]), list(entry.get("possible_ancestors") or ()))
        counters.missing_found += len(docs) + sum(len(leaves) for leaves, _ in missing.values())
        alone = {docid: found for docid, found in missing.items() if docid.startswith("_design/")}
        wanted = [
            {"id": docid, "rev": rev} for docid, (leaves, _) in missing.items() if docid not in alone for rev in leaves
        ]
        seen: set[tuple[str, str]] = set()
        if wanted:
            for result in await self._fetch(wanted):
                for item in result.get("docs") or ():
                    doc = item.get("ok") if isinstance(item, dict) else None
                    if not isinstance(doc, dict):
                        continue  # gone from the source since the changes were read: a later change brings it
                    found_id, rev = doc.get("_id"), doc.get("_rev")
                    if not isinstance(found_id, str) or not isinstance(rev, str) or (found_id, rev) in seen:
                        continue
                    seen.add((found_id, rev))
                    if doc.get("_attachments"):
                        alone.setdefault(found_id, ([], missing[found_id][1]))[0].append(rev)
                    else:
                        docs.append(doc)
        counters.docs_read += len(docs)
        if docs:
            await self._write_bulk(docs)
        for docid, (leaves, ancestors) in alone.items():
            for start in range(0, len(leaves), _OPEN_REVS_PER_REQUEST):
                chunk = leaves[start : start + _OPEN_REVS_PER_REQUEST]
                done: dict[str, bool] = {}  # across retries: a revision is counted once, and written until it lands
                await self._retry(partial(self._copy_alone, docid, chunk, ancestors, done))

    # --- many documents per request ------------------------------------------------------

    async def _fetch(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            results: list[dict[str, Any]] = await self.source.bulk_get(wanted, revs=True, latest=True)
            failed = _failed_read(results)
            if failed is not None:
                raise ServerError(
                    f"_bulk_get could not read {failed.get('id')!r} at {failed.get('rev')!r}: {failed.get('reason')}",
                    error=str(failed.get("error")),
                )
            return results

        try:
            return await self._retry(read, halve=len(wanted) > 1)
        except Halve:
            half = len(wanted) // 2
            return [*await self._fetch(wanted[:half]), *await self._fetch(wanted[half:])]

    async def _write_bulk(self, docs: list[dict[str, Any]]) -> None:
        try:
            results = await self._retry(lambda: self.target.bulk_docs(docs, new_edits=False), halve=len(docs) > 1)
        except (Halve, ClientError) as exc:
            if isinstance(exc, ClientError) and exc.status not in _SPLIT:
                raise
            if isinstance(exc, ClientError) and len(docs) == 1:
                self._refuse(_from_exception(docs[0], exc))
                return
            half = len(docs) // 2
            await self._write_bulk(docs[:half])
            await self._write_bulk(docs[half:])
            return
        errors = [result for result in results if isinstance(result, dict) and "error" in result]
        by_id = {doc["_id"]: doc for doc in docs} if errors else {}
        for result in errors:
            rev = result.get("rev", by_id.get(result.get("id"), {}).get("_rev"))
            self._refuse(_failure(result.get("id"), rev, result["error"], result.get("reason")))
        self.counters.docs_written += len(docs) - len(errors)

    def _refuse(self, failure: dict[str, Any]) -> None:
        self.counters.doc_write_failures += 1
        self._refused(failure)

    # --- one document at a time ----------------------------------------------------------

    async def _copy_alone(self, docid: str, leaves: list[str], ancestors: list[str], done: dict[str, bool]) -> None:
        """Read these revisions of ``docid`` with their attachments and write each on the target.

        ``done`` maps each revision read so far to whether it is settled (written or refused): a retry
        after a lost connection writes again every revision not settled, a write whose answer was lost
        included (``new_edits=false`` makes the second write of a revision a no-op).
        """
        try:
            await self._stream_revisions(docid, leaves, ancestors, done)
        except PreconditionFailed as exc:
            if exc.error != "missing_stub" or not ancestors:
                raise
            await self._stream_revisions(docid, leaves, [], done)  # every attachment this time

    async def _stream_revisions(
        self, docid: str, leaves: list[str], ancestors: list[str], done: dict[str, bool]
    ) -> None:
        async with self.source.stream_open_revs(docid, leaves, latest=True, atts_since=ancestors or None) as stream:
            async for revision in stream:
                doc = revision.doc
                rev = doc.get("_rev") if doc is not None else None
                if not isinstance(rev, str) or done.get(rev):
                    continue
                if rev not in done:
                    self.counters.docs_read += 1
                    done[rev] = False
                if await self._write_alone(revision):
                    self.counters.docs_written += 1
                done[rev] = True

    async def _write_alone(self, revision: Revision) -> bool:
        doc = revision.doc
        assert doc is not None
        try:
            if revision.attachments:
                await self.target.save_with_attachments(doc, await self._bodies(revision), new_edits=False)
            else:
                await self.target.save(doc, new_edits=False)
        except Unauthorized as exc:
            if not str(doc.get("_id", "")).startswith("_design/"):
                raise
            self._refuse(_from_exception(doc, exc))
            return False
        except ClientError as exc:
            if exc.status not in _REFUSED:
                raise
            self._refuse(_from_exception(doc, exc))
            return False
        return True

    async def _bodies(self, revision: Revision) -> dict[str, AttachmentBody]:
        bodies = revision.attachments
        if any(body.encoding for body in bodies.values()) and not await self._target_keeps_encoding():
            bodies = {name: body.decoded() for name, body in bodies.items()}
        return bodies

    async def _target_keeps_encoding(self) -> bool:
        if self._keeps_encoding is None:
            welcome = await self._retry(self.target.server.info)
            vendor = welcome.get("vendor") if isinstance(welcome, dict) else None
            self._keeps_encoding = isinstance(vendor, dict) and vendor.get("name") == _KEEPS_ENCODING
        return self._keeps_encoding
