"""Documents beyond get/save/delete: HEAD (exists, current rev), COPY, _local documents,
the revision options of get(), and the conflict helpers."""

import pytest

from wallaby.backends.couchdb.testing import free_port

REV_B = "1-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REV_C = "1-cccccccccccccccccccccccccccccccc"
REV_D = "1-dddddddddddddddddddddddddddddddd"
MISSING_REV = "1-00000000000000000000000000000000"


def offline_db(couch):
    """A Database on a port nothing listens on: any request would be a NetworkError."""
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


async def conflicted(db, docid, *revs):
    """A document whose leaves are ``revs`` (REV_B and REV_C by default), written as a replicator does."""
    revs = revs or (REV_B, REV_C)
    docs = [{"_id": docid, "_rev": rev, "leaf": rev[-1]} for rev in revs]
    await db.save({"docs": docs}, new_edits=False)


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
    await conflicted(db, "c")
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
    db = offline_db(couch)
    with pytest.raises(couch.module.InvalidType):
        await db.head(bad)
    with pytest.raises(couch.module.InvalidType):
        await db.exists(bad)


async def test_head_and_exists_refuse_an_empty_id(couch):
    db = offline_db(couch)
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
    await db.save({"_id": "dst", "n": 2})
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
    db = offline_db(couch)
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
    with pytest.raises(couch.module.NotFound):
        await db.get("_local/checkpoint")


async def test_a_local_doc_is_neither_in_all_docs_nor_counted(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "_local/l"})
    await db.save({"_id": "a"})
    assert [row["id"] for row in await db.all_docs()] == ["a"]
    assert (await db.info())["doc_count"] == 1


@pytest.mark.couchdb_only  # PouchDB Server has no _local_docs
async def test_local_docs_lists_the_local_documents(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "_local/b"})
    await db.save({"_id": "_local/a"})
    await db.save({"_id": "plain"})
    rows = await db.local_docs()
    assert [row["id"] for row in rows] == ["_local/a", "_local/b"]
    assert rows[0]["value"]["rev"] == (await db.get("_local/a"))["_rev"]
    rows = await db.local_docs(keys=["_local/b"])
    assert [row["id"] for row in rows] == ["_local/b"]


