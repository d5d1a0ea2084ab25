"""Results of any size, read as they arrive: view rows, _all_docs, attachments up and down."""

import io
import os

import pytest


async def fill(couch, db, count):
    docs = [{"_id": f"doc{n:05}", "n": n} for n in range(count)]
    await db.save({"docs": docs}, **couch.all_copies)
    await db.save(
        {
            "_id": "_design/d",
            "views": {"by_n": {"map": "function(doc) { if (doc.n !== undefined) emit(doc.n, doc.n * 2); }"}},
        },
        **couch.all_copies,
    )


async def test_stream_view_yields_the_same_rows_as_view(couch):
    db = await couch.fresh_db()
    await fill(couch, db, 300)
    rows = []
    async with db.stream_view("d/by_n", startkey=10, endkey=250, include_docs=True) as stream:
        async for row in stream:
            rows.append(row)
        assert stream.meta["total_rows"] == 300
    assert rows == await db.view("d/by_n", startkey=10, endkey=250, include_docs=True)
    assert [row["key"] for row in rows] == list(range(10, 251))


async def test_stream_view_with_keys_is_posted(couch):
    db = await couch.fresh_db()
    await fill(couch, db, 20)
    rows = await db.stream_view("_design/d/_view/by_n", keys=[3, 1, 7]).to_list()
    assert [row["value"] for row in rows] == [6, 2, 14]


async def test_stream_all_docs_and_run_with_back_pressure(couch):
    db = await couch.fresh_db()
    await fill(couch, db, 50)
    seen = []

    async def slow(row):
        await couch.sleep(0.001)
        seen.append(row["id"])

    await db.stream_all_docs(startkey="doc", endkey="doc\ufff0").run(slow)
    assert seen == [f"doc{n:05}" for n in range(50)]


async def test_a_stream_sends_nothing_until_iterated_and_closes_early(couch):
    db = await couch.fresh_db()
    await fill(couch, db, 500)
    stream = db.stream_all_docs(include_docs=True)
    first = await stream.__anext__()
    assert first["id"] == "_design/d" or first["id"].startswith("doc")
    await stream.close()
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_stream_view_errors_are_typed(couch):
    db = await couch.fresh_db()
    await fill(couch, db, 1)
    stream = db.stream_view("d/missing")
    with pytest.raises(couch.module.NotFound) as raised:
        await stream.to_list()
    assert isinstance(raised.value, couch.module.ViewError)
    with pytest.raises(couch.module.InvalidArgument):
        db.stream_view("d/by_n", colour="red")


