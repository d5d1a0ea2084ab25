"""Revisions with their history and attachments streamed: ``stream_open_revs``, and storing them as they are.

CouchDB answers ``open_revs`` as multipart (attachments as raw bytes, the
compressed ones as it stores them); PouchDB Server as JSON with the
attachments in base64. Both come out as the same ``Revision`` objects.
"""

import hashlib

import pytest

from replicas import REV_B, REV_C
from wallaby.backends.couchdb import InvalidArgument, InvalidType

NOTE = b"a note that compresses well " * 400
BLOB = bytes(range(256)) * 300


async def with_attachments(couch):
    db = await couch.fresh_db("openrevs")
    doc = {"_id": "doc", "kind": "two attachments"}
    await db.save(doc)
    await db.put_attachment(doc, "note.txt", NOTE, content_type="text/plain")
    await db.put_attachment(doc, "blob.bin", BLOB, content_type="application/octet-stream")
    return db, doc


async def read(body):
    return b"".join([chunk async for chunk in body])


async def test_a_revision_comes_with_its_history_and_each_attachment_body(couch):
    db, doc = await with_attachments(couch)
    async with db.stream_open_revs("doc", [doc["_rev"]]) as revisions:
        got = [
            (revision, {name: await read(body.decoded()) for name, body in revision.attachments.items()})
            async for revision in revisions
        ]
    [(revision, bodies)] = got
    assert revision.doc["_rev"] == doc["_rev"] and revision.missing is None
    assert revision.doc["_revisions"]["start"] == 3 and len(revision.doc["_revisions"]["ids"]) == 3
    assert bodies == {"note.txt": NOTE, "blob.bin": BLOB}
    assert all(revision.doc["_attachments"][name].get("follows") for name in bodies)


async def test_every_leaf_of_a_conflicted_document(couch):
    db = await couch.fresh_db("openrevs")
    await couch.conflicted(db, "twins", REV_B, REV_C)
    revisions = await db.stream_open_revs("twins").to_list()
    assert sorted(revision.doc["_rev"] for revision in revisions) == [REV_B, REV_C]
    assert all(revision.attachments == {} for revision in revisions)


async def test_reading_a_later_body_first_skips_the_earlier_one(couch):
    db, doc = await with_attachments(couch)
    async with db.stream_open_revs("doc", [doc["_rev"]]) as revisions:
        async for revision in revisions:
            first, second = list(revision.attachments.values())
            assert await read(second.decoded()) in (NOTE, BLOB)
            with pytest.raises(InvalidArgument):
                await read(first)


async def test_a_body_not_read_before_the_next_revision_is_skipped(couch):
    db, doc = await with_attachments(couch)
    [revision] = await db.stream_open_revs("doc", [doc["_rev"]]).to_list()
    with pytest.raises(InvalidArgument):
        await read(revision.attachments["blob.bin"])


async def test_a_body_knows_its_length_and_stub(couch):
    db, doc = await with_attachments(couch)
    [revision] = await db.stream_open_revs("doc", [doc["_rev"]]).to_list()
    body = revision.attachments["blob.bin"]
    assert body.length == len(BLOB) and body.content_type == "application/octet-stream"
    assert body.stub["digest"] == "md5-" + __import__("base64").b64encode(hashlib.md5(BLOB).digest()).decode()


@pytest.mark.couchdb_only  # PouchDB Server sends every attachment whatever atts_since says
async def test_atts_since_sends_only_the_attachments_added_after_those_revs(couch):
    db, doc = await with_attachments(couch)
    note_rev = (await db.get("doc", revs_info=True))["_revs_info"][1]["rev"]  # the rev that added note.txt
    [revision] = await db.stream_open_revs("doc", [doc["_rev"]], atts_since=[note_rev]).to_list()
    assert list(revision.attachments) == ["blob.bin"]
    assert revision.doc["_attachments"]["note.txt"]["stub"] is True


@pytest.mark.couchdb_only  # CouchDB keeps text compressed and sends it so
@pytest.mark.server_only("compressed attachments")
async def test_a_compressed_attachment_comes_compressed_and_decoded_inflates_it(couch):
    db, doc = await with_attachments(couch)
    async with db.stream_open_revs("doc", [doc["_rev"]]) as revisions:
        async for revision in revisions:  # a body is read before moving on to the next revision
            body = revision.attachments["note.txt"]
            assert body.encoding == "gzip" and body.length < len(NOTE)
            inflated = body.decoded()
            assert inflated.encoding is None and inflated.length == len(NOTE)
            assert "digest" not in inflated.stub and "encoding" not in inflated.stub
            assert await read(inflated) == NOTE


@pytest.mark.couchdb_only  # a missing rev in open_revs kills PouchDB Server
async def test_a_rev_the_database_lacks_comes_as_missing(couch):
    db, doc = await with_attachments(couch)
    revisions = await db.stream_open_revs("doc", [doc["_rev"], "9-abcdef"]).to_list()
    assert [revision.missing for revision in revisions] == [None, "9-abcdef"]


async def test_a_revision_is_stored_elsewhere_as_it_was(couch):
    db, doc = await with_attachments(couch)
    other = await couch.fresh_db("openrevs")
    async with db.stream_open_revs("doc", [doc["_rev"]]) as revisions:
        async for revision in revisions:
            result = await other.save_with_attachments(revision.doc, revision.attachments, new_edits=False)
    assert result["rev"] == doc["_rev"]
    copied = await other.get("doc", revs=True)
    original = await db.get("doc", revs=True)
    assert copied["_revisions"] == original["_revisions"]
    for name in ("note.txt", "blob.bin"):
        assert copied["_attachments"][name]["digest"] == original["_attachments"][name]["digest"]
    assert await other.get_attachment("doc", "note.txt") == NOTE
    assert await other.get_attachment("doc", "blob.bin") == BLOB


async def test_a_replicated_revision_without_attachments_is_stored_with_save(couch):
    db = await couch.fresh_db("openrevs")
    doc = {"_id": "plain", "_rev": "2-" + "e" * 32, "_revisions": {"start": 2, "ids": ["e" * 32, "f" * 32]}, "v": 1}
    result = await db.save(doc, new_edits=False)
    assert result["rev"] == doc["_rev"]
    assert (await db.get("plain", revs=True))["_revisions"] == doc["_revisions"]


async def test_bad_open_revs_arguments_are_refused_before_sending(couch):
    db = couch.offline_db()
    for args, kwargs, error in (
        (("doc", "some"), {}, InvalidArgument),
        (("doc", []), {}, InvalidArgument),
        (("doc", ["1-a"]), {"atts_since": "1-a"}, InvalidType),
        (("doc", ["1-a"]), {"latest": "yes"}, InvalidType),
        (("",), {}, InvalidArgument),
    ):
        with pytest.raises(error):
            db.stream_open_revs(*args, **kwargs)
