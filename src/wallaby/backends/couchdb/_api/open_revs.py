"""Leaves of a document with their history and attachments, streamed: ``GET /{db}/{docid}?open_revs=``.

What a replicator reads when a document has attachments: each asked
revision with its ``_revisions``, and the bytes of its attachments, which
CouchDB sends as ``multipart/mixed`` (one ``multipart/related`` part per
revision: its JSON, then each attachment). They come as a Stream of
``Revision`` objects whose attachment bodies are read as they arrive, in
bounded memory, and can be handed straight to ``save_with_attachments``.

Rules kept here:

- ``atts_since`` lists revs the reader already has: CouchDB then sends only
  the attachments added after the newest of them that it knows, and stubs
  for the others.
- An attachment body is read once, in the order of the document's
  ``_attachments``; reading a later body (or moving to the next revision)
  skips the unread earlier ones. Each body's length is checked against what
  the document announced, so it can be sent on with a known length.
- CouchDB sends an attachment it stores compressed as it stores it
  (``encoding: gzip``, ``encoded_length``): ``body.decoded()`` inflates it on
  the way, for a reader that does not keep encodings.
- A server that answers JSON instead (PouchDB Server) has the attachments
  inline in base64: they become bodies of the same kind.
"""

from __future__ import annotations

import base64
import zlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from .._core.checks import as_list, doc_id, flag, non_empty
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType, ProtocolError, TruncatedBody
from .._core.json import JSONDecodeError, loads
from .._core.multipart import MultipartReader, boundary_of
from .._core.params import DOC
from .._core.runtime import Response
from .._core.streams import Stream
from .._core.urls import doc_segment

__all__ = ["AttachmentBody", "OpenRevs", "Revision"]

_MAX_JSON_PART = 256 * 1024 * 1024  # far over CouchDB's max_document_size (8 MB by default)
_CHUNK = 64 * 1024
_STUB_ONLY = ("stub", "data", "follows")


class AttachmentBody:
    """The bytes of one attachment as they arrive; ``async for chunk in body`` reads them, once.

    ``stub`` is the attachment's entry for a document sent with the body
    following (``follows: true``), ``length`` the number of bytes that follow
    (``encoded_length`` for an ``encoding: gzip`` attachment).
    """

    __slots__ = ("name", "stub", "length", "_source", "_read")

    name: str
    stub: dict[str, Any]
    length: int

    def __init__(self, name: str, stub: dict[str, Any], length: int, source: AsyncIterator[bytes]) -> None:
        self.name = name
        self.stub = stub
        self.length = length
        self._source = source
        self._read = False

    def __repr__(self) -> str:
        encoding = self.stub.get("encoding")
        return f"<AttachmentBody {self.name!r} {self.length} bytes{f' {encoding}' if encoding else ''}>"

    @property
    def content_type(self) -> str:
        """The attachment's content type (``application/octet-stream`` when none was given)."""
        content_type = self.stub.get("content_type")
        return content_type if isinstance(content_type, str) else "application/octet-stream"

    @property
    def encoding(self) -> str | None:
        """``gzip`` when the bytes come compressed as CouchDB stores them, else None."""
        encoding = self.stub.get("encoding")
        return encoding if isinstance(encoding, str) and encoding != "identity" else None

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._read:
            raise InvalidArgument(f"the body of attachment {self.name!r} was read already")
        self._read = True
        return self._source

    def decoded(self) -> AttachmentBody:
        """This body inflated as it is read: identity bytes, ``length`` of the attachment itself.

        The stub loses ``encoding``, ``encoded_length`` and ``digest`` (CouchDB's
        digest of a compressed attachment is that of its compressed bytes); the
        receiver computes its own. A body that is not compressed is returned as it is.
        """
        if self.encoding is None:
            return self
        if self.encoding != "gzip":
            raise ProtocolError(f"attachment {self.name!r} has an unknown encoding {self.encoding!r}")
        stub = {key: value for key, value in self.stub.items() if key not in ("encoding", "encoded_length", "digest")}
        length = stub.get("length")
        if isinstance(length, bool) or not isinstance(length, int):
            raise ProtocolError(f"compressed attachment {self.name!r} does not give its length")
        return AttachmentBody(self.name, stub, length, _gunzip(self))


