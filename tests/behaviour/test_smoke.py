async def test_save_and_get_round_trip(couch):
    db = await couch.fresh_db()
    doc = {"_id": "a", "n": 1}
    result = await db.save(doc)
    assert result["ok"] and doc["_rev"] == result["rev"]
    got = await db.get("a")
    assert got == doc
