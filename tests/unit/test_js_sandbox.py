"""The JavaScript sandbox: CouchDB's compile rules, the helpers a map sees, and the limits on every call."""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from wallaby.backends.couchdb._store.js import FROZEN_TIME_MS, JSError, JSLimitError, Sandbox, leaves_arguments_alone


def docs(*items: dict) -> str:
    return orjson.dumps(list(items)).decode()


@pytest.mark.parametrize(
    "source",
    [
        "function(doc) { emit(doc._id, 1) }",
        "function (doc) { emit(doc._id, 1) };",
        "// a comment\nfunction(doc) { emit(doc._id, 1) } // another",
        "var one = 1; function(doc) { emit(doc._id, one) }",
        "(doc) => emit(doc._id, 1)",
        "function named(doc) { emit(doc._id, 1) }; named",
    ],
)
def test_the_sources_couchdb_compiles_compile(source: str) -> None:
    box = Sandbox()
    box.compile("m", source)
    assert box.map(["m"], docs({"_id": "a"})) == [[[["a", 1]]]]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("function(doc) { emit(doc._id", "SyntaxError"),
        ("function named(doc) { emit(1, 1) }", "Expression does not eval to a function."),
        ("42", "Expression does not eval to a function."),
    ],
)
def test_what_couchdb_refuses_is_a_compilation_error(source: str, reason: str) -> None:
    with pytest.raises(JSError) as caught:
        Sandbox().compile("m", source)
    assert (caught.value.status, caught.value.error) == (400, "compilation_error")
    assert reason in caught.value.reason and caught.value.reason.endswith(f"({source})")


def test_a_map_sees_couchdbs_helpers_and_a_frozen_document() -> None:
    box = Sandbox()
    box.compile(
        "m",
        "function(doc) { doc.x = 1; emit(isArray(doc.list), [sum(doc.list), toJSON(doc.list), doc.x || null]) }",
    )
    assert box.map(["m"], docs({"_id": "a", "list": [1, 2]})) == [[[[True, [3, "[1,2]", None]]]]]


@pytest.mark.parametrize(
    "source",
    [
        "function (doc) { emit(doc.type, 1); }",
        "function(doc) { if (doc.type === 'post' && doc.n >= 2) emit([doc.a, doc['b']], doc) }",
        "(doc) => emit(doc._id, null)",
        "function(doc) { if (Array.isArray(doc.tags) && !isArray(doc.x)) emit(toJSON(doc.tags), sum(doc.tags)) }",
        "function(keys, values, rereduce) { return sum(values); }",
    ],
)
def test_functions_that_only_read_their_document_are_told_apart(source: str) -> None:
    assert leaves_arguments_alone(source)


@pytest.mark.parametrize(
    "source",
    [
        "function(doc) { doc.x = 1; emit(doc.x, 1) }",
        "function(doc) { doc.n++ }",
        "function(doc) { doc.n >>= 1 }",
        "function(doc) { delete doc.n }",
        "function(doc) { doc.tags.push(1) }",
        "function(doc) { doc.tags.forEach(doc.tags.push, doc.tags) }",
        "function(doc) { emit(1, {sum: [].push}.sum(doc.tags)) }",
        "function(doc) { Object.assign(doc, {n: 1}) }",
        "function(doc) { (function(){ })() }",
        "function(doc) { doc.tags.push`x` }",
        "function(doc) { emit(doc.n, 1) } // a comment: the text is not read further",
        "function(doc) { emit(require('views/lib/x').f(doc), 1) }",
        "function(doc) { emit(new Date(), 1) }",
    ],
)
def test_functions_that_could_change_their_document_are_not_passed(source: str) -> None:
    assert not leaves_arguments_alone(source)


def test_an_unfrozen_run_gives_what_a_frozen_one_gives_to_a_function_that_only_reads() -> None:
    box = Sandbox()
    source = "function(doc) { if (doc.list) emit([doc._id, doc.list], {n: doc.n}) }"
    box.compile("m", source)
    batch = docs({"_id": "a", "list": [1, {"b": 2}], "n": 1}, {"_id": "b"})
    assert box.map(["m"], batch, freeze=False) == box.map(["m"], batch) == [[[[["a", [1, {"b": 2}]], {"n": 1}]]], [[]]]


def test_require_loads_commonjs_modules_from_views_lib() -> None:
    box = Sandbox()
    lib = {"views": {"lib": {"math": "exports.double = function(x) { return 2 * x }", "other": "module.exports = 7"}}}
    box.compile("m", "function(doc) { emit(require('views/lib/math').double(require('views/lib/other')), 1) }", lib)
    assert box.map(["m"], docs({"_id": "a"})) == [[[[14, 1]]]]


def test_a_map_that_throws_for_one_document_skips_it_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    box = Sandbox()
    box.compile("m", "function(doc) { if (doc.bad) throw new Error('nope'); emit(doc._id, null) }")
    with caplog.at_level("INFO", logger="wallaby.backends.couchdb.js"):
        result = box.map(["m"], docs({"_id": "a"}, {"_id": "b", "bad": True}, {"_id": "c"}))
    assert result == [[[["a", None]]], [[]], [[["c", None]]]]
    assert "function raised exception Error: nope with doc._id b" in caplog.text


