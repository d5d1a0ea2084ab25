"""Design documents: put_design, view_info, show, list and update functions."""

import pytest

from wallaby.backends.couchdb.testing import free_port

VIEWS = {
    "by_n": {"map": "function(doc){ if (typeof doc.n === 'number') emit(doc.n, doc.name); }"},
    "by_type": {"map": "function(doc){ if (doc.type) emit(doc.type, doc.n); }", "reduce": "_sum"},
}
SHOWS = {
    "s": "function(doc, req){ return {headers: {'Content-Type': 'text/plain'}, "
    "body: 'show ' + (doc ? doc._id : 'no doc') + ' q=' + (req.query.q || '')}; }",
    "j": "function(doc, req){ return {json: {id: doc ? doc._id : null, method: req.method, q: req.query.q || null}}; }",
}
LISTS = {
    "l": "function(head, req){ start({headers: {'Content-Type': 'text/plain'}}); var row; "
    "while ((row = getRow())) { send(row.key + '=' + row.value + '\\n'); } }",
}
UPDATES = {
    "u": "function(doc, req){ if (!doc) { if (!req.id) { return [null, {code: 400, json: {error: 'no id'}}]; } "
    "return [{_id: req.id, created: true, body: req.body}, {json: {created: req.id}}]; } "
    "doc.touched = (doc.touched || 0) + 1; if (req.query.note) { doc.note = req.query.note; } "
    "return [doc, {json: {id: doc._id, touched: doc.touched}}]; }",
    "echo": "function(doc, req){ return [null, {headers: {'Content-Type': 'text/plain'}, body: 'got ' + req.body}]; }",
}
DOCS = [{"_id": f"v{n}", "n": n, "name": f"name{n}", "type": "a" if n % 2 else "b"} for n in range(1, 6)]


async def design_db(couch):
    db = await couch.fresh_db()
    await db.put_design("wire", views=VIEWS, shows=SHOWS, lists=LISTS, updates=UPDATES)
    docs = [dict(doc) for doc in DOCS] + [{"_id": "path/doc", "n": 100, "name": "slashy"}]
    await db.save({"docs": docs}, **couch.all_copies)
    return db


def offline_db(couch):
    return couch.server(f"http://127.0.0.1:{free_port()}").database("offline")


# --- put_design and view_info ---------------------------------------------------------------


async def test_put_design_creates_a_design_document_whose_views_work(couch):
    db = await couch.fresh_db()
    result = await db.put_design("d", views={"by_n": "function(doc){ emit(doc.n, null); }"})
    assert result["ok"] is True and result["id"] == "_design/d"
    stored = await db.get("_design/d")
    assert stored["views"] == {"by_n": {"map": "function(doc){ emit(doc.n, null); }"}}
    await db.save({"_id": "x", "n": 7}, **couch.all_copies)
    assert [row["key"] for row in await db.view("d/by_n")] == [7]


async def test_put_design_replaces_the_stored_document_keeping_its_rev(couch):
    db = await couch.fresh_db()
    first = await db.put_design("_design/d", views=VIEWS, language="javascript")
    second = await db.put_design("d", views={"by_n": VIEWS["by_n"]}, shows=SHOWS)
    assert second["rev"].startswith("2-") and second["rev"] != first["rev"]
    stored = await db.get("_design/d")
    assert set(stored["views"]) == {"by_n"}
    assert "language" not in stored and stored["shows"] == SHOWS


async def test_put_design_writes_nothing_when_nothing_changed(couch):
    db = await couch.fresh_db()
    first = await db.put_design("d", views=VIEWS, options={"local_seq": False})
    again = await db.put_design("d", views=VIEWS, options={"local_seq": False})
    assert again == {"ok": True, "id": "_design/d", "rev": first["rev"]}
    assert (await db.get("_design/d"))["_rev"] == first["rev"]


async def test_put_design_keeps_the_attachments_of_the_stored_document(couch):
    db = await couch.fresh_db()
    await db.put_design("d", views=VIEWS)
    design = await db.get("_design/d")
    design["_attachments"] = {"readme.txt": {"content_type": "text/plain", "data": "aGVsbG8="}}  # "hello"
    # on every copy: on a cluster, a stub of an attachment one copy lacks fails the next write (412 missing_stub)
    await db.save(design, **couch.all_copies)
    await db.put_design("d", views={"by_n": VIEWS["by_n"]})
    assert await db.get_attachment("_design/d", "readme.txt") == b"hello"


async def test_put_design_refuses_bad_arguments(couch):
    db = offline_db(couch)
    for kwargs, error in (
        ({"views": ["by_n"]}, "InvalidType"),
        ({"views": {"v": {"reduce": "_sum"}}}, "InvalidArgument"),
        ({"views": {"": "function(doc){}"}}, "InvalidType"),
        ({"_rev": "1-x"}, "InvalidArgument"),
    ):
        with pytest.raises(getattr(couch.module, error)):
            await db.put_design("d", **kwargs)
    for name, error in (("", "InvalidArgument"), ("_design/", "InvalidArgument"), (None, "InvalidType")):
        with pytest.raises(getattr(couch.module, error)):
            await db.put_design(name, views=VIEWS)


