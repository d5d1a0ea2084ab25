"""The one-request commands, and the conventions every command keeps (help, exit codes, one-line errors)."""

from __future__ import annotations

import json

import pytest

from wallaby.backends.couchdb.cli import cli
from wallaby.backends.couchdb.testing import free_port

from .shell import couchdb, text

COMMANDS = sorted(cli.commands)


def test_the_commands_are_all_there() -> None:
    wanted = {"info", "dbs", "create-db", "delete-db", "get", "put", "delete", "find", "view", "follow", "dump"}
    assert wanted | {"load", "bench", "completion"} <= set(COMMANDS)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help_with_an_example(command: str | None) -> None:
    done = couchdb(None, *([command] if command else []), "--help")
    assert done.returncode == 0, text(done.stderr)
    assert "Example" in text(done.stdout)
    assert "wallaby-couchdb" in text(done.stdout).split("Example", 1)[1]


def test_a_document_goes_in_and_out(couchdb_dbname: str, couchdb_url: str) -> None:
    url = couchdb_url
    saved = couchdb(url, "put", couchdb_dbname, "-d", '{"_id": "greeting", "text": "hello"}')
    assert saved.returncode == 0, text(saved.stderr)
    rev = json.loads(saved.stdout)["rev"]
    got = couchdb(url, "get", couchdb_dbname, "greeting")
    assert json.loads(got.stdout) == {"_id": "greeting", "_rev": rev, "text": "hello"}
    from_stdin = couchdb(url, "put", couchdb_dbname, input=b'{"_id": "two", "n": 2}')
    assert json.loads(from_stdin.stdout)["id"] == "two"
    deleted = couchdb(url, "delete", couchdb_dbname, "greeting")
    assert deleted.returncode == 0 and json.loads(deleted.stdout)["ok"] is True
    assert couchdb(url, "get", couchdb_dbname, "greeting").returncode == 1


def test_databases_are_created_listed_and_deleted(couchdb_url: str) -> None:
    url, name = couchdb_url, f"cli-{free_port()}"
    assert couchdb(url, "create-db", name).returncode == 0
    assert name in json.loads(couchdb(url, "dbs").stdout)
    assert json.loads(couchdb(url, "info", name).stdout)["doc_count"] == 0
    assert "version" in json.loads(couchdb(url, "info").stdout)
    refused = couchdb(url, "delete-db", name)
    assert refused.returncode == 2 and "--yes" in text(refused.stderr)
    assert couchdb(url, "delete-db", name, "--yes").returncode == 0
    assert name not in json.loads(couchdb(url, "dbs").stdout)


def test_find_and_view_print_json_lines(couchdb_dbname: str, couchdb_url: str) -> None:
    url = couchdb_url
    for n in range(5):
        couchdb(url, "put", couchdb_dbname, "-d", json.dumps({"_id": f"d{n}", "type": "even" if n % 2 == 0 else "odd"}))
    found = couchdb(url, "find", couchdb_dbname, '{"type": "even"}', "--fields", "_id")
    assert found.returncode == 0, text(found.stderr)
    assert sorted(json.loads(line)["_id"] for line in text(found.stdout).splitlines()) == ["d0", "d2", "d4"]
    design = {"_id": "_design/app", "views": {"by_type": {"map": "function (doc) { emit(doc.type, 1); }"}}}
    couchdb(url, "put", couchdb_dbname, "-d", json.dumps(design))
    rows = couchdb(url, "view", couchdb_dbname, "app/by_type", "--key", "odd", "--no-reduce")
    assert [json.loads(line)["id"] for line in text(rows.stdout).splitlines()] == ["d1", "d3"]
    limited = couchdb(url, "view", couchdb_dbname, "_all_docs", "--limit", "2", "--include-docs")
    assert [json.loads(line)["doc"]["_id"] for line in text(limited.stdout).splitlines()] == ["_design/app", "d0"]


@pytest.mark.parametrize(
    ("case", "args", "code", "says"),
    [
        ("missing database", ("get", "no-such-db", "x"), 1, "database 'no-such-db' does not exist"),
        ("missing document", ("get", "{db}", "nothing"), 1, "404 not_found"),
        ("bad usage", ("get", "{db}"), 2, "Missing argument"),
        ("bad JSON", ("find", "{db}", '{"type": '), 2, "not valid JSON"),
        ("bad URL", ("--url", "localhost:5984", "info"), 2, "url must be"),
        ("unreachable server", ("--url", "http://127.0.0.1:{port}", "info"), 1, "cannot reach http://127.0.0.1:"),
        ("wrong password", ("--url", "{auth_url}", "info"), 1, "not authorized as 'nobody'"),
    ],
)
def test_a_failure_is_one_clear_line_and_its_exit_code(
    case: str, args: tuple[str, ...], code: int, says: str, couchdb_dbname: str, couchdb_url: str
) -> None:
    host = couchdb_url.split("://", 1)[1].rpartition("@")[2]
    values = {"db": couchdb_dbname, "port": str(free_port()), "auth_url": f"http://nobody:wrong@{host}"}
    done = couchdb(couchdb_url, *(_fill(arg, values) for arg in args))
    stderr = text(done.stderr)
    assert done.returncode == code, stderr
    assert says in stderr
    assert "Traceback" not in stderr
    if code == 1:
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert "wrong" not in stderr  # the password is never shown


def test_output_is_compact_json_on_a_pipe(couchdb_dbname: str, couchdb_url: str) -> None:
    done = couchdb(couchdb_url, "info", couchdb_dbname)
    assert text(done.stdout).count("\n") == 1


def test_shell_completion() -> None:
    script = couchdb(None, "completion", "bash")
    assert script.returncode == 0 and "_WALLABY_COUCHDB_COMPLETE" in text(script.stdout)
    words = couchdb(None, _WALLABY_COUCHDB_COMPLETE="bash_complete", COMP_WORDS="wallaby-couchdb fol", COMP_CWORD="1")
    assert "follow" in text(words.stdout)


def _fill(arg: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        arg = arg.replace("{" + name + "}", value)
    return arg


def test_replicate_copies_a_database(couchdb_dbname: str, couchdb_url: str) -> None:
    url, copy = couchdb_url, f"{couchdb_dbname}-copy"
    for n in range(3):
        couchdb(url, "put", couchdb_dbname, "-d", json.dumps({"_id": f"d{n}"}))
    try:
        done = couchdb(url, "replicate", couchdb_dbname, copy, "--create-target")
        assert done.returncode == 0, text(done.stderr)
        assert json.loads(done.stdout)["ok"] is True
        assert json.loads(couchdb(url, "info", copy).stdout)["doc_count"] == 3
    finally:
        couchdb(url, "delete-db", copy, "--yes")


def test_bench_runs_the_checkouts_benchmark_suite() -> None:
    listed = couchdb(None, "bench", "--list")
    assert listed.returncode == 0, text(listed.stderr)
    assert "wallaby-aio" in text(listed.stdout) and "get-32" in text(listed.stdout)