async def test_attachment_uploads_from_a_file_a_path_and_an_async_iterable(couch, tmp_path):
    db = await couch.fresh_db()
    data = os.urandom(300_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    doc = {"_id": "files"}
    with open(path, "rb") as file:
        await db.put_attachment(doc, "from-file", file)
    await db.put_attachment(doc, "from-path", path, content_type="application/x-test")

    async def chunks():
        for start in range(0, len(data), 50_000):
            yield data[start : start + 50_000]
            await couch.sleep(0)

    await db.put_attachment(doc, "from-stream", chunks())
    await db.put_attachment(doc, "from-stream-with-length", chunks(), length=len(data))
    for name in ("from-file", "from-path", "from-stream", "from-stream-with-length"):
        assert await db.get_attachment(doc, name) == data
    stored = await db.get("files")
    assert stored["_attachments"]["from-path"]["content_type"] == "application/x-test"
    assert stored["_attachments"]["from-stream"]["length"] == len(data)


async def test_text_mode_files_are_refused(couch, tmp_path):
    db = await couch.fresh_db()
    path = tmp_path / "t.txt"
    path.write_text("hello")
    with open(path) as file:
        with pytest.raises(couch.module.InvalidType):
            await db.put_attachment({"_id": "t"}, "t.txt", file)


async def test_stream_attachment_yields_bounded_chunks(couch):
    db = await couch.fresh_db()
    data = os.urandom(1_000_000)
    doc = {"_id": "big"}
    await db.put_attachment(doc, "big.bin", io.BytesIO(data))
    stream = db.stream_attachment(doc, "big.bin")
    parts = []
    async for chunk in stream:
        assert len(chunk) <= 256 * 1024
        parts.append(chunk)
    assert b"".join(parts) == data
    assert stream.meta["content_type"] == "application/octet-stream"


@pytest.mark.parametrize("first,last", [(0, 9), (10, 20), (999_990, None), (5, 5)])
async def test_attachment_ranges_come_back_exactly(couch, first, last):
    db = await couch.fresh_db()
    data = os.urandom(1_000_000)
    doc = {"_id": "ranged"}
    await db.put_attachment(doc, "r.bin", data)
    expected = data[first : None if last is None else last + 1]
    assert await db.get_attachment(doc, "r.bin", range=(first, last)) == expected
    assert b"".join(await db.stream_attachment("ranged", "r.bin", range=(first, last)).to_list()) == expected


@pytest.mark.couchdb_only
async def test_an_unsatisfiable_range_is_a_client_error(couch):
    db = await couch.fresh_db()
    doc = {"_id": "small"}
    await db.put_attachment(doc, "s.bin", b"0123456789")
    with pytest.raises(couch.module.ClientError) as raised:
        await db.get_attachment(doc, "s.bin", range=(100, 200))
    assert raised.value.status == 416


async def test_bad_ranges_and_data_are_refused_before_sending(couch):
    db = couch.Database("nowhere", url="http://127.0.0.1:9")
    for bad in ((5, 2), (-1, 3), "0-9", (1.5, 2)):
        with pytest.raises(couch.module.InvalidArgument):
            await db.get_attachment("x", "a", range=bad)
    with pytest.raises(couch.module.InvalidType):
        await db.put_attachment({"_id": "x"}, "a", 12345)
    with pytest.raises(couch.module.InvalidArgument):
        await db.put_attachment({"_id": "x"}, "a", b"data", length=-1)
    await db.close()


async def test_stream_bulk_get_yields_the_results_of_bulk_get(couch):
    db = await couch.fresh_db()
    await fill(couch, db, 30)
    ids = [f"doc{n:05}" for n in range(0, 30, 3)]
    streamed = await db.stream_bulk_get(ids).to_list()
    assert streamed == await db.bulk_get(ids)
    assert [result["docs"][0]["ok"]["n"] for result in streamed] == list(range(0, 30, 3))


async def test_save_with_attachments_sends_a_doc_and_its_files_in_one_request(couch, tmp_path):
    db = await couch.fresh_db()
    path = tmp_path / "photo.jpg"
    photo = os.urandom(200_000)
    path.write_bytes(photo)

    async def stream():
        yield b"streamed "
        yield b"text"

    doc = {"_id": "album", "title": "holiday"}
    result = await db.save_with_attachments(
        doc,
        {
            "photo.jpg": (path, "image/jpeg"),
            "notes.txt": "a note",
            "stream.txt": (stream(), "text/plain", 13),
        },
    )
    assert result["ok"] and doc["_rev"] == result["rev"] and doc["_rev"].startswith("1-")
    assert await db.get_attachment(doc, "photo.jpg") == photo
    assert await db.get_attachment(doc, "notes.txt") == b"a note"
    assert await db.get_attachment(doc, "stream.txt") == b"streamed text"
    stored = await db.get("album")
    assert stored["title"] == "holiday"
    assert stored["_attachments"]["photo.jpg"]["content_type"] == "image/jpeg"
    assert doc["_attachments"]["photo.jpg"]["digest"] == stored["_attachments"]["photo.jpg"]["digest"]

    # the stubs written back keep the attachments through an ordinary save
    doc["title"] = "holiday 2026"
    await db.save(doc)
    assert await db.get_attachment("album", "photo.jpg") == photo


async def test_save_with_attachments_refuses_what_it_cannot_send(couch):
    db = couch.Database("nowhere", url="http://127.0.0.1:9")

    async def stream():
        yield b"x"

    with pytest.raises(couch.module.InvalidArgument):
        await db.save_with_attachments({"_id": "a"}, {"s": stream()})  # no length
    with pytest.raises(couch.module.InvalidArgument):
        await db.save_with_attachments({}, {"a": b"x"})  # no _id
    with pytest.raises(couch.module.InvalidType):
        await db.save_with_attachments({"_id": "a"}, {})
    with pytest.raises(couch.module.InvalidType):
        await db.save_with_attachments({"_id": "a"}, {"a": 42})
    await db.close()
