"""Database: the seed's constructor, info/create/destroy, and names that need encoding."""

from urllib.parse import urlsplit, urlunsplit

import pytest

from wallaby.backends.couchdb.testing import free_port


def bare(url):
    """``url`` without its userinfo (COUCHDB_URL carries admin credentials)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


async def test_seed_signature_name_user_password_url(couch):
    db = couch.Database(couch.db_name(), None, None, couch.url)
    try:
        await db.create()
        info = await couch.eventually(db.info, retry=couch.module.NotFound)  # every node knows it a moment later
        assert info["db_name"] == db.name
        assert info["doc_count"] == 0
        await db.destroy()
    finally:
        await db.close()


async def test_create_and_destroy_answer_ok(couch):
    db = couch.Database(couch.db_name(), url=couch.url)
    try:
        assert (await db.create())["ok"] is True
        assert (await db.destroy())["ok"] is True
    finally:
        await db.close()


async def test_info_counts_documents(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"}, **couch.all_copies)  # info() counts one copy of each shard
    await db.save({"_id": "b"}, **couch.all_copies)
    assert (await db.info())["doc_count"] == 2


async def test_create_twice_is_precondition_failed(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.PreconditionFailed) as caught:
        await db.create()
    error = caught.value
    assert error.status == 412
    assert error.error == "file_exists"
    assert error.method == "PUT"
    assert error.url == f"{bare(couch.url)}/{db.name}"
    assert isinstance(error, couch.module.ClientError)


async def test_info_of_a_missing_database_is_not_found(couch):
    async with couch.Database(couch.db_name("missing"), url=couch.url) as db:
        with pytest.raises(couch.module.NotFound) as caught:
            await db.info()
    error = caught.value
    assert error.status == 404
    assert error.error == "not_found"
    assert error.reason
    assert error.method == "GET"
    assert error.url == f"{bare(couch.url)}/{db.name}"


async def test_destroy_then_info_is_not_found(couch):
    db = await couch.fresh_db()
    await db.destroy()
    assert await couch.eventually(lambda: couch.db_gone(db))

    return False


@pytest.mark.couchdb_only  # PouchDB Server answers 200 for a missing database
async def test_destroy_of_a_missing_database_is_not_found(couch):
    async with couch.Database(couch.db_name("missing"), url=couch.url) as db:
        with pytest.raises(couch.module.NotFound):
            await db.destroy()


async def test_name_with_every_allowed_punctuation_is_encoded(couch):
    db = await couch.fresh_db("a+b$c(d)-e_f")
    assert (await db.info())["db_name"] == db.name
    await db.save({"_id": "x"})
    assert (await db.get("x"))["_id"] == "x"
    assert db.name in await couch.server().all_dbs()


@pytest.mark.couchdb_only  # PouchDB Server drops an encoded "/" in database names
async def test_name_with_a_slash_is_one_database(couch):
    db = await couch.fresh_db("a/b")
    assert (await db.info())["db_name"] == db.name
    await db.save({"_id": "x"})
    assert (await db.get("x"))["_id"] == "x"
    assert db.name in await couch.server().all_dbs()


@pytest.mark.couchdb_only  # PouchDB Server creates databases with any name
@pytest.mark.parametrize("name", ["Upper", "_underscore", "1digit"])
async def test_create_with_an_illegal_name_is_a_bad_request(couch, name):
    async with couch.Database(name, url=couch.url) as db:
        with pytest.raises(couch.module.BadRequest) as caught:
            await db.create()
    assert caught.value.error == "illegal_database_name"


async def test_name_must_be_a_non_empty_str(couch):
    with pytest.raises(couch.module.InvalidType):
        couch.Database(42, url=couch.url)
    with pytest.raises(couch.module.InvalidType):
        couch.Database(None, url=couch.url)
    with pytest.raises(couch.module.InvalidArgument):
        couch.Database("", url=couch.url)


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_user_and_password_are_sent(couch):
    async with couch.Database(couch.db_name(), "nobody", "wr0ng-pass", bare(couch.url)) as db:
        with pytest.raises(couch.module.Unauthorized) as caught:
            await db.info()
    assert caught.value.status == 401


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_username_is_accepted_for_user(couch):
    async with couch.Database(couch.db_name(), username="nobody", password="wr0ng-pass", url=bare(couch.url)) as db:
        with pytest.raises(couch.module.Unauthorized):
            await db.info()


@pytest.mark.server_only("a server checks credentials; the embedded store is in admin party")
async def test_credentials_in_the_url_are_sent_and_never_shown(couch):
    parts = urlsplit(bare(couch.url))
    url = urlunsplit((parts.scheme, f"nobody:s3cret-pw@{parts.netloc}", parts.path, "", ""))
    async with couch.Database(couch.db_name(), url=url) as db:
        assert "s3cret-pw" not in repr(db)
        with pytest.raises(couch.module.Unauthorized) as caught:
            await db.info()
    assert "s3cret-pw" not in str(caught.value)
    assert caught.value.url == f"{bare(couch.url)}/{db.name}"


async def test_database_from_a_server_shares_its_credentials_only(couch):
    server = couch.server()
    with pytest.raises(couch.module.InvalidArgument):
        couch.Database("x", "someone", "pw", server=server)


async def test_database_from_a_server_leaves_the_server_open(couch):
    server = couch.server()
    created = await couch.fresh_db()
    db = server.database(created.name)
    await db.info()
    await db.close()
    assert (await server.info())["version"]
    assert (await db.info())["db_name"] == created.name


async def test_async_with_gives_the_database(couch):
    created = await couch.fresh_db()
    async with couch.Database(created.name, url=couch.url) as db:
        assert isinstance(db, couch.Database)
        assert (await db.info())["db_name"] == created.name


async def test_a_database_on_a_server_that_is_down_raises_network_error(couch):
    async with couch.Database("anything", url=f"http://127.0.0.1:{free_port()}") as db:
        with pytest.raises(couch.module.NetworkError) as caught:
            await db.info()
    assert caught.value.status is None
    assert caught.value.method == "GET"