async def test_local_docs_refuses_an_unknown_option(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await offline_db(couch).local_docs(bogus=1)


# --- the revision options of get() -------------------------------------------------------


async def test_get_with_revs_and_open_revs_gives_each_leafs_history(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    await db.save(doc)
    leaves = await db.get("a", open_revs=[doc["_rev"]], revs=True)
    history = leaves[0]["ok"]["_revisions"]
    assert history["start"] == 2 and len(history["ids"]) == 2


async def test_get_with_open_revs_all_includes_a_deleted_leaf(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")
    await db.delete({"_id": "c", "_rev": REV_B})
    leaves = [leaf["ok"] for leaf in await db.get("c", open_revs="all")]
    assert sorted(leaf.get("_deleted", False) for leaf in leaves) == [False, True]


async def test_get_with_open_revs_and_latest_gives_the_leaf_of_an_old_rev(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    await db.save(doc)
    old = doc["_rev"]
    doc["n"] = 2
    await db.save(doc)
    leaves = await db.get("a", open_revs=[old], latest=True)
    assert [leaf["ok"]["_rev"] for leaf in leaves] == [doc["_rev"]]


async def test_get_with_rev_and_latest_gives_the_leaf(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    await db.save(doc)
    old = doc["_rev"]
    doc["n"] = 2
    await db.save(doc)
    got = await db.get("a", rev=old, latest=True)
    assert got["_rev"] == doc["_rev"] and got["n"] == 2


async def test_get_with_revs_info_marks_each_revision_available(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    first = doc["_rev"]
    await db.save(doc)
    info = (await db.get("a", revs_info=True))["_revs_info"]
    assert [(item["rev"], item["status"]) for item in info] == [(doc["_rev"], "available"), (first, "available")]


@pytest.mark.couchdb_only  # PouchDB Server ignores deleted_conflicts
async def test_get_with_deleted_conflicts_lists_the_deleted_leaves(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")
    deleted = await db.delete({"_id": "c", "_rev": REV_B})
    got = await db.get("c", deleted_conflicts=True)
    assert got["_deleted_conflicts"] == [deleted["rev"]]


async def test_get_with_conflicts_and_deleted_conflicts_leaves_out_a_deleted_leaf(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")
    await db.delete({"_id": "c", "_rev": REV_B})
    got = await db.get("c", conflicts=True, deleted_conflicts=True)
    assert "_conflicts" not in got


# --- conflicts() and resolve_conflicts() ------------------------------------------------


async def test_conflicts_lists_the_losing_revs(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c", REV_B, REV_C, REV_D)
    assert sorted(await db.conflicts("c")) == [REV_B, REV_C]


async def test_conflicts_of_a_doc_without_conflicts_is_empty(couch):
    db = await couch.fresh_db()
    await db.save({"_id": "a"})
    assert await db.conflicts("a") == []


async def test_conflicts_of_a_missing_doc_is_not_found(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound):
        await db.conflicts("nope")


async def test_resolve_conflicts_keeps_the_winner_and_deletes_the_losers(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c", REV_B, REV_C, REV_D)
    results = await db.resolve_conflicts("c")
    assert sorted(result["id"] for result in results) == ["c", "c"]
    assert all(result.get("ok") for result in results)
    assert await db.conflicts("c") == []
    got = await db.get("c")
    assert got["_rev"] == REV_D and got["leaf"] == "d"


async def test_resolve_conflicts_with_nothing_to_resolve_sends_no_write(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a"}
    await db.save(doc)
    assert await db.resolve_conflicts("a") == []
    assert await db.resolve_conflicts("a", lambda leaves: pytest.fail("not called for one leaf")) == []
    assert await db.head("a") == doc["_rev"]


async def test_resolve_conflicts_with_a_chooser_keeps_the_chosen_leaf(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c", REV_B, REV_C, REV_D)
    seen = []

    def choose(leaves):
        seen.extend(sorted(leaf["_rev"] for leaf in leaves))
        return next(leaf for leaf in leaves if leaf["leaf"] == "b")

    results = await db.resolve_conflicts("c", choose)
    assert seen == [REV_B, REV_C, REV_D]
    assert len(results) == 2 and all(result.get("ok") for result in results)
    got = await db.get("c", conflicts=True)
    assert got["_rev"] == REV_B and "_conflicts" not in got


async def test_resolve_conflicts_saves_a_merged_leaf_in_the_same_request(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")

    def merge(leaves):
        kept = min(leaves, key=lambda leaf: leaf["_rev"])
        return {**kept, "leaf": "".join(sorted(leaf["leaf"] for leaf in leaves))}

    results = await db.resolve_conflicts("c", merge)
    assert len(results) == 2 and all(result.get("ok") for result in results)
    got = await db.get("c", conflicts=True)
    assert got["leaf"] == "bc" and got["_rev"].startswith("2-")
    assert "_conflicts" not in got


async def test_resolve_conflicts_takes_a_chooser_that_returns_an_awaitable(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")

    async def choose(leaves):
        await couch.sleep(0)
        return next(leaf for leaf in leaves if leaf["_rev"] == REV_B)

    await db.resolve_conflicts("c", choose)
    assert await db.head("c") == REV_B


async def test_resolve_conflicts_leaves_deleted_leaves_alone(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")
    await db.delete({"_id": "c", "_rev": REV_B})
    assert await db.resolve_conflicts("c") == []
    assert await db.resolve_conflicts("c", lambda leaves: leaves[0]) == []


async def test_resolve_conflicts_reports_a_leaf_changed_meanwhile_in_its_result(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")

    async def choose(leaves):
        await db.save({"docs": [{"_id": "c", "_rev": REV_B, "leaf": "b2"}]})  # REV_B is no longer a leaf
        return next(leaf for leaf in leaves if leaf["_rev"] == REV_C)

    results = await db.resolve_conflicts("c", choose)
    assert [result.get("error") for result in results] == ["conflict"]


async def test_resolve_conflicts_of_a_missing_doc_is_not_found(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound):
        await db.resolve_conflicts("nope")


async def test_resolve_conflicts_refuses_a_chooser_answer_that_is_not_a_leaf(couch):
    db = await couch.fresh_db()
    await conflicted(db, "c")
    with pytest.raises(couch.module.InvalidArgument):
        await db.resolve_conflicts("c", lambda leaves: {**leaves[0], "_rev": MISSING_REV})
    with pytest.raises(couch.module.InvalidArgument):
        await db.resolve_conflicts("c", lambda leaves: {**leaves[0], "_id": "other"})
    with pytest.raises(couch.module.InvalidType):
        await db.resolve_conflicts("c", lambda leaves: None)
    assert sorted(await db.conflicts("c")) == [REV_B]  # nothing was written


async def test_resolve_conflicts_refuses_a_chooser_that_is_not_callable(couch):
    with pytest.raises(couch.module.InvalidType):
        await offline_db(couch).resolve_conflicts("c", "first")
