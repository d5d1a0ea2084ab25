"""Attachments: put (contentType= or content_type=), get as bytes, delete; names and errors."""

import pytest

from wallaby.backends.couchdb.testing import free_port

ALL_BYTES = bytes(range(256))


def offline_db(couch):
    """A Database on a port nothing listens on: any request would be a NetworkError."""
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


async def saved_doc(couch, docid="doc"):
    db = await couch.fresh_db()
    doc = {"_id": docid, "kind": "holder"}
    await db.save(doc, **couch.all_copies)  # every copy has it: each refuses a stale write (test_documents.py)
    return db, doc


async def test_put_attachment_with_the_seeds_content_type_keyword(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "note.txt", b"hello", contentType="text/plain")
    stub = (await db.get("doc"))["_attachments"]["note.txt"]
    assert stub["content_type"] == "text/plain"
    assert stub["length"] == 5


async def test_put_attachment_with_content_type(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "pic.png", b"\x89PNG", content_type="image/png")
    stub = (await db.get("doc"))["_attachments"]["pic.png"]
    assert stub["content_type"] == "image/png"


async def test_put_attachment_writes_the_new_rev_into_the_doc(couch):
    db, doc = await saved_doc(couch)
    before = doc["_rev"]
    result = await db.put_attachment(doc, "a.bin", b"x", contentType="application/octet-stream")
    assert result["ok"] is True
    assert doc["_rev"] == result["rev"] != before
    assert (await db.get("doc"))["_rev"] == doc["_rev"]


async def test_put_attachment_twice_in_a_row_uses_the_written_back_rev(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "one", b"1")
    await db.put_attachment(doc, "two", b"2")
    assert sorted((await db.get("doc"))["_attachments"]) == ["one", "two"]


async def test_put_attachment_creates_a_doc_that_does_not_exist(couch):
    db = await couch.fresh_db()
    doc = {"_id": "new"}
    await db.put_attachment(doc, "a.txt", b"data", content_type="text/plain")
    assert doc["_rev"].startswith("1-")
    assert await db.get_attachment("new", "a.txt") == b"data"


