"""Users (the ``_users`` database) and sessions (``/_session``), on Server.

Rules kept here:

- A user is the document ``org.couchdb.user:{name}`` in ``_users``, with
  ``name``, ``roles``, ``type: "user"`` and a plain ``password`` that CouchDB
  replaces with its hash on save. Members starting with ``_`` and ``type``
  are CouchDB's, so they are refused as extra fields.
- Changing a password or roles fetches the document and saves it with its
  ``_rev``: a concurrent change raises ``Conflict``, never overwrites it.
- When the Server changes its own user's password, it sends the new one
  from then on (Basic) or logs in with it (cookie session).
- ``login()`` makes the Server use a session cookie; ``logout()`` ends the
  session and the Server then sends its requests anonymously.
- CouchDB 3 makes ``_users`` readable and writable by server admins only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._core.auth import BasicAuth, CookieAuth
from .._core.checks import non_empty
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType
from .._core.params import query_string
from .._core.urls import doc_segment

__all__ = ["Users", "user_doc_id"]

_PREFIX = "org.couchdb.user:"
_USERS = "/_users/"


def _name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidType(f"a user name must be a str, not {type(name).__name__}")
    if not name:
        raise InvalidArgument("a user name must not be empty")
    if name.startswith("_") or ":" in name:
        raise InvalidArgument(f"a user name must not start with '_' nor hold ':', as CouchDB requires: {name!r}")
    return name


def _password(password: object) -> str:
    if not isinstance(password, str):
        raise InvalidType(f"a password must be a str, not {type(password).__name__}")
    if not password:
        raise InvalidArgument("a password must not be empty")
    return password


def _roles(roles: object) -> list[str]:
    if isinstance(roles, (str, bytes)) or not isinstance(roles, Iterable):
        raise InvalidType(f"roles must be a list of str, not {type(roles).__name__}")
    roles = list(roles)
    for role in roles:
        if not isinstance(role, str):
            raise InvalidType(f"each role must be a str, not {type(role).__name__}")
        if role.startswith("_"):
            raise InvalidArgument(f"roles starting with '_' are CouchDB's own: {role!r}")
    return roles


def _fields(fields: dict[str, Any]) -> dict[str, Any]:
    for key in fields:
        if key.startswith("_") or key in (
            "type",
            "password_sha",
            "salt",
            "derived_key",
            "iterations",
            "password_scheme",
        ):
            raise InvalidArgument(f"{key!r} is CouchDB's own member of a user document")
    return fields


def user_doc_id(name: str) -> str:
    """``alice`` -> ``org.couchdb.user:alice``."""
    return _PREFIX + _name(name)


class Users(Resource):
    """``_users`` and ``_session`` on Server."""

    def _user_path(self, name: str) -> str:
        return _USERS + _PREFIX + doc_segment(_name(name))

    async def create_user(self, name: str, password: str, roles: Iterable[str] = (), **fields: Any) -> dict[str, Any]:
        """``PUT /_users/org.couchdb.user:{name}``: a new user; ``fields`` are extra members (``email=...``).

        CouchDB's answer (``ok``, ``id``, ``rev``); an existing user raises ``Conflict``.
        """
        doc = {
            **_fields(fields),
            "_id": user_doc_id(name),
            "name": name,
            "password": _password(password),
            "roles": _roles(roles),
            "type": "user",
        }
        return await self._client.write("PUT", self._user_path(name), "", doc)

    async def get_user(self, name: str) -> dict[str, Any]:
        """``GET /_users/org.couchdb.user:{name}``: the user document (the password only as its hash)."""
        return await self._client.json_dict("GET", self._user_path(name))

    async def update_user(
        self, name: str, *, password: str | None = None, roles: Iterable[str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """``GET`` then ``PUT /_users/org.couchdb.user:{name}`` with its ``_rev``: a new password, roles or fields.

        Fields given as None are removed. CouchDB's answer (``ok``, ``id``, ``rev``).
        """
        changes = _fields(fields)
        if password is not None:
            _password(password)
        if roles is not None:
            roles = _roles(roles)
        if password is None and roles is None and not changes:
            raise InvalidArgument("update_user needs password, roles or fields to change")
        path = self._user_path(name)
        doc = await self._client.json_dict("GET", path)
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        if roles is not None:
            doc["roles"] = roles
        if password is not None:
            doc["password"] = password
        answer = await self._client.write("PUT", path, "", doc)
        if password is not None:
            self._password_changed(name, password)
        return answer

    async def change_password(self, name: str, new_password: str) -> dict[str, Any]:
        """``GET`` then ``PUT /_users/org.couchdb.user:{name}``: set a new password (CouchDB hashes it)."""
        return await self.update_user(name, password=_password(new_password))

    async def delete_user(self, name: str, rev: str | None = None) -> dict[str, Any]:
        """``DELETE /_users/org.couchdb.user:{name}?rev=``: remove a user (its current rev is fetched if not given)."""
        path = self._user_path(name)
        if rev is None:
            rev = (await self._client.json_dict("GET", path))["_rev"]
        else:
            non_empty(rev, "rev")
        return await self._client.write("DELETE", path, query_string({"rev": rev}))

    def _password_changed(self, name: str, password: str) -> None:
        auth = self._client.auth
        if isinstance(auth, (BasicAuth, CookieAuth)) and auth.user == name:
            self._client.set_auth(type(auth)(name, password))

    async def session(self) -> dict[str, Any]:
        """``GET /_session``: who this Server is to CouchDB (``userCtx``: ``name``, ``roles``) and how."""
        return await self._client.json_dict("GET", "/_session")

    async def login(self, user: str | None = None, password: str | None = None) -> dict[str, Any]:
        """``POST /_session``: start a cookie session; this Server's requests then send its cookie.

        Without arguments, with the Server's own user and password. CouchDB's
        answer (``ok``, ``name``, ``roles``); a wrong password raises ``Unauthorized``.
        """
        if user is None:
            if password is not None:
                raise InvalidArgument("login() with a password needs the user too")
            known = self._client.auth.credentials() if self._client.auth is not None else None
            if known is None:
                raise InvalidArgument("login() needs a user and password: this Server has none")
            user, password = known
        elif password is None:
            raise InvalidArgument("login() with a user needs the password too")
        session = CookieAuth(user, password)
        answer = await session.login(self._client)
        self._client.set_auth(session)
        return answer

    async def logout(self) -> dict[str, Any]:
        """``DELETE /_session``: end the session; this Server then sends its requests anonymously."""
        answer = await self._client.json_dict("DELETE", "/_session")
        self._client.set_auth(None)
        return answer
