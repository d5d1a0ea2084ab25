"""Partitioned databases: ``/{db}/_partition/{partition}/...``.

Rules kept here:

- A database made with ``create(partitioned=True)`` holds documents whose
  ids are ``{partition}:{key}``. Queries limited to one partition go under
  ``/{db}/_partition/{partition}/``: its info, ``_all_docs``, the views of
  a partitioned design document, ``_find`` and ``_explain``.
- A partition is named by a ``partition=`` argument of ``partition_info``,
  ``all_docs``/``view``/``stream_view``, ``find``/``stream_find``/``find_all``
  and ``explain``; ``partition_path`` builds the one prefix they all share.
- A partition name is a non-empty str that does not start with ``_`` and
  holds no ``:`` (CouchDB answers 400 ``illegal_partition`` otherwise);
  it is refused before anything is sent, and sent as one encoded segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import InvalidArgument
from ._urls import segment

if TYPE_CHECKING:
    from ._http import Http

__all__ = ["Partitions", "partition_path", "partition_segment"]


def partition_segment(partition: object) -> str:
    """The encoded segment of a valid partition name."""
    encoded = segment(partition, "partition name")
    name: str = partition  # type: ignore[assignment]
    if name.startswith("_"):
        raise InvalidArgument(f"partition name {name!r} must not start with '_'")
    if ":" in name:
        raise InvalidArgument(f"partition name {name!r} must not contain ':'")
    return encoded


def partition_path(db_path: str, partition: object) -> str:
    """``/{db}`` or, for a partition, ``/{db}/_partition/{partition}``."""
    if partition is None:
        return db_path
    return f"{db_path}/_partition/{partition_segment(partition)}"


class Partitions:
    _http: Http
    _path: str

    async def partition_info(self, partition: str) -> dict[str, Any]:
        """``GET /{db}/_partition/{partition}``: a partition's document counts and sizes.

        CouchDB answers ``{"db_name", "partition", "doc_count",
        "doc_del_count", "sizes"}`` (counts of 0 for a partition without
        documents); a database that is not partitioned is a ``BadRequest``.
        """
        return await self._http.json("GET", partition_path(self._path, partition))  # type: ignore[no-any-return]