async def _gunzip(body: AttachmentBody) -> AsyncIterator[bytes]:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    async for chunk in body:
        data = inflater.decompress(chunk, _CHUNK)
        while data:  # a small compressed chunk may inflate a lot: hand it on in bounded pieces
            yield data
            data = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    rest = inflater.flush()
    if rest:
        yield rest


class Revision:
    """One asked revision: the document (with ``_revisions``) and the attachment bodies that follow it.

    ``missing`` is the rev when the database does not have it (``doc`` is then
    None). ``attachments`` maps the names whose bytes follow, in order, to
    their bodies; the other entries of ``doc["_attachments"]`` are stubs.
    """

    __slots__ = ("doc", "missing", "attachments")

    doc: dict[str, Any] | None
    missing: str | None
    attachments: dict[str, AttachmentBody]

    def __init__(
        self,
        doc: dict[str, Any] | None,
        missing: str | None = None,
        attachments: dict[str, AttachmentBody] | None = None,
    ) -> None:
        self.doc = doc
        self.missing = missing
        self.attachments = attachments or {}

    def __repr__(self) -> str:
        if self.doc is None:
            return f"<Revision missing {self.missing!r}>"
        return f"<Revision {self.doc.get('_id')!r} {self.doc.get('_rev')!r} attachments={list(self.attachments)}>"


def _follows_length(name: str, stub: dict[str, Any]) -> int:
    """How many bytes follow for an attachment entry: ``encoded_length`` when encoded, else ``length``."""
    encoded = stub.get("encoding") not in (None, "identity")
    length = stub.get("encoded_length" if encoded else "length")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ProtocolError(f"attachment {name!r} follows without its length")
    return length


class _Parts:
    """The events of a ``multipart/mixed`` answer, its ``multipart/related`` parts opened in place.

    ``next()`` gives ``("part", headers)``, ``("data", bytes)``, ``("end", None)``
    for each part (a related part's own parts included), ``("related", None)``
    and ``("related-end", None)`` around a related part, and ``("done", None)``
    at the end.
    """

    __slots__ = ("_chunks", "_outer", "_inner", "_events")

    def __init__(self, response: Response, boundary: str) -> None:
        self._chunks = response.chunks()
        self._outer = MultipartReader(boundary)
        self._inner: MultipartReader | None = None
        self._events: deque[tuple[str, Any]] = deque()

    async def next(self) -> tuple[str, Any]:
        events = self._events
        while not events:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._outer.close()
                raise TruncatedBody("the multipart answer ended early") from None
            for event in self._outer.feed(chunk):
                self._route(event)
        return events.popleft()

    def _route(self, event: tuple[str, Any]) -> None:
        kind, value = event
        events = self._events
        inner = self._inner
        if kind == "data":
            if inner is None:
                events.append(event)
                return
            for inner_event in inner.feed(value):
                if inner_event[0] == "headers":
                    events.append(("part", inner_event[1]))
                elif inner_event[0] != "done":
                    events.append(inner_event)
        elif kind == "headers":
            content_type = value.get("content-type", "")
            if content_type.lower().startswith("multipart/related"):
                boundary = boundary_of(content_type)
                if boundary is None:
                    raise ProtocolError("a multipart/related part without its boundary")
                self._inner = MultipartReader(boundary)
                events.append(("related", None))
            else:
                events.append(("part", value))
        elif kind == "end":
            if inner is None:
                events.append(event)
            else:
                inner.close()
                self._inner = None
                events.append(("related-end", None))
        else:
            events.append(event)

    async def close(self) -> None:
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()


