"""Argument checks shared by every endpoint: raised before any request is sent.

A wrong type is ``InvalidType``, a value of the right type that CouchDB would
refuse is ``InvalidArgument``; the message names the argument.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, MutableMapping
from typing import Any

from .errors import InvalidArgument, InvalidType

__all__ = [
    "as_list",
    "check_doc",
    "doc_id",
    "doc_id_rev",
    "flag",
    "mapping",
    "non_empty",
    "refuse_unknown",
    "seq",
    "text",
    "whole_number",
]


def as_list(value: object, what: str) -> list[Any]:
    """A list or tuple, as a list."""
    if not isinstance(value, (list, tuple)):
        raise InvalidType(f"{what} must be a list, not {type(value).__name__}")
    return list(value)


def flag(value: object, name: str) -> bool:
    """A real bool (1 or "yes" are refused, not guessed)."""
    if not isinstance(value, bool):
        raise InvalidType(f"{name} must be True or False, not {value!r}")
    return value


def whole_number(value: object, name: str, least: int = 0) -> int:
    """An int (not a bool) of at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}")
    if value < least:
        raise InvalidArgument(f"{name} must be at least {least}, not {value}")
    return value


def text(value: object, what: str) -> str:
    """A str (possibly empty)."""
    if not isinstance(value, str):
        raise InvalidType(f"{what} must be a str, not {type(value).__name__}")
    return value


def non_empty(value: object, what: str) -> str:
    """A str with at least one character."""
    checked = value if type(value) is str else text(value, what)
    if not checked:
        raise InvalidArgument(f"{what} must not be empty")
    return checked


def mapping(value: object, what: str) -> Mapping[str, Any]:
    """A dict (any Mapping)."""
    if not isinstance(value, Mapping):
        raise InvalidType(f"{what} must be a dict, not {type(value).__name__}")
    return value


def seq(value: object, what: str = "since") -> str | int:
    """A CouchDB sequence: an opaque str (CouchDB) or an int (PouchDB, CouchDB 1.x)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidType(f"{what} must be a seq (str or int), not {type(value).__name__}")
    return value


def refuse_unknown(given: Collection[str], known: Collection[str], what: str) -> None:
    """Refuse the names in ``given`` that are not in ``known``: ``unknown {what} option: x``."""
    if not given:
        return
    unknown = sorted(name for name in given if name not in known)
    if unknown:
        raise InvalidArgument(f"unknown {what} option{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")


_NO_ID = object()


def check_doc(doc: object) -> MutableMapping[str, Any]:
    """A document to send: a dict whose ``_id``, when present, is a non-empty str."""
    # type() first: the ABC check costs more than encoding the document
    if type(doc) is not dict and not isinstance(doc, MutableMapping):
        raise InvalidType(f"a document must be a dict, not {type(doc).__name__}")
    docid = doc.get("_id", _NO_ID)
    if docid is not _NO_ID:
        if not isinstance(docid, str):
            raise InvalidType(f"_id must be a str, not {type(docid).__name__}")
        if not docid:
            raise InvalidArgument("_id must not be empty (leave it out to let CouchDB pick one)")
    return doc


def doc_id(doc: object) -> str:
    """The id of a document given as a dict or as its id."""
    if isinstance(doc, str):
        if not doc:
            raise InvalidArgument("document id must not be empty")
        return doc
    docid = check_doc(doc).get("_id")
    if not isinstance(docid, str) or not docid:
        raise InvalidArgument("the document has no _id")
    return docid


def doc_id_rev(doc: object) -> tuple[str, str]:
    """The ``_id`` and ``_rev`` of a stored document, both required."""
    checked = check_doc(doc)
    docid = doc_id(checked)
    rev = checked.get("_rev")
    if not isinstance(rev, str) or not rev:
        raise InvalidArgument(f"document {docid!r} has no _rev")
    return docid, rev
