"""Partitioned databases: a partition's info (``/{db}/_partition/{partition}``).

A database made with ``create(partitioned=True)`` holds documents whose ids
are ``{partition}:{key}``. Queries limited to one partition take a
``partition=`` argument (``all_docs``, ``view``, ``stream_view``, ``find``,
``stream_find``, ``find_all``, ``explain``), which puts them under
``/{db}/_partition/{partition}/``; the name's rules are in ``_core/urls.py``.
"""

from __future__ import annotations

from typing import Any

from .._core.client import Resource
from .._core.urls import partition_path

__all__ = ["Partitions"]


class Partitions(Resource):
    async def partition_info(self, partition: str) -> dict[str, Any]:
        """``GET /{db}/_partition/{partition}``: a partition's document counts and sizes.

        CouchDB answers ``{"db_name", "partition", "doc_count",
        "doc_del_count", "sizes"}`` (counts of 0 for a partition without
        documents); a database that is not partitioned is a ``BadRequest``.
        """
        return await self._client.json_dict("GET", partition_path(self._path, partition))