async def test_view_info_answers_for_a_design_document(couch):
    db = await design_db(couch)
    info = await db.view_info("wire")
    assert "view_index" in info
    again = await db.view_info("_design/wire")
    # the same index; its progress (update_seq, sizes, updater_running) moves while CouchDB's indexer runs
    assert info.get("name") == again.get("name")
    assert what_index(info) == what_index(again)


def what_index(info):
    """The index a view_info answer describes: its signature (CouchDB), or what the server said."""
    index = info["view_index"]
    return index["signature"] if isinstance(index, dict) else index


@pytest.mark.couchdb_only
async def test_view_info_describes_the_index(couch):
    db = await design_db(couch)
    await db.view("wire/by_n")
    info = await db.view_info("wire")
    assert info["name"] == "wire"
    assert info["view_index"]["language"] == "javascript"
    assert {"signature", "sizes", "update_seq", "updater_running"} <= set(info["view_index"])
    with pytest.raises(couch.module.NotFound):
        await db.view_info("nope")


# --- show functions -----------------------------------------------------------------------


async def test_show_renders_a_document_with_query_params(couch):
    db = await design_db(couch)
    shown = await db.show("wire", "s", "v1", q="x")
    assert shown.body == b"show v1 q=x"
    assert shown.text() == "show v1 q=x"
    assert shown.content_type.startswith("text/plain")
    body, content_type, _, _ = shown
    assert body == shown.body


async def test_show_without_a_document_or_with_a_missing_one(couch):
    db = await design_db(couch)
    assert (await db.show("_design/wire", "s")).body == b"show no doc q="
    assert (await db.show("wire", "s", "nope")).body == b"show no doc q="


async def test_show_of_an_id_with_a_slash(couch):
    db = await design_db(couch)
    assert (await db.show("wire", "s", "path/doc")).text() == "show path/doc q="


async def test_show_returning_json(couch):
    db = await design_db(couch)
    shown = await db.show("wire", "j", "v2", q="é ü")
    assert shown.json() == {"id": "v2", "method": "GET", "q": "é ü"}
    assert shown.content_type.startswith("application/json")


async def test_a_missing_show_function_is_not_found(couch):
    db = await design_db(couch)
    with pytest.raises(couch.module.NotFound):
        await db.show("wire", "nope", "v1")


@pytest.mark.couchdb_only
async def test_a_show_answer_and_its_default_content_types(couch):
    db = await couch.fresh_db()
    shows = {
        "text": "function(doc, req){ return 'hi ' + (doc ? doc._id : 'none'); }",
        "b64": "function(doc, req){ return {base64: 'aGVsbG8='}; }",
        "typed": "function(doc, req){ return {body: '<b/>', headers: {'Content-Type': 'image/svg+xml'}}; }",
        "nothing": "function(doc, req){ }",
        "req": "function(doc, req){ return {json: [req.id, req.path, req.query, req.info.db_name, req.body]}; }",
    }
    await db.put_design("r", shows=shows)
    await db.save({"_id": "a/b", "n": 1})
    text = await db.show("r", "text", "a/b")
    assert text.text() == "hi a/b" and text.content_type == "text/html; charset=utf-8"
    binary = await db.show("r", "b64")
    assert binary.body == b"hello" and binary.content_type == "application/binary"
    assert (await db.show("r", "typed")).content_type == "image/svg+xml"
    nothing = await db.show("r", "nothing")
    assert nothing.body == b"" and nothing.content_type == "application/json"
    seen = (await db.show("r", "req", "a/b", x="1")).json()
    assert seen == ["a/b", [db.name, "_design", "r", "_show", "req", "a/b"], {"x": "1"}, db.name, "undefined"]


@pytest.mark.couchdb_only
async def test_a_render_function_that_throws_is_a_render_error(couch):
    db = await couch.fresh_db()
    await db.put_design("r", shows={"boom": "function(doc, req){ throw new Error('boom'); }"})
    with pytest.raises(couch.module.ServerError) as caught:
        await db.show("r", "boom")
    assert caught.value.error == "render_error" and "boom" in caught.value.reason
    with pytest.raises(couch.module.NotFound) as missing:
        await db.show("r", "nope")
    assert missing.value.reason == "missing json key: nope"


# --- list functions -----------------------------------------------------------------------


async def test_list_view_runs_a_list_function_over_view_rows(couch):
    db = await design_db(couch)
    listed = await db.list_view("wire", "l", "by_n", limit=3)
    assert listed.text() == "1=name1\n2=name2\n3=name3\n"
    assert listed.content_type.startswith("text/plain")


