"""Helpers for the tests of the embedded store itself (they need no server)."""

from __future__ import annotations

import uuid
from typing import Any


async def store_db(couch: Any, url: str = "memory://", **create: Any) -> Any:
    """A new database on a store of its own (``memory://``: private to its Server), closed after the test."""
    server = couch.server(url)
    return await server.create(f"db-{uuid.uuid4().hex[:8]}", **create)