class _Bodies:
    """The attachment bodies of one revision, read from ``_Parts`` in their order."""

    __slots__ = ("_parts", "_order", "_done", "_open", "_got")

    def __init__(self, parts: _Parts) -> None:
        self._parts = parts
        self._order: list[AttachmentBody] = []
        self._done = 0  # bodies read or skipped to their end
        self._open = False  # the next body's part has started
        self._got = 0

    def add(self, name: str, stub: dict[str, Any]) -> AttachmentBody:
        body = AttachmentBody(name, stub, _follows_length(name, stub), self._read(len(self._order)))
        self._order.append(body)
        return body

    async def _read(self, index: int) -> AsyncIterator[bytes]:
        await self._skip_to(index)
        if not self._open:
            await self._open_next()
        while True:
            chunk = await self._data()
            if chunk is None:
                return
            yield chunk

    async def _open_next(self) -> None:
        body = self._order[self._done]
        kind, headers = await self._parts.next()
        if kind != "part":
            raise ProtocolError(f"expected the body of attachment {body.name!r}, got {kind}")
        announced = headers.get("content-length")
        if announced is not None and announced.strip() != str(body.length):
            raise ProtocolError(f"attachment {body.name!r} comes with {announced} bytes, not {body.length}")
        self._open = True
        self._got = 0

    async def _data(self) -> bytes | None:
        """The next chunk of the open body, None at its end."""
        kind, value = await self._parts.next()
        if kind == "data":
            chunk: bytes = value
            self._got += len(chunk)
            return chunk
        body = self._order[self._done]
        if kind != "end":
            raise ProtocolError(f"unexpected {kind} inside attachment {body.name!r}")
        if self._got != body.length:
            raise ProtocolError(f"attachment {body.name!r} came with {self._got} bytes, not {body.length}")
        self._open = False
        self._done += 1
        return None

    async def _skip_to(self, index: int) -> None:
        while self._done < index:
            self._order[self._done]._read = True
            if not self._open:
                await self._open_next()
            while await self._data() is not None:
                pass

    async def finish(self) -> None:
        """Skip whatever was not read, up to the end of the revision's related part."""
        await self._skip_to(len(self._order))
        kind, _ = await self._parts.next()
        if kind != "related-end":
            raise ProtocolError(f"expected the end of a revision's parts, got {kind}")


async def _json_part(parts: _Parts) -> Any:
    pieces: list[bytes] = []
    size = 0
    while True:
        kind, value = await parts.next()
        if kind == "end":
            break
        if kind != "data":
            raise ProtocolError(f"unexpected {kind} inside a document's JSON")
        size += len(value)
        if size > _MAX_JSON_PART:
            raise ProtocolError("a document's JSON part is over 256 MiB")
        pieces.append(value)
    try:
        return loads(b"".join(pieces))
    except JSONDecodeError:
        raise ProtocolError("a multipart part announced as JSON is not JSON") from None


def _revision(item: Any) -> Revision:
    if not isinstance(item, dict):
        raise ProtocolError(f"unexpected open_revs item {item!r:.200}")
    if "missing" in item and "_id" not in item:
        return Revision(None, missing=item["missing"])
    doc = item.get("ok", item)
    if not isinstance(doc, dict):
        raise ProtocolError(f"unexpected open_revs item {item!r:.200}")
    return Revision(doc)


async def _multipart_revisions(parts: _Parts) -> AsyncIterator[Revision]:
    try:
        while True:
            kind, _ = await parts.next()
            if kind == "done":
                return
            related = kind == "related"
            if related:
                kind, _ = await parts.next()
            if kind != "part":
                raise ProtocolError(f"expected a revision, got {kind}")
            revision = _revision(await _json_part(parts))
            if not related:
                yield revision
                continue
            bodies = _Bodies(parts)
            doc = revision.doc or {}
            attachments = doc.get("_attachments") or {}
            for name, stub in attachments.items():
                if isinstance(stub, dict) and stub.get("follows"):
                    revision.attachments[name] = bodies.add(name, stub)
            yield revision
            await bodies.finish()
    finally:
        await parts.close()


