"""A database's security object: read, replace, and what it lets members, others and anonymous do.

Access control itself is tested on Apache CouchDB only: PouchDB Server runs in
admin party, where anonymous requests are admins and a non-member gets 401
instead of CouchDB's 403 (``couchdb-wire/security.json``).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest


def bare(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


SECURITY = {
    "admins": {"names": [], "roles": []},
    "members": {"names": ["wire_member"], "roles": ["wire_role"]},
}


async def reads_back(couch, db, expected) -> bool:
    """Does ``security()`` answer ``expected``? On a cluster each copy of each shard keeps the
    security object, and the node that answers may read one that has it a moment later."""
    return await couch.eventually(db.security, until=lambda security: security == expected) == expected


async def test_set_security_then_security_reads_it_back(couch):
    db = await couch.fresh_db()
    assert await db.set_security(SECURITY) == {"ok": True}
    assert await reads_back(couch, db, SECURITY)


async def test_tuples_are_sent_as_lists_and_other_members_are_kept(couch):
    db = await couch.fresh_db()
    await db.set_security({"members": {"roles": ("r1", "r2")}, "note": "kept"})
    assert await reads_back(couch, db, {"members": {"roles": ["r1", "r2"]}, "note": "kept"})


async def test_an_empty_security_object_opens_the_database(couch):
    db = await couch.fresh_db()
    await db.set_security(SECURITY)
    assert await reads_back(couch, db, SECURITY)
    assert await db.set_security({}) == {"ok": True}
    assert await reads_back(couch, db, {})


async def test_security_of_a_new_database_is_a_dict(couch):
    db = await couch.fresh_db()
    assert isinstance(await db.security(), dict)


@pytest.mark.couchdb_only
async def test_couchdb_gives_a_new_database_admin_only_security(couch):
    db = await couch.fresh_db()
    assert await db.security() == {"members": {"roles": ["_admin"]}, "admins": {"roles": ["_admin"]}}


async def test_a_missing_database_has_no_security(couch):
    db = couch.server().database(couch.db_name("missing"))
    with pytest.raises(couch.module.NotFound):
        await db.security()


async def test_a_badly_shaped_security_object_is_refused_before_sending(couch):
    db = await couch.fresh_db()
    for bad, error in (
        ([], couch.module.InvalidType),
        ({"members": "nope"}, couch.module.InvalidType),
        ({"members": {"names": "bob"}}, couch.module.InvalidType),
        ({"admins": {"names": [1]}}, couch.module.InvalidType),
        ({"admins": {"name": ["bob"]}}, couch.module.InvalidArgument),
    ):
        with pytest.raises(error):
            await db.set_security(bad)
    assert await db.security() in ({}, {"members": {"roles": ["_admin"]}, "admins": {"roles": ["_admin"]}})


async def forbidden(couch, request) -> bool:
    """Is ``request`` refused with 403 (a known user without access), not 401 (a user not known yet)?"""
    try:
        await request
    except couch.module.Forbidden:
        return True
    except couch.module.Unauthorized:
        return False
    raise AssertionError("a non-member read the document")


@pytest.mark.couchdb_only
@pytest.mark.server_only("a server enforces the security object; the embedded store is in admin party")
async def test_members_read_non_members_are_forbidden_and_anonymous_is_unauthorized(couch):
    admin = couch.server()
    member, other = f"member_{uuid.uuid4().hex[:8]}", f"other_{uuid.uuid4().hex[:8]}"
    for name in (member, other):
        await admin.create_user(name, "pw-1")
    try:
        db = await couch.fresh_db()
        await db.save({"_id": "doc", "v": 1})
        security = {"admins": {"names": [], "roles": []}, "members": {"names": [member], "roles": []}}
        await db.set_security(security)
        assert await reads_back(couch, db, security)
        as_member = couch.server(bare(couch.url), user=member, password="pw-1").database(db.name)
        # the new users, and the new security object, reach every node a moment later
        readable = (couch.module.Unauthorized, couch.module.Forbidden)
        assert (await couch.eventually(lambda: as_member.get("doc"), retry=readable))["v"] == 1
        seen = await couch.eventually(as_member.security, until=lambda found: found == security, retry=readable)
        assert seen["members"]["names"] == [member]
        with pytest.raises(couch.module.Forbidden):  # a member is no db admin
            await as_member.save({"_id": "_design/d", "views": {}})
        as_other = couch.server(bare(couch.url), user=other, password="pw-1").database(db.name)
        await couch.eventually(lambda: forbidden(couch, as_other.get("doc")))
        anonymous = couch.server(bare(couch.url)).database(db.name)
        with pytest.raises(couch.module.Unauthorized):
            await anonymous.get("doc")
    finally:
        for name in (member, other):
            await admin.delete_user(name)
