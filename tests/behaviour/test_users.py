"""Users in ``_users`` and sessions on ``/_session``: create, read, update, delete, log in and out.

PouchDB Server runs in admin party: anonymous requests are admins there, and
Basic credentials work only for users that exist in its ``_users``. The users
made here are real on both servers, so logging in as them is tested on both.
Never create or delete a database as one of them on PouchDB Server (that
kills its process); ``couch.fresh_db()`` uses the admin.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.server_only("users and sessions live in a server's _users database")


def bare(url: str) -> str:
    """``url`` without its userinfo (COUCHDB_URL carries admin credentials)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class Users:
    """Makes users with fresh names on the admin server, and deletes them afterwards."""

    def __init__(self, couch) -> None:
        self.couch = couch
        self.admin = couch.server()
        self.names: list[str] = []

    async def new(self, password: str = "pw-1", roles=(), **fields) -> str:
        name = f"user_{uuid.uuid4().hex[:10]}"
        await self.admin.create_user(name, password, roles, **fields)
        self.names.append(name)
        return name

    async def cleanup(self) -> None:
        for name in self.names:
            try:
                await self.admin.delete_user(name)
            except self.couch.module.NotFound:
                pass


async def with_users(couch, body) -> None:
    users = Users(couch)
    try:
        await body(users)
    finally:
        await users.cleanup()


# --- create, read, update, delete ------------------------------------------------


async def test_a_created_user_is_read_back_with_its_password_hashed(couch):
    async def body(users: Users) -> None:
        name = await users.new("pw-secret", ["reader", "writer"], email="a@example.com")
        doc = await users.admin.get_user(name)
        assert doc["_id"] == f"org.couchdb.user:{name}"
        assert doc["name"] == name and doc["type"] == "user"
        assert doc["roles"] == ["reader", "writer"]
        assert doc["email"] == "a@example.com"
        assert "password" not in doc and doc["derived_key"] and doc["salt"]

    await with_users(couch, body)


async def test_creating_an_existing_user_is_a_conflict(couch):
    async def body(users: Users) -> None:
        name = await users.new()
        with pytest.raises(couch.module.Conflict):
            await users.admin.create_user(name, "other")

    await with_users(couch, body)


async def test_a_missing_user_is_not_found(couch):
    server = couch.server()
    for call in (server.get_user, server.delete_user, lambda name: server.change_password(name, "x")):
        with pytest.raises(couch.module.NotFound):
            await call(f"nobody_{uuid.uuid4().hex[:8]}")


async def test_the_new_user_can_authenticate_and_the_session_says_who_it_is(couch):
    async def body(users: Users) -> None:
        name = await users.new("pw-1")
        as_user = couch.server(bare(couch.url), user=name, password="pw-1")
        session = await as_user.session()
        assert session["ok"] is True
        assert session["userCtx"]["name"] == name
        assert session["info"]["authenticated"] == "default"

    await with_users(couch, body)


async def test_change_password_replaces_the_old_one(couch):
    async def body(users: Users) -> None:
        name = await users.new("old-pw")
        answer = await users.admin.change_password(name, "new-pw")
        assert answer["ok"] is True and answer["rev"].startswith("2-")
        with pytest.raises(couch.module.Unauthorized):
            await couch.server(bare(couch.url), user=name, password="old-pw").session()
        assert (await couch.server(bare(couch.url), user=name, password="new-pw").session())["userCtx"]["name"] == name

    await with_users(couch, body)


async def test_update_user_changes_roles_and_fields_and_keeps_the_password(couch):
    async def body(users: Users) -> None:
        name = await users.new("pw-1", ["a"], email="old@example.com", nick="x")
        await users.admin.update_user(name, roles=["b", "c"], email="new@example.com", nick=None)
        doc = await users.admin.get_user(name)
        assert doc["roles"] == ["b", "c"] and doc["email"] == "new@example.com" and "nick" not in doc
        assert doc["_rev"].startswith("2-")
        session = await couch.server(bare(couch.url), user=name, password="pw-1").session()
        assert session["userCtx"] == {"name": name, "roles": ["b", "c"]}

    await with_users(couch, body)


async def test_a_user_changing_its_own_password_keeps_working(couch):
    # CouchDB 3's _users is admin-only by default, so there the admin changes it for the Server's own user.
    async def body(users: Users) -> None:
        name = await users.new("pw-1")
        server = (
            couch.server(couch.url) if couch.is_couchdb else couch.server(bare(couch.url), user=name, password="pw-1")
        )
        if couch.is_couchdb:
            await server.change_password(name, "pw-2")
            server = couch.server(bare(couch.url), user=name, password="pw-2")
        else:
            await server.change_password(name, "pw-2")  # the Server switches to the new password itself
        assert (await server.session())["userCtx"]["name"] == name
        assert "pw-2" not in repr(server)

    await with_users(couch, body)