async def _inline(data: bytes, earlier: list[AttachmentBody]) -> AsyncIterator[bytes]:
    for body in earlier:  # skipped, as they would be in a multipart answer
        body._read = True
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]


def _inline_bodies(revision: Revision) -> Revision:
    """Turn a JSON answer's base64 attachments into bodies, their entries into ``follows`` stubs."""
    doc = revision.doc
    attachments = doc.get("_attachments") if doc is not None else None
    if not isinstance(attachments, dict):
        return revision
    bodies: list[AttachmentBody] = []
    for name, entry in list(attachments.items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), str):
            continue
        data = base64.b64decode(entry["data"])
        stub = {key: value for key, value in entry.items() if key not in _STUB_ONLY}
        stub.update(follows=True, length=len(data))
        stub.pop("encoding", None)
        stub.pop("encoded_length", None)
        attachments[name] = stub
        body = AttachmentBody(name, stub, len(data), _inline(data, list(bodies)))
        bodies.append(body)
        revision.attachments[name] = body
    return revision


class OpenRevs(Resource):
    def stream_open_revs(
        self,
        id: str,
        revs: Sequence[str] | str = "all",
        *,
        latest: bool = False,
        atts_since: Sequence[str] | None = None,
    ) -> Stream[Revision]:
        """``GET /{db}/{docid}?open_revs=...&revs=true`` as ``multipart/mixed``: revisions with attachments streamed.

        ``revs`` is a list of revs, or ``"all"`` for every leaf. Each item is a
        ``Revision``: ``doc`` with its ``_revisions`` and ``_attachments``, and
        ``attachments``, the bodies of those whose bytes follow (all of them,
        or with ``atts_since=[rev, ...]`` those added after the newest of these
        revs the database knows). ``latest=True`` answers a rev that is no
        longer a leaf with the leaves that descend from it. A rev the database
        lacks comes as ``Revision(missing=rev)``. Read each body before the
        next revision (one not read is skipped): only a chunk at a time is held.
        """
        docid = doc_id(id)
        params: dict[str, Any] = {"revs": True, "attachments": True}
        if isinstance(revs, str):
            if revs != "all":
                raise InvalidArgument(f"revs must be a list of revs or 'all', not {revs!r}")
            params["open_revs"] = "all"
        else:
            params["open_revs"] = [non_empty(rev, "rev") for rev in as_list(revs, "revs")]
            if not params["open_revs"]:
                raise InvalidArgument("revs must name at least one rev")
        if flag(latest, "latest"):
            params["latest"] = True
        if atts_since is not None:
            since = as_list(atts_since, "atts_since")
            if not all(isinstance(rev, str) and rev for rev in since):
                raise InvalidType("atts_since must be a list of revs (str)")
            if since:
                params["atts_since"] = since
        query = DOC.query(params)
        return self._client.stream(self._open_revs(f"{self._path}/{doc_segment(docid)}", query))

    async def _open_revs(self, path: str, query: str) -> AsyncIterator[Revision]:
        response = await self._client.send("GET", path, query, headers={"Accept": "multipart/mixed"})
        content_type = response.header("Content-Type") or ""
        boundary = boundary_of(content_type)
        if content_type.lower().startswith("multipart/") and boundary is not None:
            async for revision in _multipart_revisions(_Parts(response, boundary)):
                yield revision
            return
        raw = await response.read()  # a server without multipart answers: JSON, attachments inline
        try:
            items = loads(raw)
        except JSONDecodeError:
            raise ProtocolError(
                f"open_revs answered neither multipart nor JSON: {raw[:200]!r}", url=self._client.url(path, query)
            ) from None
        if not isinstance(items, list):
            raise ProtocolError(f"open_revs answered {type(items).__name__}, not a list")
        for item in items:
            revision = _inline_bodies(_revision(item))
            yield revision
            for body in revision.attachments.values():  # skipped, as in a multipart answer
                body._read = True
