"""Documents without their bodies (HEAD: does it exist, its current rev), COPY, and _local documents."""

import pytest

from conftest import REV_C

# --- HEAD: exists and the current rev ---------------------------------------------------


async def test_head_gives_the_current_rev(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    await db.save(doc)
    assert await db.head("a") == doc["_rev"]
    await db.save(doc)
    assert await db.head("a") == doc["_rev"]


async def test_head_of_a_conflicted_doc_gives_the_winner(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")
    assert await db.head("c") == REV_C


async def test_head_of_a_missing_doc_is_none(couch):
    db = await couch.fresh_db()
    assert await db.head("nope") is None


async def test_head_of_a_deleted_doc_is_none(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    await db.delete(doc)
    assert await db.head("a") is None
    assert await db.exists("a") is False


async def test_exists_tells_a_stored_doc_from_a_missing_one(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"})
    assert await db.exists("a") is True
    assert await db.exists("b") is False


@pytest.mark.parametrize("docid", ["a/b", "a+b", "100%", "what?", "ünï 文字", "_design/d", "_local/l"])
async def test_exists_and_head_encode_the_id(couch, docid):
    db = await couch.fresh_db()
    doc = {"_id": docid}
    await db.save(doc)
    assert await db.exists(docid) is True
    assert await db.head(docid) == doc["_rev"]
    if "/" in docid and not docid.startswith("_"):
        assert await db.exists(docid.split("/")[0]) is False


async def test_head_in_a_missing_database_is_none(couch):
    db = couch.Database(couch.db_name("missing"), url=couch.url)
    assert await db.head("a") is None
    assert await db.exists("a") is False


@pytest.mark.parametrize("bad", [None, 3, b"a"])
async def test_head_and_exists_refuse_an_id_that_is_not_a_str(couch, bad):
    db = couch.offline_db()
    with pytest.raises(couch.module.InvalidType):
        await db.head(bad)
    with pytest.raises(couch.module.InvalidType):
        await db.exists(bad)


async def test_head_and_exists_refuse_an_empty_id(couch):
    db = couch.offline_db()
    with pytest.raises(couch.module.InvalidArgument):
        await db.head("")
    with pytest.raises(couch.module.InvalidArgument):
        await db.exists("_design/")


# --- COPY -----------------------------------------------------------------------------


async def test_copy_makes_a_new_document_with_the_same_content(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "src", "n": 1, "tags": ["x"]})
    result = await db.copy("src", "dst")
    assert result["ok"] is True
    copied = await db.get("dst")
    assert copied["n"] == 1 and copied["tags"] == ["x"]
    assert copied["_rev"].startswith("1-")
    assert (await db.get("src"))["n"] == 1


@pytest.mark.couchdb_only  # PouchDB Server answers only {"ok": true}
async def test_copy_answers_the_new_id_and_rev(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "src", "n": 1})
    result = await db.copy("src", "dst")
    assert result["id"] == "dst"
    assert result["rev"] == (await db.get("dst"))["_rev"]


async def test_copy_onto_an_existing_doc_without_its_rev_is_a_conflict(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "src", "n": 1})
    await db.save({"_id": "dst", "n": 2}, **couch.all_copies)  # every copy refuses (see test_documents.py)
    with pytest.raises(couch.module.Conflict):
        await db.copy("src", "dst")
    assert (await db.get("dst"))["n"] == 2


async def test_copy_with_dest_rev_replaces_the_existing_doc(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "src", "n": 1})
    dst = {"_id": "dst", "n": 2}
    await db.save(dst)
    await db.copy("src", "dst", dst["_rev"])
    got = await db.get("dst")
    assert got["n"] == 1
    assert got["_rev"].startswith("2-")


async def test_copy_with_rev_copies_that_revision_of_the_source(couch):
    db = await couch.fresh_db()
    src = {"_id": "src", "n": 1}
    await db.save(src)
    first = src["_rev"]
    src["n"] = 2
    await db.save(src)
    await db.copy("src", "old", rev=first)
    assert (await db.get("old"))["n"] == 1


async def test_copy_takes_the_attachments_along(couch):
    db = await couch.fresh_db()
    src = {"_id": "src"}
    await db.put_attachment(src, "a.txt", b"hello", content_type="text/plain")
    await db.copy("src", "dst")
    assert await db.get_attachment("dst", "a.txt") == b"hello"


async def test_copy_of_a_missing_doc_is_not_found(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound):
        await db.copy("nope", "dst")


@pytest.mark.couchdb_only  # PouchDB Server stores the undecoded Destination ('a%2Fb') as the id
@pytest.mark.parametrize("dest", ["a/b", "a+b", "100%", "what?x=1", "ünï 文字", "_design/copy"])
async def test_copy_to_an_awkward_id(couch, dest):
    db = await couch.fresh_db()
    await db.save({"_id": "src", "n": 1})
    result = await db.copy("src", dest)
    assert result["id"] == dest
    assert (await db.get(dest))["n"] == 1


async def test_copy_refuses_bad_arguments_before_sending(couch):
    db = couch.offline_db()
    with pytest.raises(couch.module.InvalidType):
        await db.copy("src", None)
    with pytest.raises(couch.module.InvalidType):
        await db.copy(3, "dst")
    with pytest.raises(couch.module.InvalidArgument):
        await db.copy("src", "")
    with pytest.raises(couch.module.InvalidArgument):
        await db.copy("src", "dst", "")
    with pytest.raises(couch.module.InvalidType):
        await db.copy("src", "dst", rev=1)


# --- _local documents -------------------------------------------------------------------


async def test_a_local_doc_is_saved_read_updated_and_deleted(couch):
    db = await couch.fresh_db()
    doc = {"_id": "_local/checkpoint", "seq": 1}
    await db.save(doc)
    assert (await db.get("_local/checkpoint"))["seq"] == 1
    doc["seq"] = 2
    await db.save(doc)
    assert (await db.get("_local/checkpoint"))["seq"] == 2
    await db.delete(doc)
    # a _local/ document is not copied between a cluster's copies: the one read may learn of the delete later
    assert await couch.eventually(lambda: couch.missing(db, "_local/checkpoint"))


async def test_a_local_doc_is_neither_in_all_docs_nor_counted(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "_local/l"}, **couch.all_copies)
    await db.save({"_id": "a"}, **couch.all_copies)
    assert [row["id"] for row in await db.all_docs()] == ["a"]
    assert (await db.info())["doc_count"] == 1


@pytest.mark.couchdb_only  # PouchDB Server has no _local_docs
async def test_local_docs_lists_the_local_documents(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "_local/b"}, **couch.all_copies)
    await db.save({"_id": "_local/a"}, **couch.all_copies)
    await db.save({"_id": "plain"}, **couch.all_copies)
    rows = await db.local_docs()
    assert [row["id"] for row in rows] == ["_local/a", "_local/b"]
    assert rows[0]["value"]["rev"] == (await db.get("_local/a"))["_rev"]
    rows = await db.local_docs(keys=["_local/b"])
    assert [row["id"] for row in rows] == ["_local/b"]


async def test_local_docs_refuses_an_unknown_option(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await couch.offline_db().local_docs(bogus=1)