def test_fatal_error_fails_the_whole_run() -> None:
    box = Sandbox()
    box.compile("m", "function(doc) { throw 'fatal_error' }")
    with pytest.raises(JSError) as caught:
        box.map(["m"], docs({"_id": "a"}))
    assert caught.value.error == "map_runtime_error"


def test_maps_see_a_frozen_clock_and_seeded_random() -> None:
    box = Sandbox()
    box.compile("m", "function(doc) { emit(Date.now(), [new Date().getTime(), Math.random()]) }")
    first, second = box.map(["m"], docs({"_id": "a"}, {"_id": "b"}))
    assert first == second
    assert first[0][0][0] == FROZEN_TIME_MS


def test_an_endless_loop_is_stopped_by_the_time_limit() -> None:
    box = Sandbox(time_limit=0.2)
    box.compile("m", "function(doc) { while (true) {} }")
    started = time.process_time()
    with pytest.raises(JSLimitError) as caught:
        box.map(["m"], docs({"_id": "a"}))
    assert caught.value.status == 500 and "time limit" in caught.value.reason
    assert time.process_time() - started < 30
    assert box.broken


def test_a_huge_allocation_is_stopped_by_the_memory_limit() -> None:
    box = Sandbox(memory_limit=16 * 1024 * 1024)
    box.compile("m", "function(doc) { var a = []; while (true) a.push('x'.repeat(1000) + a.length) }")
    with pytest.raises(JSLimitError) as caught:
        box.map(["m"], docs({"_id": "a"}))
    assert "memory" in caught.value.reason


def test_endless_recursion_is_that_documents_error_only() -> None:
    box = Sandbox()  # QuickJS throws a RangeError, which a map may catch: CouchDB logs it and goes on
    box.compile("m", "function(doc) { function f(n) { return f(n + 1) + 1 } if (doc.deep) f(0); emit(doc._id, 1) }")
    assert box.map(["m"], docs({"_id": "a", "deep": True}, {"_id": "b"})) == [[[]], [[["b", 1]]]]


def test_a_sandbox_stays_on_the_thread_that_made_it() -> None:
    box = Sandbox()
    failures: list[BaseException] = []

    def elsewhere() -> None:
        try:
            box.compile("m", "function(doc) {}")
        except RuntimeError as exc:
            failures.append(exc)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert len(failures) == 1


def test_reduce_and_rereduce() -> None:
    box = Sandbox()
    box.compile("r", "function(keys, values, rereduce) { return rereduce ? sum(values) + 100 : values.length }")
    assert box.reduce(["r"], [["k", "a"], ["k", "b"]], [5, 6], False) == [2]
    assert box.reduce(["r"], None, [2, 3], True) == [105]


@pytest.mark.parametrize(
    ("doc", "status", "error", "reason"),
    [
        ({"_id": "a", "kind": "forbidden"}, 403, "forbidden", "no way"),
        ({"_id": "a", "kind": "unauthorized"}, 401, "unauthorized", "log in"),
        ({"_id": "a", "kind": "other"}, 500, "unknown_error", "odd"),
    ],
)
def test_validate_doc_update_refusals(doc: dict, status: int, error: str, reason: str) -> None:
    box = Sandbox()
    box.compile(
        "v",
        "function(newDoc, oldDoc, userCtx, secObj) {"
        " if (newDoc.kind == 'forbidden') throw({forbidden: 'no way'});"
        " if (newDoc.kind == 'unauthorized') throw({unauthorized: 'log in'});"
        " if (newDoc.kind == 'other') throw({whatever: 'odd'}); }",
    )
    box.validate("v", {}, {"_id": "ok"}, None, {"name": None, "roles": []}, {})
    with pytest.raises(JSError) as caught:
        box.validate("v", {}, doc, None, {"name": None, "roles": []}, {})
    assert (caught.value.status, caught.value.error, caught.value.reason) == (status, error, reason)


def test_validate_sees_the_user_context_and_the_old_document() -> None:
    box = Sandbox()
    box.compile(
        "v",
        "function(n, o, u, s) { if (o && o.locked) throw({forbidden: u.name + ' ' + s.admins.names[0]}) }",
    )
    with pytest.raises(JSError) as caught:
        box.validate("v", {}, {"_id": "a"}, {"_id": "a", "locked": True}, {"name": "bob"}, {"admins": {"names": ["x"]}})
    assert caught.value.reason == "bob x"


def test_filters_get_the_request_and_this_is_the_design_document() -> None:
    box = Sandbox()
    box.compile("f", "function(doc, req) { return doc.n >= Number(req.query.min) && this.enabled }")
    kept = box.filter("f", {"enabled": True}, [{"n": 1}, {"n": 5}], {"query": {"min": "2"}})
    assert kept == [False, True]
    box.compile("m", "function(doc) { if (doc.n > 2) emit(doc.n, null) }")
    assert box.filter_view("m", [{"n": 1}, {"n": 5}]) == [False, True]
