"""A database's security object (``/{db}/_security``), on Database.

Rules kept here:

- The object has ``admins`` and ``members``, each ``{"names": [...],
  "roles": [...]}`` of strings; other top-level members are stored as given
  (CouchDB keeps them). A wrong shape is refused before sending: CouchDB 3.5
  answers it with a bare 500 (``no_majority``), PouchDB Server stores it.
- Empty ``members`` opens the database to everyone; CouchDB 3 gives a new
  database ``{"members": {"roles": ["_admin"]}, "admins": {"roles": ["_admin"]}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType

__all__ = ["Security", "check_security"]

_SECTIONS = ("admins", "members")
_LISTS = ("names", "roles")


def check_security(doc: object) -> dict[str, Any]:
    """``doc`` as a security object CouchDB accepts, lists as lists; else InvalidArgument."""
    if not isinstance(doc, Mapping):
        raise InvalidType(f"a security object must be a dict, not {type(doc).__name__}")
    checked = dict(doc)
    for section in _SECTIONS:
        if section not in checked:
            continue
        value = checked[section]
        if not isinstance(value, Mapping):
            raise InvalidType(f"security {section!r} must be a dict with names and roles, not {type(value).__name__}")
        unknown = sorted(set(value) - set(_LISTS))
        if unknown:
            raise InvalidArgument(
                f"security {section!r} takes only names and roles, not {', '.join(map(repr, unknown))}"
            )
        part = {}
        for key in _LISTS:
            if key not in value:
                continue
            items = value[key]
            if isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple)):
                raise InvalidType(f"security {section}.{key} must be a list of str, not {type(items).__name__}")
            for item in items:
                if not isinstance(item, str):
                    raise InvalidType(f"security {section}.{key} must hold only str, not {type(item).__name__}")
            part[key] = list(items)
        checked[section] = part
    return checked


class Security(Resource):
    """``/{db}/_security`` on Database."""

    async def security(self) -> dict[str, Any]:
        """``GET /{db}/_security``: who administers and who may read this database."""
        return await self._client.json_dict("GET", self._path + "/_security")

    async def set_security(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /{db}/_security``: replace the security object (``admins``, ``members``); server admins only."""
        return await self._client.json_dict("PUT", self._path + "/_security", "", check_security(doc))
