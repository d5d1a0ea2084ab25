"""Server: info, databases, uuids, credentials, the pool, and a server that is not there."""

import socket
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from wallaby.backends.couchdb.testing import free_port


def bare(url):
    """``url`` without its userinfo (COUCHDB_URL carries admin credentials)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def with_userinfo(url, user, password):
    parts = urlsplit(bare(url))
    return urlunsplit((parts.scheme, f"{user}:{password}@{parts.netloc}", parts.path, "", ""))


def credentials(url):
    parts = urlsplit(url)
    return parts.username, parts.password


# --- info, databases, uuids ---------------------------------------------------


async def test_info_returns_the_servers_welcome(couch):
    server = couch.server()
    info = await server.info()
    assert isinstance(info["version"], str)
    assert "vendor" in info


async def test_a_trailing_slash_on_the_url_is_ignored(couch):
    server = couch.server(couch.url + "/")
    assert "version" in await server.info()
    with pytest.raises(couch.module.NotFound) as caught:
        await server.database("missing-db-x1").info()
    assert caught.value.url == bare(couch.url) + "/missing-db-x1"


async def test_all_dbs_lists_a_new_database(couch):
    db = await couch.fresh_db()
    names = await couch.server().all_dbs()
    assert db.name in names
    assert all(isinstance(name, str) for name in names)


async def test_all_dbs_takes_python_values_for_its_range_options(couch):
    # CouchDB answers 400 unless startkey is JSON; PouchDB Server ignores it.
    db = await couch.fresh_db()
    names = await couch.server().all_dbs(startkey=db.name, endkey=db.name + "\ufff0", limit=5, skip=0)
    assert db.name in names


@pytest.mark.couchdb_only  # PouchDB Server ignores limit/skip/startkey on /_all_dbs
async def test_all_dbs_pages_with_limit_skip_and_startkey(couch):
    server = couch.server()
    prefix = couch.db_name("page")
    names = [f"{prefix}-{suffix}" for suffix in ("a", "b", "c")]
    for name in names:
        await server.create(name)
    try:
        # on a cluster, the node that answers lists a new database a moment after another node made it
        page = await couch.eventually(
            lambda: server.all_dbs(startkey=prefix, endkey=prefix + "\ufff0", limit=2, skip=1),
            until=lambda page: page == names[1:],
        )
        assert page == names[1:]
    finally:
        for name in names:
            await server.delete(name)


async def test_uuids_gives_count_distinct_ids(couch):
    ids = await couch.server().uuids(3)
    assert len(ids) == 3 and len(set(ids)) == 3
    assert all(isinstance(value, str) and value for value in ids)


async def test_uuids_gives_one_id_by_default(couch):
    assert len(await couch.server().uuids()) == 1


@pytest.mark.parametrize("count", [0, -1, "3", 1.5, True, None])
async def test_uuids_refuses_a_bad_count_before_any_request(couch, count):
    dead = couch.server(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(couch.module.InvalidArgument):
        await dead.uuids(count)


async def test_uuids_beyond_the_servers_maximum_is_a_client_error(couch):
    # CouchDB answers 400, PouchDB Server 403: both are 4xx.
    with pytest.raises(couch.module.ClientError) as caught:
        await couch.server().uuids(100_000)
    assert 400 <= caught.value.status < 500


async def test_create_returns_the_new_database(couch):
    server = couch.server()
    name = couch.db_name()
    db = await server.create(name)
    try:
        assert isinstance(db, couch.Database)
        assert db.name == name
        assert (await couch.eventually(db.info, retry=couch.module.NotFound))["db_name"] == name
    finally:
        await server.delete(name)


async def test_create_of_an_existing_database_is_precondition_failed(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.PreconditionFailed) as caught:
        await couch.server().create(db.name)
    assert caught.value.status == 412
    assert caught.value.error == "file_exists"


async def test_delete_removes_a_database(couch):
    server = couch.server()
    name = couch.db_name()
    await server.create(name)
    result = await server.delete(name)
    assert result["ok"] is True
    await couch.eventually(lambda: server.all_dbs(), until=lambda names: name not in names)
    await couch.eventually(lambda: couch.db_gone(server.database(name)))


@pytest.mark.couchdb_only  # PouchDB Server answers 200 for a missing database
async def test_delete_of_a_missing_database_is_not_found(couch):
    with pytest.raises(couch.module.NotFound):
        await couch.server().delete(couch.db_name("missing"))


async def test_database_sends_nothing_and_shares_the_server(couch):
    dead = couch.server(f"http://127.0.0.1:{free_port()}")
    db = dead.database("anything")  # no request: no NetworkError here
    assert isinstance(db, couch.Database)
    assert db.name == "anything"
    assert db.server is dead


async def test_database_from_a_server_reads_and_writes(couch):
    server = couch.server()
    created = await couch.fresh_db()
    db = server.database(created.name)
    await db.save({"_id": "x", "v": 1})
    assert (await db.get("x"))["v"] == 1


async def test_database_name_must_be_a_non_empty_str(couch):
    server = couch.server()
    with pytest.raises(couch.module.InvalidType):
        server.database(42)
    with pytest.raises(couch.module.InvalidArgument):
        server.database("")


# --- the pool -------------------------------------------------------------------


async def test_async_with_gives_the_server_and_closes_it(couch):
    async with couch.Server(couch.url) as server:
        assert isinstance(server, couch.Server)
        assert "version" in await server.info()


async def test_close_releases_the_pool_and_can_be_called_twice(couch):
    server = couch.Server(couch.url)
    await server.info()
    await server.close()
    await server.close()


# --- credentials ----------------------------------------------------------------


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_credentials_in_the_url_are_sent(couch):
    # Both servers answer 401 to a user they do not know.
    server = couch.server(with_userinfo(couch.url, "nobody", "wr0ng-pass"))
    with pytest.raises(couch.module.Unauthorized) as caught:
        await server.info()
    assert caught.value.status == 401
    assert caught.value.error == "unauthorized"


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_user_and_password_arguments_are_sent(couch):
    server = couch.Server(bare(couch.url), "nobody", "wr0ng-pass")
    try:
        with pytest.raises(couch.module.Unauthorized):
            await server.info()
    finally:
        await server.close()


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_username_is_accepted_for_user(couch):
    server = couch.Server(bare(couch.url), username="nobody", password="wr0ng-pass")
    try:
        with pytest.raises(couch.module.Unauthorized):
            await server.info()
    finally:
        await server.close()


async def test_user_and_a_different_username_are_refused(couch):
    with pytest.raises(couch.module.InvalidArgument):
        couch.Server(couch.url, user="a", username="b")


@pytest.mark.couchdb_only  # PouchDB Server runs in admin party: no user exists there
async def test_good_credentials_as_arguments_are_accepted(couch):
    user, password = credentials(couch.url)
    if not user:
        pytest.skip("COUCHDB_URL has no credentials")
    server = couch.server(bare(couch.url), user, password)
    assert "version" in await server.info()
    assert isinstance(await server.all_dbs(), list)


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_repr_never_shows_the_password(couch):
    in_url = couch.server(with_userinfo(couch.url, "alice", "s3cret-pw"))
    as_args = couch.server(bare(couch.url), user="alice", password="s3cret-pw")
    for server in (in_url, as_args):
        assert "s3cret-pw" not in repr(server)
        assert "s3cret-pw" not in server.url
        assert "alice" in repr(server)
        assert "s3cret-pw" not in repr(server.database("somedb"))


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_an_error_never_shows_the_credentials(couch):
    server = couch.server(with_userinfo(couch.url, "alice", "s3cret-pw"))
    with pytest.raises(couch.module.Unauthorized) as caught:
        await server.info()
    error = caught.value
    assert error.method == "GET"
    assert error.url == bare(couch.url) + "/"
    for text in (str(error), repr(error), error.url):
        assert "s3cret-pw" not in text and "alice" not in text


async def test_a_url_that_is_not_http_is_refused(couch):
    for url in ("ftp://localhost:5984", "localhost:5984", "http://"):
        with pytest.raises(couch.module.InvalidArgument):
            couch.Server(url)
    with pytest.raises(couch.module.InvalidType):
        couch.Server(5984)


# --- a server that is not there ---------------------------------------------------


async def test_a_server_that_is_down_raises_network_error_quickly(couch):
    url = f"http://127.0.0.1:{free_port()}"
    server = couch.server(url)
    started = time.monotonic()
    with pytest.raises(couch.module.NetworkError) as caught:
        await server.info()
    assert time.monotonic() - started < 5
    error = caught.value
    assert error.status is None
    assert error.method == "GET"
    assert error.url == url + "/"


async def test_a_refused_connection_never_shows_the_credentials(couch):
    server = couch.server(f"http://alice:s3cret-pw@127.0.0.1:{free_port()}")
    with pytest.raises(couch.module.NetworkError) as caught:
        await server.all_dbs()
    assert "s3cret-pw" not in str(caught.value)
    assert "s3cret-pw" not in caught.value.url


async def test_a_server_that_never_answers_times_out(couch):
    # The kernel completes the connection into the backlog; nobody reads it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        server = couch.server(f"http://127.0.0.1:{port}", read_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(couch.module.Timeout) as caught:
            await server.info()
        assert time.monotonic() - started < 5
    assert caught.value.status is None
    assert caught.value.method == "GET"


async def test_a_connection_that_is_never_accepted_times_out(couch):
    # A full accept queue: the kernel drops further connection attempts.
    with socket.socket() as stuck:
        stuck.bind(("127.0.0.1", 0))
        stuck.listen(0)
        port = stuck.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            await couch.sleep(0.2)
            server = couch.server(f"http://127.0.0.1:{port}", connect_timeout=0.5, read_timeout=30)
            started = time.monotonic()
            with pytest.raises(couch.module.Timeout) as caught:
                await server.info()
            assert time.monotonic() - started < 5
            assert caught.value.status is None
        finally:
            for filler in fillers:
                filler.close()