async def test_list_view_encodes_view_options_as_json(couch):
    db = await design_db(couch)
    assert (await db.list_view("wire", "l", "by_type", key="a", reduce=False)).text() == "a=1\na=3\na=5\n"
    assert (await db.list_view("wire", "l", "by_n", startkey=2, endkey=4)).text() == "2=name2\n3=name3\n4=name4\n"
    assert (await db.list_view("wire", "l", "by_n", keys=[4, 1])).text() == "4=name4\n1=name1\n"


async def test_list_view_over_a_view_of_another_design_document(couch):
    db = await design_db(couch)
    await db.put_design("other", views={"by_name": "function(doc){ if (doc.name) emit(doc.name, doc.n); }"})
    listed = await db.list_view("wire", "l", "other/by_name", startkey="name4")
    assert listed.text() == "name4=4\nname5=5\nslashy=100\n"


@pytest.mark.couchdb_only
async def test_a_missing_list_function_is_not_found(couch):
    db = await design_db(couch)  # it makes PouchDB Server's process exit
    with pytest.raises(couch.module.NotFound):
        await db.list_view("wire", "nope", "by_n")


@pytest.mark.couchdb_only
async def test_a_list_function_sees_the_head_and_sets_its_answer_with_start(couch):
    db = await design_db(couch)
    source = "function(head, req){ send(JSON.stringify(head)); var r; while ((r = getRow())) send(r.id); return '.'; }"
    lists = {"head": source}
    await db.put_design("lists", lists=lists)
    listed = await db.list_view("lists", "head", "wire/by_n", startkey=2, limit=2)
    assert listed.text() == '{"total_rows":6,"offset":1}v2v3.'
    assert listed.content_type == "application/json"


# --- update functions ---------------------------------------------------------------------


async def test_update_an_existing_document(couch):
    db = await design_db(couch)
    updated = await db.update("wire", "u", "v1", note="hi")
    assert updated.json() == {"id": "v1", "touched": 1}
    assert updated.id == "v1"
    assert updated.rev.startswith("2-")
    doc = await db.get("v1")
    assert doc["touched"] == 1 and doc["note"] == "hi" and doc["_rev"] == updated.rev


async def test_update_creates_a_document_with_a_json_body(couch):
    db = await design_db(couch)
    created = await db.update("wire", "u", "fresh", {"a": [1, 2]})
    assert created.json() == {"created": "fresh"}
    doc = await db.get("fresh")
    assert doc["created"] is True and doc["_rev"] == created.rev


async def test_update_without_an_id_posts_and_its_error_is_typed(couch):
    db = await design_db(couch)
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.update("wire", "u", body={"x": 1})
    assert caught.value.error == "no id"
    assert caught.value.method == "POST"


async def test_update_with_text_and_bytes_bodies(couch):
    db = await design_db(couch)
    echoed = await db.update("wire", "echo", body="plain text")
    assert echoed.text() == "got plain text"
    assert echoed.rev is None
    echoed = await db.update("wire", "echo", body=b"a=1&b=2", content_type="application/x-www-form-urlencoded")
    assert echoed.text() == "got a=1&b=2"


@pytest.mark.couchdb_only
async def test_update_of_an_id_with_a_slash(couch):
    db = await design_db(couch)  # PouchDB Server cuts the id at the '/'
    created = await db.update("wire", "u", "new/slash", {})
    assert created.json() == {"created": "new/slash"}
    assert created.id == "new/slash"
    assert (await db.get("new/slash"))["created"] is True
    touched = await db.update("wire", "u", "path/doc")
    assert touched.json() == {"id": "path/doc", "touched": 1}


@pytest.mark.couchdb_only
async def test_an_update_saving_a_document_without_an_id_is_refused(couch):
    db = await couch.fresh_db()
    await db.put_design("r", updates={"noid": "function(doc, req){ return [{x: 1}, 'saved?']; }"})
    with pytest.raises(couch.module.BadRequest) as caught:
        await db.update("r", "noid", body={})
    assert caught.value.error == "illegal_docid"


async def test_a_missing_update_function_is_not_found(couch):
    db = await design_db(couch)
    with pytest.raises(couch.module.NotFound):
        await db.update("wire", "nope", "v1", {})


async def test_handler_arguments_are_refused_before_sending(couch):
    db = offline_db(couch)
    with pytest.raises(couch.module.InvalidType):
        await db.update("wire", "u", "v1", body=3.5)
    with pytest.raises(couch.module.InvalidArgument):
        await db.update("wire", "u", "")
    with pytest.raises(couch.module.InvalidArgument):
        await db.show("", "s")
    with pytest.raises(couch.module.InvalidType):
        await db.show("wire", None)
    with pytest.raises(couch.module.InvalidType):
        await db.show("wire", "s", q={"a": 1})
    with pytest.raises(couch.module.InvalidType):
        await db.list_view("wire", "l", 5)
    with pytest.raises(couch.module.InvalidType):
        await db.list_view("wire", "l", "by_n", keys="a")
    with pytest.raises(couch.module.InvalidArgument):
        await db.list_view("wire", "l", "by_n", key={1, 2})
