"""Authentication against the real server: cookie sessions, JWT, proxy headers, and no credential shown.

The exact requests (one login, the cookie on each request, the 401 that
renews a session and what is or is not sent again) are checked with no server
in ``tests/unit/test_auth.py``. Here the users are real: PouchDB Server knows
the users made in its ``_users`` (it stays in admin party otherwise). What
needs CouchDB's session expiry, its JWT or proxy handlers is marked
``couchdb_only``; JWT and proxy tests also skip when the CouchDB at
``COUCHDB_URL`` has those handlers off (they are off by default).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from wallaby.backends.couchdb.testing import free_port

pytestmark = pytest.mark.server_only("the embedded store is in admin party: it checks no credentials")


def bare(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


async def new_user(couch, password: str = "pw-1", roles=()) -> str:
    name = f"user_{uuid.uuid4().hex[:10]}"
    await couch.server().create_user(name, password, roles)
    # on a cluster the node that answers may not find the new user for a moment; a few logins go round
    probe = couch.server(bare(couch.url))
    for _ in range(couch.info.copies):
        await couch.eventually(lambda: probe.login(name, password), retry=couch.module.Unauthorized)
    return name


async def drop_user(couch, name: str) -> None:
    try:
        await couch.server().delete_user(name)
    except couch.module.NotFound:
        pass


async def member_db(couch, name: str):
    """A fresh database whose members are ``name`` (CouchDB 3 makes new ones admin-only)."""
    db = await couch.fresh_db()
    security = {"members": {"names": [name], "roles": []}}
    await db.set_security(security)
    for _ in range(couch.info.copies):  # on a cluster, each copy of each shard has it a moment later
        await couch.eventually(db.security, until=lambda found: found == security)
    return db


# --- cookie sessions --------------------------------------------------------------------


async def test_a_cookie_server_logs_in_once_and_is_authenticated_by_the_cookie(couch):
    name = await new_user(couch)
    try:
        db = await member_db(couch, name)
        server = couch.server(bare(couch.url), user=name, password="pw-1", auth="cookie")
        session = await server.session()
        assert session["userCtx"]["name"] == name
        assert session["info"]["authenticated"] == "cookie"
        as_user = server.database(db.name)
        for n in range(5):  # on a cluster, on every copy: info() may read any of them
            await as_user.save({"_id": f"doc{n}"}, **couch.all_copies)
        assert (await as_user.info())["doc_count"] == 5
        assert server._client.auth.logins == 1  # one POST /_session for all of them
    finally:
        await drop_user(couch, name)


async def test_a_database_takes_the_cookie_option_too(couch):
    name = await new_user(couch)
    try:
        db = await member_db(couch, name)
        as_user = couch.Database(db.name, user=name, password="pw-1", url=bare(couch.url), auth="cookie")
        try:
            await as_user.save({"_id": "x"})
            assert (await as_user.get("x"))["_id"] == "x"
        finally:
            await as_user.close()
    finally:
        await drop_user(couch, name)


async def test_a_cookie_server_with_a_wrong_password_is_unauthorized_and_never_shows_it(couch):
    name = await new_user(couch)
    try:
        server = couch.server(bare(couch.url), user=name, password="wr0ng-pass", auth="cookie")
        with pytest.raises(couch.module.Unauthorized) as caught:
            await server.session()
        error = caught.value
        assert error.method == "POST" and error.url == bare(couch.url) + "/_session"
        for text in (str(error), repr(error), error.url, repr(server)):
            assert "wr0ng-pass" not in text
    finally:
        await drop_user(couch, name)


async def test_concurrent_requests_of_a_new_cookie_server_share_one_login(couch):
    name = await new_user(couch)
    try:
        db = await member_db(couch, name)
        server = couch.server(bare(couch.url), user=name, password="pw-1", auth="cookie")
        as_user = server.database(db.name)
        # a Twisted call is already running (a Deferred); an asyncio coroutine needs a task
        pending = [as_user.save({"_id": f"c{n}"}) for n in range(6)]
        pending = pending if couch.twisted else [couch.spawn(each) for each in pending]
        for each in pending:
            await each
        assert server._client.auth.logins == 1
    finally:
        await drop_user(couch, name)


async def test_changing_its_own_password_keeps_a_cookie_server_working(couch):
    name = await new_user(couch)
    try:
        db = await member_db(couch, name)
        server = couch.server(bare(couch.url), user=name, password="pw-1", auth="cookie")
        await server.session()
        if couch.is_couchdb:  # CouchDB 3's _users is admin-only: the admin changes it, the user logs in again
            await couch.server().change_password(name, "pw-2")
            # CouchDB's auth cache (each node's, on a cluster) learns the new password a moment later
            await couch.eventually(lambda: server.login(name, "pw-2"), retry=couch.module.Unauthorized)
        else:
            await server.change_password(name, "pw-2")
        assert (await server.database(db.name).info())["db_name"] == db.name
        assert (await server.session())["userCtx"]["name"] == name
    finally:
        await drop_user(couch, name)


@pytest.mark.couchdb_only
async def test_an_ended_session_is_renewed_without_the_caller_noticing(couch):
    name = await new_user(couch)
    try:
        db = await member_db(couch, name)
        server = couch.server(bare(couch.url), user=name, password="pw-1", auth="cookie")
        as_user = server.database(db.name)
        await as_user.save({"_id": "a"})
        # a cookie CouchDB cannot verify is what an expired one looks like: the request runs as anonymous
        forged = (
            base64.urlsafe_b64encode(f"{name}:{int(time.time()) - 7200:X}:{'0' * 40}".encode()).decode().rstrip("=")
        )
        server._client.auth._cookie = forged
        assert (await as_user.get("a"))["_id"] == "a"  # 401, GET /_session, a new login, sent again
        assert server._client.auth.logins == 2
        server._client.auth._cookie = forged
        with pytest.raises(couch.module.Unauthorized, match="never sent twice"):
            await as_user.save({"no": "id"})  # a POST: renewed, but not sent again
        assert (await as_user.info())["doc_count"] == 1  # and the new session works
        assert server._client.auth.logins == 3
    finally:
        await drop_user(couch, name)


@pytest.mark.couchdb_only
async def test_a_user_that_is_not_allowed_gets_the_401_without_a_new_login(couch):
    name = await new_user(couch)
    try:
        server = couch.server(bare(couch.url), user=name, password="pw-1", auth="cookie")
        with pytest.raises(couch.module.Unauthorized, match="not a server admin"):
            await server.all_dbs()
        assert server._client.auth.logins == 1
    finally:
        await drop_user(couch, name)


# --- JWT and proxy authentication (CouchDB, when its handlers are on) ------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def hs256(claims: dict, key: bytes) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


async def _handlers(couch) -> list[str]:
    return (await couch.server().session())["info"]["authentication_handlers"]


@pytest.mark.couchdb_only
async def test_a_jwt_authenticates_as_its_subject(couch):
    if "jwt" not in await _handlers(couch):
        pytest.skip("the jwt_authentication_handler is off on this CouchDB")
    key = b"wallaby-test-key"
    admin = couch.server()
    # the key goes to every node (a load balancer may send the session request to any),
    # and the value each node had before is put back
    nodes = (await admin.membership())["cluster_nodes"]
    before = {}
    for node in nodes:
        try:
            before[node] = await admin.config(node, "jwt_keys", "hmac:_default")
        except couch.module.NotFound:
            before[node] = None
    try:
        for node in nodes:
            await admin.set_config("jwt_keys", "hmac:_default", base64.b64encode(key).decode(), node)
        claims = {"sub": "jwt_user", "_couchdb.roles": ["r1"], "exp": int(time.time()) + 300}
        for token in (hs256(claims, key), lambda: hs256(claims, key)):
            session = await couch.server(bare(couch.url), token=token).session()
            assert session["userCtx"] == {"name": "jwt_user", "roles": ["r1"]}
            assert session["info"]["authenticated"] == "jwt"
    finally:
        for node, value in before.items():
            if value is None:
                await admin.delete_config("jwt_keys", "hmac:_default", node)
            else:
                await admin.set_config("jwt_keys", "hmac:_default", value, node)


@pytest.mark.couchdb_only
async def test_proxy_headers_authenticate_the_named_user(couch):
    if "proxy" not in await _handlers(couch):
        pytest.skip("the proxy_authentication_handler is off on this CouchDB")
    admin = couch.server()
    secret = None
    for section in ("chttpd_auth", "couch_httpd_auth"):  # 3.2 moved it; older configs keep the old name
        try:
            secret = await admin._client.json("GET", f"/_node/_local/_config/{section}/secret")
            break
        except couch.module.NotFound:
            pass
    if not secret:
        pytest.skip("this CouchDB has no chttpd_auth/secret")
    server = couch.server(bare(couch.url), proxy_user="proxied", proxy_roles=["r1", "r2"], proxy_secret=secret)
    session = await server.session()
    assert session["userCtx"] == {"name": "proxied", "roles": ["r1", "r2"]}
    assert session["info"]["authenticated"] == "proxy"
    assert secret not in repr(server)


# --- credentials are never shown -----------------------------------------------------


async def test_no_scheme_shows_its_credentials_in_reprs_or_errors(couch):
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens: every call fails with a NetworkError
    servers = [
        couch.server(url, user="alice", password="s3cret-pw", auth="cookie"),
        couch.server(url, token="s3cret-pw.jwt.sig"),
        couch.server(url, token=lambda: "s3cret-pw.jwt.sig"),
        couch.server(url, proxy_user="alice", proxy_roles=["r"], proxy_secret="s3cret-pw"),
    ]
    for server in servers:
        assert "s3cret-pw" not in repr(server) and "s3cret-pw" not in repr(server.database("db"))
        with pytest.raises(couch.module.NetworkError) as caught:
            await server.info()
        for text in (str(caught.value), repr(caught.value), caught.value.url):
            assert "s3cret-pw" not in text


async def test_no_log_line_shows_a_credential(couch, caplog):
    name = await new_user(couch, "pw-l0gged")
    try:
        with caplog.at_level(logging.DEBUG):
            server = couch.server(bare(couch.url), user=name, password="pw-l0gged", auth="cookie")
            await server.session()
            cookie = server._client.auth._cookie
            with pytest.raises(couch.module.NotFound):
                await server.database(couch.db_name("missing")).info()
        for record in caplog.records:
            text = record.getMessage()
            assert "pw-l0gged" not in text and cookie not in text
    finally:
        await drop_user(couch, name)


async def test_the_authentication_options_are_checked_when_the_server_is_made(couch):
    with pytest.raises(couch.module.InvalidArgument):
        couch.Server(couch.url, auth="digest")
    with pytest.raises(couch.module.InvalidArgument):
        couch.Server(bare(couch.url), auth="cookie")
    with pytest.raises(couch.module.InvalidArgument):
        couch.Server(bare(couch.url), user="a", password="b", token="t")
    with pytest.raises(couch.module.InvalidArgument):
        couch.Server(bare(couch.url), proxy_roles=["r"])
    with pytest.raises(couch.module.InvalidType):
        couch.Server(bare(couch.url), token=42)


async def test_the_log_lines_of_a_retrying_feed_show_no_credentials(couch, caplog):
    from wallaby.backends.couchdb import Backoff
    from wallaby.backends.couchdb.testing import free_port

    db = couch.Database("db", url=f"http://alice:s3cret-pw@127.0.0.1:{free_port()}")
    with caplog.at_level(logging.DEBUG, logger="wallaby.backends.couchdb"):
        with pytest.raises(couch.module.NetworkError):
            await db.follow(since=0, backoff=Backoff(first=0.01, retries=2)).run(print)
    await db.close()
    messages = [record.getMessage() for record in caplog.records if record.name.startswith("wallaby")]
    assert len(messages) >= 2  # each retry was logged, with its URL
    assert all("s3cret-pw" not in message and "alice" not in message for message in messages)
