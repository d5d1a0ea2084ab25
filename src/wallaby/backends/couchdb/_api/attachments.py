"""Attachments of a document: put (from memory, a file or a stream), get (whole, a range, a stream), delete."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping, MutableMapping
from typing import Any, BinaryIO

from .._core.checks import check_doc, doc_id, doc_id_rev, non_empty, whole_number
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType
from .._core.json import dumps
from .._core.params import WRITE, query_string
from .._core.runtime import Runtime
from .._core.streams import Stream
from .._core.urls import attachment_segment, doc_segment
from .documents import put_result
from .open_revs import AttachmentBody

__all__ = ["Attachments", "range_header", "upload_body"]

_CHUNK = 64 * 1024


def range_header(byte_range: object) -> str:
    """``(first, last)`` (``last`` inclusive or None) -> ``bytes=first-last``."""
    if not isinstance(byte_range, tuple) or len(byte_range) != 2:
        raise InvalidType("range must be a (first, last) tuple")
    first, last = byte_range
    whole_number(first, "the first byte of a range")
    if last is not None and whole_number(last, "the last byte of a range") < first:
        raise InvalidArgument(f"a range ends at an offset >= its start (inclusive) or None, not {last!r}")
    return f"bytes={first}-{'' if last is None else last}"


def upload_body(
    data: object, length: int | None, runtime: Runtime
) -> tuple[bytes | AsyncIterable[bytes], int | None, str]:
    """What to send for ``data``: the body, its length if known, the default content type.

    A file or a path is read in chunks off the loop (``runtime.to_thread``).
    """
    if length is not None:
        whole_number(length, "length")
    octets = "application/octet-stream"
    if isinstance(data, str):
        return data.encode(), None, "text/plain; charset=utf-8"
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), None, octets
    if isinstance(data, os.PathLike):
        path = os.fspath(data)
        if not os.path.isfile(path):
            raise InvalidArgument(f"no file at {path!r}")
        return _path_chunks(path, runtime), os.path.getsize(path), octets
    if hasattr(data, "read"):
        if isinstance(data, io.TextIOBase) or "b" not in getattr(data, "mode", "b"):
            raise InvalidType("an attachment file must be opened in binary mode ('rb')")
        return _file_chunks(data, runtime), length if length is not None else _remaining_size(data), octets
    if hasattr(data, "__aiter__"):
        return data, length, octets
    raise InvalidType(
        f"attachment data must be bytes, str, a binary file, a path or an async iterable, not {type(data).__name__}"
    )


def _remaining_size(file: Any) -> int | None:
    try:
        size: int = os.fstat(file.fileno()).st_size - file.tell()
        return size
    except (AttributeError, OSError, ValueError):
        return None


async def _file_chunks(file: Any, runtime: Runtime) -> AsyncIterator[bytes]:
    while True:
        data = await runtime.to_thread(file.read, _CHUNK)
        if not data:
            return
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidType("an attachment file must be opened in binary mode ('rb')")
        yield bytes(data)


async def _path_chunks(path: str, runtime: Runtime) -> AsyncIterator[bytes]:
    file = await runtime.to_thread(open, path, "rb")
    try:
        async for data in _file_chunks(file, runtime):
            yield data
    finally:
        file.close()


class _Part:
    """One attachment of a multipart/related request, hashed as it is sent.

    ``stub`` is its entry in the document's ``_attachments`` (``follows: true``).
    A body read from ``stream_open_revs`` keeps the entry it came with (revpos,
    digest, encoding), so a replicated revision is stored as it was.
    """

    __slots__ = ("name", "body", "length", "content_type", "stub", "_md5")

    def __init__(self, name: object, spec: Any, runtime: Runtime) -> None:
        attachment_segment(name)  # checks the name
        self.name = non_empty(name, "attachment name")
        self._md5 = hashlib.md5()
        if isinstance(spec, AttachmentBody):
            self.body: bytes | AsyncIterable[bytes] = spec
            self.length = spec.length
            self.content_type = spec.content_type
            self.stub = {key: value for key, value in spec.stub.items() if key not in ("stub", "data")}
            self.stub["follows"] = True
            return
        content_type = length = None
        if isinstance(spec, tuple):
            if not 2 <= len(spec) <= 3:
                raise InvalidType(
                    f"attachment {name!r}: give data, (data, content_type) or (data, content_type, length)"
                )
            data, content_type = spec[0], spec[1]
            length = spec[2] if len(spec) == 3 else None
        else:
            data = spec
        if content_type is not None and not isinstance(content_type, str):
            raise InvalidType(f"attachment {name!r}: content_type must be a str")
        self.body, size, default_type = upload_body(data, length, runtime)
        if isinstance(self.body, bytes):
            size = len(self.body)
        if size is None:
            raise InvalidArgument(
                f"attachment {name!r}: a multipart request needs its length: give (data, content_type, length)"
            )
        self.length = size
        self.content_type = content_type or default_type
        self.stub = {"follows": True, "content_type": self.content_type, "length": self.length}

    def header(self, boundary: str) -> bytes:
        # CouchDB pairs parts with attachments by order; PouchDB Server by filename
        filename = self.name.replace("\\", "\\\\").replace('"', '\\"')
        return (
            f'--{boundary}\r\nContent-Disposition: attachment; filename="{filename}"\r\n'
            f"Content-Type: {self.content_type}\r\nContent-Length: {self.length}\r\n{self._encoding()}\r\n"
        ).encode()

    def _encoding(self) -> str:
        encoding = self.stub.get("encoding")
        return f"Content-Encoding: {encoding}\r\n" if isinstance(encoding, str) and encoding != "identity" else ""

    async def chunks(self) -> AsyncIterator[bytes]:
        if isinstance(self.body, bytes):
            self._md5.update(self.body)
            yield self.body
            return
        sent = 0
        async for chunk in self.body:
            sent += len(chunk)
            self._md5.update(chunk)
            yield chunk
        if sent != self.length:
            raise InvalidArgument(f"attachment {self.name!r} gave {sent} bytes, not the {self.length} announced")

    def digest(self) -> str:
        return "md5-" + base64.b64encode(self._md5.digest()).decode("ascii")


async def _multipart(head: bytes, parts: list[_Part], boundary: str, tail: bytes) -> AsyncIterator[bytes]:
    yield head
    for part in parts:
        yield part.header(boundary)
        async for chunk in part.chunks():
            yield chunk
        yield b"\r\n"
    yield tail


class Attachments(Resource):
    def _attachment_path(self, docid: str, name: str) -> str:
        return f"{self._path}/{doc_segment(docid)}/{attachment_segment(name)}"

    async def put_attachment(
        self,
        doc: MutableMapping[str, Any],
        name: str,
        data: bytes | str | BinaryIO | os.PathLike[str] | AsyncIterable[bytes],
        contentType: str | None = None,
        *,
        content_type: str | None = None,
        length: int | None = None,
    ) -> Any:
        """``PUT /{db}/{docid}/{attname}?rev=``: add or replace an attachment.

        ``doc`` is the document (its ``_rev`` is sent and the new one written
        back) or, for a document that does not exist yet, a dict with only an
        ``_id``. ``data`` is bytes, a ``str`` (sent as UTF-8 text), a binary
        file object or a path (read and sent in chunks), or an async iterable
        of bytes (sent as it is produced; give ``length`` if you know it, else
        it goes chunked). Only one chunk is in memory at a time.
        """
        if contentType is not None and content_type is not None and contentType != content_type:
            raise InvalidArgument("give contentType or content_type, not both")
        content_type = content_type or contentType
        if content_type is not None and not isinstance(content_type, str):
            raise InvalidType("content_type must be a str")
        if not isinstance(doc, MutableMapping):
            raise InvalidType(f"a document must be a dict, not {type(doc).__name__}")
        body, size, default_type = upload_body(data, length, self._client.runtime)
        headers = {"Content-Length": str(size)} if size is not None and not isinstance(body, bytes) else None
        result = await self._client.write(
            "PUT",
            self._attachment_path(doc_id(doc), name),
            query_string({"rev": doc.get("_rev")}),
            data=body,
            content_type=content_type or default_type,
            headers=headers,
        )
        doc["_rev"] = result["rev"]
        return result

    async def save_with_attachments(
        self,
        doc: MutableMapping[str, Any],
        attachments: Mapping[str, Any],
        **params: Any,
    ) -> Any:
        """``PUT /{db}/{docid}`` as ``multipart/related``: a document and its new attachments at once.

        ``attachments`` maps names to data (what ``put_attachment`` takes), to
        ``(data, content_type)`` or to ``(data, content_type, length)`` (an
        async iterable needs its length), or to an ``AttachmentBody`` read from
        ``stream_open_revs`` (sent as it came: revpos, digest and encoding kept).
        One request, one new revision; each attachment is streamed, never held
        whole. The new ``_rev`` is written into ``doc``, and so are stubs for
        the new attachments (with their ``md5-`` digest), so that saving ``doc``
        again keeps them. ``new_edits=False`` stores a replicated revision: the
        ``_rev`` and ``_revisions`` of ``doc`` as they are.
        """
        docid = doc_id(check_doc(doc))
        if not isinstance(attachments, Mapping) or not attachments:
            raise InvalidType("attachments must be a non-empty dict of name -> data")
        WRITE.check(params)
        given = {name: _Part(name, spec, self._client.runtime) for name, spec in attachments.items()}
        stubs = dict(doc.get("_attachments") or {})
        for name, part in given.items():
            stubs[name] = part.stub
        parts = [given[name] for name in stubs if name in given]  # CouchDB pairs parts and entries by order
        boundary = uuid.uuid4().hex
        head = (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
            + dumps({**doc, "_attachments": stubs})
            + b"\r\n"
        )
        tail = f"--{boundary}--\r\n".encode()
        size = len(head) + len(tail) + sum(len(part.header(boundary)) + part.length + 2 for part in parts)
        path = f"{self._path}/{doc_segment(docid)}"
        query = query_string(params)
        url, rev = self._client.url(path, query), doc.get("_rev")
        result = await self._client.write(
            "PUT",
            path,
            query,
            data=_multipart(head, parts, boundary, tail),
            content_type=f'multipart/related; boundary="{boundary}"',
            headers={"Content-Length": str(size)},
            reshape=lambda answer: put_result(answer, docid, rev, url),
        )
        doc["_rev"] = result["rev"]
        revpos = int(result["rev"].split("-", 1)[0])
        for part in parts:
            stub = {key: value for key, value in part.stub.items() if key != "follows"}
            stub["stub"] = True
            stub.setdefault("digest", part.digest())
            stub.setdefault("revpos", revpos)
            stubs[part.name] = stub
        doc["_attachments"] = stubs
        return result

    async def get_attachment(
        self,
        doc: MutableMapping[str, Any] | str,
        name: str,
        rev: str | None = None,
        *,
        range: tuple[int, int | None] | None = None,
    ) -> bytes:
        """``GET /{db}/{docid}/{attname}``: the attachment's bytes (``doc`` may be an id).

        ``range=(first, last)`` asks for bytes ``first`` to ``last`` inclusive
        (``last=None``: to the end), as HTTP's ``Range`` does; when the server
        answers with the whole attachment instead (CouchDB does for compressed
        ones, PouchDB Server always), the library cuts the range out itself.
        """
        if range is None:  # the whole attachment: one read, no pieces to join
            response = await self._client.send(
                "GET", self._attachment_path(doc_id(doc), name), query_string({"rev": rev})
            )
            return await response.read()
        parts = [chunk async for chunk in self._download(doc, name, rev, range, {})]
        return b"".join(parts)

    def stream_attachment(
        self,
        doc: MutableMapping[str, Any] | str,
        name: str,
        rev: str | None = None,
        *,
        range: tuple[int, int | None] | None = None,
    ) -> Stream[bytes]:
        """``GET /{db}/{docid}/{attname}`` as a Stream of byte chunks, in bounded memory.

        ``meta`` gets ``content_type`` and ``content_length`` once the answer
        starts; ``range`` works as for ``get_attachment``.
        """
        meta: dict[str, Any] = {}
        return self._client.stream(self._download(doc, name, rev, range, meta), meta)

    async def _download(
        self,
        doc: MutableMapping[str, Any] | str,
        name: str,
        rev: str | None,
        byte_range: tuple[int, int | None] | None,
        meta: dict[str, Any],
    ) -> AsyncIterator[bytes]:
        path = self._attachment_path(doc_id(doc), name)
        headers = {"Range": range_header(byte_range)} if byte_range is not None else None
        response = await self._client.send("GET", path, query_string({"rev": rev}), headers=headers)
        try:
            meta["content_type"] = response.header("Content-Type")
            length = response.header("Content-Length")
            meta["content_length"] = int(length) if length else None
            skip, left = 0, None
            if byte_range is not None and response.status == 200:  # the whole attachment came
                skip, last = byte_range
                left = None if last is None else last - skip + 1
            async for chunk in response.chunks():
                if skip:
                    if skip >= len(chunk):
                        skip -= len(chunk)
                        continue
                    chunk, skip = chunk[skip:], 0
                if left is not None:
                    chunk = chunk[:left]
                    left -= len(chunk)
                if chunk:
                    yield chunk
                if left == 0:
                    return
        finally:
            response.close()

    async def delete_attachment(self, doc: MutableMapping[str, Any], name: str) -> Any:
        """``DELETE /{db}/{docid}/{attname}?rev=``: remove an attachment; the new rev is written back."""
        docid, rev = doc_id_rev(doc)
        result = await self._client.write("DELETE", self._attachment_path(docid, name), query_string({"rev": rev}))
        doc["_rev"] = result["rev"]
        return result