async def test_get_attachment_returns_bytes(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a.txt", b"hello world", contentType="text/plain")
    data = await db.get_attachment(doc, "a.txt")
    assert isinstance(data, bytes)
    assert data == b"hello world"


async def test_get_attachment_takes_a_doc_or_its_id(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a.bin", b"abc")
    assert await db.get_attachment(doc, "a.bin") == await db.get_attachment("doc", "a.bin") == b"abc"


async def test_binary_data_round_trips_every_byte_value(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "all.bin", ALL_BYTES, contentType="application/octet-stream")
    assert await db.get_attachment(doc, "all.bin") == ALL_BYTES


async def test_binary_data_without_a_content_type_round_trips(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "raw", ALL_BYTES * 4)
    assert await db.get_attachment(doc, "raw") == ALL_BYTES * 4


async def test_bytearray_and_memoryview_are_sent_as_bytes(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "ba", bytearray(b"from bytearray"))
    await db.put_attachment(doc, "mv", memoryview(b"from memoryview"))
    assert await db.get_attachment(doc, "ba") == b"from bytearray"
    assert await db.get_attachment(doc, "mv") == b"from memoryview"


async def test_str_data_is_stored_as_utf8_text(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "t.txt", "grüße, 文字 😀")
    assert await db.get_attachment(doc, "t.txt") == "grüße, 文字 😀".encode()
    stub = (await db.get("doc"))["_attachments"]["t.txt"]
    assert stub["content_type"].startswith("text/plain")


async def test_a_large_attachment_round_trips(couch):
    db, doc = await saved_doc(couch)
    data = ALL_BYTES * 8192  # 2 MiB
    await db.put_attachment(doc, "big.bin", data, contentType="application/octet-stream")
    assert await db.get_attachment(doc, "big.bin") == data


async def test_an_empty_attachment_round_trips(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "empty", b"", contentType="application/octet-stream")
    assert await db.get_attachment(doc, "empty") == b""


async def test_put_attachment_replaces_one_with_the_same_name(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a.txt", b"first", contentType="text/plain")
    await db.put_attachment(doc, "a.txt", b"second", contentType="text/plain")
    assert await db.get_attachment(doc, "a.txt") == b"second"


async def test_the_doc_keeps_its_fields_when_an_attachment_is_added(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a.txt", b"x")
    assert (await db.get("doc"))["kind"] == "holder"


async def test_delete_attachment_removes_it_and_writes_back_the_rev(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a.txt", b"x", contentType="text/plain")
    before = doc["_rev"]
    result = await db.delete_attachment(doc, "a.txt")
    assert result["ok"] is True
    assert doc["_rev"] == result["rev"] != before
    assert "_attachments" not in await db.get("doc")
    with pytest.raises(couch.module.NotFound):
        await db.get_attachment(doc, "a.txt")


@pytest.mark.parametrize(
    "name",
    ["with space.txt", "dir/file.txt", "a/b/c.txt", "ünï 文字 😀.txt", "q?h#p%25+&=.txt"],
)
async def test_awkward_attachment_name_round_trips(couch, name):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, name, b"payload", contentType="text/plain")
    assert list((await db.get("doc"))["_attachments"]) == [name]
    assert await db.get_attachment(doc, name) == b"payload"
    await db.delete_attachment(doc, name)
    with pytest.raises(couch.module.NotFound):
        await db.get_attachment(doc, name)


@pytest.mark.parametrize("docid", ["a/b", "with space", "ünï-文字", "_design/d1"])
async def test_attachment_on_a_doc_with_an_awkward_id(couch, docid):
    db, doc = await saved_doc(couch, docid)
    await db.put_attachment(doc, "a.bin", ALL_BYTES)
    assert await db.get_attachment(docid, "a.bin") == ALL_BYTES


async def test_get_attachment_of_an_older_rev(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a.txt", b"old")
    old_rev = doc["_rev"]
    await db.put_attachment(doc, "a.txt", b"new")
    assert await db.get_attachment(doc, "a.txt", rev=old_rev) == b"old"


# --- errors -------------------------------------------------------------------------


async def test_missing_attachment_is_not_found(couch):
    db, doc = await saved_doc(couch)
    with pytest.raises(couch.module.NotFound) as caught:
        await db.get_attachment(doc, "nope.txt")
    error = caught.value
    assert error.status == 404
    assert error.error == "not_found"
    assert error.method == "GET"
    assert error.url.endswith(f"/{db.name}/doc/nope.txt")


async def test_attachment_of_a_missing_doc_is_not_found(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound):
        await db.get_attachment("nodoc", "a.bin")


async def test_put_attachment_with_a_stale_rev_is_a_conflict(couch):
    db, doc = await saved_doc(couch)
    stale = dict(doc)
    await db.save(doc, **couch.all_copies)
    with pytest.raises(couch.module.Conflict) as caught:
        await db.put_attachment(stale, "a.txt", b"x")
    assert caught.value.status == 409
    assert caught.value.method == "PUT"
    assert stale["_rev"] != doc["_rev"]  # nothing written back on failure


async def test_put_attachment_without_rev_on_an_existing_doc_is_a_conflict(couch):
    db, doc = await saved_doc(couch)
    with pytest.raises(couch.module.DocumentUpdateConflict):
        await db.put_attachment({"_id": "doc"}, "a.txt", b"x")


async def test_delete_attachment_with_a_stale_rev_is_a_conflict(couch):
    db, doc = await saved_doc(couch)
    doc["_attachments"] = {"a.txt": {"content_type": "text/plain", "data": "eA=="}}  # b"x", inline
    await db.save(doc, **couch.all_copies)
    stale = dict(doc)
    await db.save(doc, **couch.all_copies)
    with pytest.raises(couch.module.Conflict):
        await db.delete_attachment(stale, "a.txt")


@pytest.mark.couchdb_only  # PouchDB Server answers 200 with a new rev
async def test_delete_of_a_missing_attachment_is_not_found(couch):
    db, doc = await saved_doc(couch)
    with pytest.raises(couch.module.NotFound):
        await db.delete_attachment(doc, "never.txt")


@pytest.mark.parametrize("data", [123, None, {"a": 1}, ["x"], 1.5])
async def test_put_attachment_refuses_data_that_is_not_bytes_or_str(couch, data):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).put_attachment({"_id": "doc", "_rev": "1-a"}, "a", data)


async def test_put_attachment_refuses_two_different_content_types(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).put_attachment(
            {"_id": "doc", "_rev": "1-a"}, "a", b"x", contentType="text/plain", content_type="image/png"
        )


async def test_put_attachment_accepts_the_same_content_type_twice(couch):
    db, doc = await saved_doc(couch)
    await db.put_attachment(doc, "a", b"x", contentType="image/png", content_type="image/png")
    assert (await db.get("doc"))["_attachments"]["a"]["content_type"] == "image/png"


async def test_put_attachment_refuses_a_content_type_that_is_not_a_str(couch):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).put_attachment({"_id": "doc", "_rev": "1-a"}, "a", b"x", content_type=5)


@pytest.mark.parametrize("doc", [None, "doc", ["doc"], {}])
async def test_put_attachment_refuses_a_doc_without_an_id(couch, doc):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).put_attachment(doc, "a", b"x")


@pytest.mark.parametrize("name", [None, 5, "", b"a"])
async def test_attachment_methods_refuse_a_bad_name(couch, name):
    db = offline_db(couch)
    doc = {"_id": "doc", "_rev": "1-a"}
    with pytest.raises(couch.module.InvalidArgument):
        await db.put_attachment(doc, name, b"x")
    with pytest.raises(couch.module.InvalidArgument):
        await db.get_attachment(doc, name)
    with pytest.raises(couch.module.InvalidArgument):
        await db.delete_attachment(doc, name)


async def test_delete_attachment_refuses_a_doc_without_rev(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).delete_attachment({"_id": "doc"}, "a")


async def test_get_attachment_refuses_a_doc_without_id(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).get_attachment({}, "a")
