"""The recorded CouchDB / PouchDB Server exchanges of ``couchdb-wire/``, as test data.

The corpus is part of the repository, at ``tests/data/couchdb-wire/``; its
README describes the format and how it was recorded.

``wire.parametrize(argnames, rows)`` is ``pytest.mark.parametrize`` over rows
made from the corpus: ``rows`` is a function returning ``(test_id, *values)``
tuples, called only when the corpus is there.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "couchdb-wire"
SERVERS = ("couchdb", "pouchdb")


@functools.cache
def exchanges(file: str) -> tuple[dict[str, Any], ...]:
    """The exchanges of one corpus file, e.g. ``exchanges("documents.json")``."""
    with open(CORPUS / file, encoding="utf-8") as f:
        return tuple(json.load(f)["exchanges"])


def answers(*files: str) -> Iterator[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """``(file, exchange, server, response)`` for every response a server gave."""
    for file in files:
        for exchange in exchanges(file):
            for server in SERVERS:
                response = exchange[server]
                if "status" in response:
                    yield file, exchange, server, response


def request(exchange: dict[str, Any], server: str = "couchdb") -> dict[str, Any]:
    """The request as sent to ``server`` (PouchDB's differs when it carries its own)."""
    return exchange[server].get("request") or exchange["request"]


def raw_body(response: dict[str, Any]) -> bytes:
    """The body bytes as they came over the wire (JSON re-serialised compactly)."""
    encoding = response.get("body_encoding")
    body = response.get("body")
    if encoding == "json":
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if encoding == "text":
        return body.encode()
    if encoding == "empty" or body is None:
        return b""
    raise ValueError(f"no raw form for a {encoding} body")


def parametrize(argnames: str, rows: Callable[[], Iterable[tuple[Any, ...]]]) -> Any:
    """``pytest.mark.parametrize`` over corpus rows ``(test_id, *values)``."""
    names = [name.strip() for name in argnames.split(",")]
    params = [pytest.param(*values, id=test_id) for test_id, *values in rows()]
    if not params:  # a filter that matches nothing is a broken test, not a pass
        raise LookupError(f"no exchange in {CORPUS} fits ({argnames})")
    return pytest.mark.parametrize(names, params)
