"""The revision options of get() (revs, revs_info, open_revs, latest, conflicts) and the conflict helpers."""

import pytest

from conftest import REV_B, REV_C, REV_D

MISSING_REV = "1-00000000000000000000000000000000"


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
    await couch.conflicted(db, "c")
    await db.delete({"_id": "c", "_rev": REV_B})
    answer = await couch.eventually(  # on a cluster, a copy read may learn of the delete a moment later
        lambda: db.get("c", open_revs="all"), until=lambda leaves: any(leaf["ok"].get("_deleted") for leaf in leaves)
    )
    leaves = [leaf["ok"] for leaf in answer]
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
    await couch.conflicted(db, "c")
    deleted = await db.delete({"_id": "c", "_rev": REV_B})
    got = await couch.eventually(
        lambda: db.get("c", deleted_conflicts=True), until=lambda doc: "_deleted_conflicts" in doc
    )
    assert got["_deleted_conflicts"] == [deleted["rev"]]


async def test_get_with_conflicts_and_deleted_conflicts_leaves_out_a_deleted_leaf(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")
    await db.delete({"_id": "c", "_rev": REV_B})
    got = await couch.eventually(
        lambda: db.get("c", conflicts=True, deleted_conflicts=True), until=lambda doc: "_conflicts" not in doc
    )
    assert "_conflicts" not in got


# --- conflicts() and resolve_conflicts() ------------------------------------------------


# resolve_conflicts() writes to a majority of a cluster's copies: a read right after it may meet
# a copy with the old leaves, so the reads below wait (bounded) for the state they check, as the
# reads after a delete above do.


async def test_conflicts_lists_the_losing_revs(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c", REV_B, REV_C, REV_D)
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
    await couch.conflicted(db, "c", REV_B, REV_C, REV_D)
    results = await db.resolve_conflicts("c")
    assert sorted(result["id"] for result in results) == ["c", "c"]
    assert all(result.get("ok") for result in results)
    assert await couch.eventually(lambda: db.conflicts("c"), until=lambda revs: revs == []) == []
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
    await couch.conflicted(db, "c", REV_B, REV_C, REV_D)
    seen = []

    def choose(leaves):
        seen.extend(sorted(leaf["_rev"] for leaf in leaves))
        return next(leaf for leaf in leaves if leaf["leaf"] == "b")

    results = await db.resolve_conflicts("c", choose)
    assert seen == [REV_B, REV_C, REV_D]
    assert len(results) == 2 and all(result.get("ok") for result in results)
    got = await couch.eventually(lambda: db.get("c", conflicts=True), until=lambda doc: "_conflicts" not in doc)
    assert got["_rev"] == REV_B and "_conflicts" not in got


async def test_resolve_conflicts_saves_a_merged_leaf_in_the_same_request(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")

    def merge(leaves):
        kept = min(leaves, key=lambda leaf: leaf["_rev"])
        return {**kept, "leaf": "".join(sorted(leaf["leaf"] for leaf in leaves))}

    results = await db.resolve_conflicts("c", merge)
    assert len(results) == 2 and all(result.get("ok") for result in results)
    got = await couch.eventually(lambda: db.get("c", conflicts=True), until=lambda doc: "_conflicts" not in doc)
    assert got["leaf"] == "bc" and got["_rev"].startswith("2-")
    assert "_conflicts" not in got


async def test_resolve_conflicts_takes_a_chooser_that_returns_an_awaitable(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")

    async def choose(leaves):
        await couch.sleep(0)
        return next(leaf for leaf in leaves if leaf["_rev"] == REV_B)

    await db.resolve_conflicts("c", choose)
    assert await couch.eventually(lambda: db.head("c"), until=lambda rev: rev == REV_B) == REV_B


async def test_resolve_conflicts_leaves_deleted_leaves_alone(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")
    # on every copy: resolve_conflicts reads the leaves from a majority, which may miss a majority write
    await db.save({"_id": "c", "_rev": REV_B, "_deleted": True}, **couch.all_copies)
    assert await db.resolve_conflicts("c") == []
    assert await db.resolve_conflicts("c", lambda leaves: leaves[0]) == []


async def test_resolve_conflicts_reports_a_leaf_changed_meanwhile_in_its_result(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")

    async def choose(leaves):
        # REV_B is no longer a leaf, on every copy
        await db.save({"docs": [{"_id": "c", "_rev": REV_B, "leaf": "b2"}]}, **couch.all_copies)
        return next(leaf for leaf in leaves if leaf["_rev"] == REV_C)

    results = await db.resolve_conflicts("c", choose)
    assert [result.get("error") for result in results] == ["conflict"]


async def test_resolve_conflicts_of_a_missing_doc_is_not_found(couch):
    db = await couch.fresh_db()
    with pytest.raises(couch.module.NotFound):
        await db.resolve_conflicts("nope")


async def test_resolve_conflicts_refuses_a_chooser_answer_that_is_not_a_leaf(couch):
    db = await couch.fresh_db()
    await couch.conflicted(db, "c")
    with pytest.raises(couch.module.InvalidArgument):
        await db.resolve_conflicts("c", lambda leaves: {**leaves[0], "_rev": MISSING_REV})
    with pytest.raises(couch.module.InvalidArgument):
        await db.resolve_conflicts("c", lambda leaves: {**leaves[0], "_id": "other"})
    with pytest.raises(couch.module.InvalidType):
        await db.resolve_conflicts("c", lambda leaves: None)
    assert sorted(await db.conflicts("c")) == [REV_B]  # nothing was written


async def test_resolve_conflicts_refuses_a_chooser_that_is_not_callable(couch):
    with pytest.raises(couch.module.InvalidType):
        await couch.offline_db().resolve_conflicts("c", "first")