async def test_delete_user_removes_it(couch):
    async def body(users: Users) -> None:
        name = await users.new()
        doc = await users.admin.get_user(name)
        answer = await users.admin.delete_user(name, doc["_rev"])
        assert answer["ok"] is True
        with pytest.raises(couch.module.NotFound):
            await users.admin.get_user(name)
        name = await users.new()
        await users.admin.delete_user(name)  # the rev is fetched
        with pytest.raises(couch.module.NotFound):
            await users.admin.get_user(name)

    await with_users(couch, body)


async def test_deleting_with_an_old_rev_is_a_conflict(couch):
    async def body(users: Users) -> None:
        name = await users.new()
        old = (await users.admin.get_user(name))["_rev"]
        await users.admin.change_password(name, "newer")
        try:
            result = await users.admin.delete_user(name, old)
        except couch.module.Conflict:
            return
        # On a cluster, a copy that has not yet seen the new password takes the stale delete (the
        # user document then has a conflict) and CouchDB answers 202: the result says so.
        assert couch.on_a_cluster and result["accepted"] is True

    await with_users(couch, body)


async def test_bad_arguments_are_refused_before_sending(couch):
    server = couch.server()
    with pytest.raises(couch.module.InvalidArgument):
        await server.create_user("_reserved", "pw")
    with pytest.raises(couch.module.InvalidArgument):
        await server.create_user("a:b", "pw")
    with pytest.raises(couch.module.InvalidType):
        await server.create_user("name", "pw", roles="admin")
    with pytest.raises(couch.module.InvalidArgument):
        await server.create_user("name", "pw", type="admin")
    with pytest.raises(couch.module.InvalidArgument):
        await server.update_user("name")


@pytest.mark.couchdb_only
async def test_couchdb_keeps_users_admin_only(couch):
    # CouchDB 3: a user cannot read its own doc, anonymous sign-up is refused
    async def body(users: Users) -> None:
        name = await users.new("pw-1")
        as_user = couch.server(bare(couch.url), user=name, password="pw-1")
        with pytest.raises(couch.module.Forbidden):
            await as_user.get_user(name)
        with pytest.raises(couch.module.Unauthorized):
            await couch.server(bare(couch.url)).create_user(f"signup_{uuid.uuid4().hex[:8]}", "pw")

    await with_users(couch, body)


# --- sessions -------------------------------------------------------------------------


async def test_session_of_an_anonymous_server(couch):
    session = await couch.server(bare(couch.url)).session()
    assert session["ok"] is True
    assert session["userCtx"]["name"] is None
    assert "cookie" in session["info"]["authentication_handlers"]


async def test_login_makes_the_server_use_a_cookie_and_logout_makes_it_anonymous(couch):
    async def body(users: Users) -> None:
        name = await users.new("pw-1", ["r1"])
        server = couch.server(bare(couch.url))
        answer = await server.login(name, "pw-1")
        assert answer == {"ok": True, "name": name, "roles": ["r1"]}
        assert server.user == name and "pw-1" not in repr(server)
        session = await server.session()
        assert session["userCtx"]["name"] == name
        assert session["info"]["authenticated"] == "cookie"
        assert (await server.logout())["ok"] is True
        assert server.user is None
        assert (await server.session())["userCtx"]["name"] is None

    await with_users(couch, body)


async def test_login_with_the_servers_own_credentials(couch):
    async def body(users: Users) -> None:
        name = await users.new("pw-1")
        server = couch.server(bare(couch.url), user=name, password="pw-1")
        assert (await server.session())["info"]["authenticated"] == "default"
        await server.login()
        assert (await server.session())["info"]["authenticated"] == "cookie"

    await with_users(couch, body)


async def test_login_with_a_wrong_password_is_unauthorized(couch):
    async def body(users: Users) -> None:
        name = await users.new("pw-1")
        server = couch.server(bare(couch.url))
        with pytest.raises(couch.module.Unauthorized) as caught:
            await server.login(name, "wr0ng-pass")
        error = caught.value
        assert error.url == bare(couch.url) + "/_session" and error.method == "POST"
        for text in (str(error), repr(error), error.url, repr(server)):
            assert "wr0ng-pass" not in text
        assert server.user is None  # still anonymous

    await with_users(couch, body)
