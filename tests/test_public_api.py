"""Both flavours export the same names, and neither imports the other's framework."""

import inspect
import subprocess
import sys

import wallaby.backends.couchdb as twisted_flavour
import wallaby.backends.couchdb.aio as asyncio_flavour


def test_both_flavours_export_the_same_names():
    assert sorted(twisted_flavour.__all__) == sorted(asyncio_flavour.__all__)
    for name in asyncio_flavour.__all__:
        assert getattr(twisted_flavour, name) is not None
        assert getattr(asyncio_flavour, name) is not None


def test_errors_are_the_same_classes_in_both_flavours():
    for name in (
        "CouchDBError",
        "UnknownError",
        "NotFound",
        "Conflict",
        "DocumentUpdateConflict",
        "ViewError",
        "NetworkError",
    ):
        assert getattr(twisted_flavour, name) is getattr(asyncio_flavour, name)


def test_both_flavours_have_the_same_methods_with_the_same_signatures():
    for cls in ("Server", "Database", "Follower", "Stream", "Replication", "Sync"):
        tx, aio = getattr(twisted_flavour, cls), getattr(asyncio_flavour, cls)
        public = lambda klass: {n for n in dir(klass) if not n.startswith("_")}  # noqa: E731
        assert public(tx) == public(aio), cls
        for name in public(aio):
            a, t = getattr(aio, name), getattr(tx, name)
            if callable(a):
                assert inspect.signature(a) == inspect.signature(t), f"{cls}.{name}"


def test_both_flavours_have_the_same_functions_with_the_same_signatures():
    for name in ("replicate", "sync"):
        assert inspect.signature(getattr(twisted_flavour, name)) == inspect.signature(getattr(asyncio_flavour, name))


def test_twisted_flavour_methods_return_deferreds_and_asyncio_ones_coroutines():
    assert inspect.iscoroutinefunction(asyncio_flavour.Database.get)
    assert not inspect.iscoroutinefunction(twisted_flavour.Database.get)
    for aio, tx in (
        (asyncio_flavour.replicate, twisted_flavour.replicate),
        (asyncio_flavour.Replication.wait, twisted_flavour.Replication.wait),
        (asyncio_flavour.Sync.close, twisted_flavour.Sync.close),
    ):
        assert inspect.iscoroutinefunction(aio)
        assert not inspect.iscoroutinefunction(tx)


def test_replication_results_are_the_same_classes_in_both_flavours():
    for name in ("ReplicationEvent", "ReplicationResult", "SyncResult"):
        assert getattr(twisted_flavour, name) is getattr(asyncio_flavour, name)


def _imports(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(','.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.strip().split(","))


def test_importing_the_asyncio_flavour_imports_no_twisted():
    modules = _imports("import wallaby.backends.couchdb.aio")
    assert not {m for m in modules if m == "twisted" or m.startswith("twisted.")}


def test_importing_the_twisted_flavour_imports_no_aiohttp():
    modules = _imports("from wallaby.backends.couchdb import Database")
    assert "aiohttp" not in modules
