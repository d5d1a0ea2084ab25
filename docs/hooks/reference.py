"""MkDocs hook: the API reference, generated from the docstrings, one page per CouchDB concept.

Each page opens with a table of the concept's methods and the endpoint each
one sends (the first line of its docstring names it), then every method in
full through mkdocstrings. A method whose docstring does not open with an
endpoint is listed with "—" (it sends nothing, or more than one request).
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from mkdocs.structure.files import File, Files

PACKAGE = "wallaby.backends.couchdb"

# page -> (title, what it is about, the classes whose methods it lists, by module path)
PAGES: dict[str, tuple[str, str, list[str]]] = {
    "server": ("Server", "A server: its welcome, its databases, the pool.", ["_api.server.Server", "_api.bulk.ServerBulk"]),
    "users": ("Users and sessions", "Methods of `Server`.", ["_api.users.Users"]),
    "nodes": ("Nodes, cluster and configuration", "Methods of `Server`.", ["_api.nodes.Nodes"]),
    "replication": ("Replication", "Methods of `Server`: the server's own replicator.", ["_api.replication.Replication"]),
    "database": ("Database", "One database: the original package's object.", ["_api.database.Database"]),
    "documents": ("Documents", "Methods of `Database`.", ["_api.documents.Documents"]),
    "bulk": ("Bulk", "Methods of `Database`.", ["_api.bulk.Bulk"]),
    "revisions": ("Revisions", "Methods of `Database`.", ["_api.revisions.Revisions"]),
    "conflicts": ("Conflicts", "Methods of `Database`.", ["_api.conflicts.Conflicts"]),
    "attachments": ("Attachments", "Methods of `Database`.", ["_api.attachments.Attachments"]),
    "views": ("Views and _all_docs", "Methods of `Database`.", ["_api.views.Views"]),
    "design": ("Design documents", "Methods of `Database`.", ["_api.design.Design"]),
    "mango": ("Mango queries", "Methods of `Database`.", ["_api.mango.Mango"]),
    "partitions": ("Partitioned databases", "Methods of `Database`.", ["_api.partitions.Partitions"]),
    "changes": (
        "Changes",
        "Methods of `Database` (and `Server.db_updates`).",
        ["_api.changes.Changes", "_api.changes.DbUpdates"],
    ),
    "security": ("Security", "Methods of `Database`.", ["_api.security.Security"]),
    "maintenance": ("Maintenance", "Methods of `Database`.", ["_api.maintenance.Maintenance"]),
    "feeds": ("Follower", "What `follow()` and `db_updates()` return.", ["_core.feeds.Follower"]),
    "streams": ("Stream", "What every `stream_*()` method returns.", ["_core.streams.Stream"]),
    "options": ("Options", "Shared by both flavours.", ["_core.retry.Backoff", "_core.tls.TLSConfig"]),
}

ENDPOINT = re.compile(r"``((?:GET|PUT|POST|DELETE|HEAD|COPY) /[^`]*)``")
SUMMARY = re.compile(r"^``(?:GET|PUT|POST|DELETE|HEAD|COPY)[^:]*:\s*(.+)$")


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(f"{PACKAGE}.{module}"), name)  # type: ignore[no-any-return]


def _methods(cls: type) -> list[tuple[str, Any]]:
    """The public methods a class defines itself, in source order."""
    return [
        (name, member)
        for name, member in vars(cls).items()
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    ]


def _row(path: str, name: str, member: Any) -> str:
    doc = inspect.getdoc(member) or ""
    first = doc.splitlines()[0] if doc else ""
    paragraphs = doc.split("\n\n")
    endpoints = list(dict.fromkeys(ENDPOINT.findall(paragraphs[0]) or ENDPOINT.findall("".join(paragraphs[1:2]))))
    summary = SUMMARY.match(first)
    what = summary.group(1) if summary else first
    what = (what[:1].upper() + what[1:]).replace("``", "`").replace("|", "\\|")
    endpoint = "<br>".join(f"`{e}`" for e in endpoints) or "—"
    call = name if isinstance(member, property) else f"{name}()"
    return f"| [`{call}`](#{PACKAGE}.{path}.{name}) | {endpoint} | {what} |"


def page(slug: str) -> str:
    title, about, classes = PAGES[slug]
    lines = [f"# {title}", "", about, ""]
    lines += [
        "Every method is a coroutine in `wallaby.backends.couchdb.aio` and returns a Deferred",
        "in `wallaby.backends.couchdb`, with the same arguments and results.",
        "",
    ]
    for path in classes:
        cls = _class(path)
        if len(classes) > 1:
            lines += [f"## {cls.__name__}", ""]
        summary = (inspect.getdoc(sys_module(cls)) or "").split("\n\n")[0]
        if summary and "Rules kept here" not in summary:
            lines += [summary.replace("``", "`"), ""]
        methods = _methods(cls)
        if methods:
            lines += ["| method | endpoint | what it does |", "|---|---|---|"]
            lines += [_row(path, name, member) for name, member in methods]
            lines += [""]
        lines += [f"::: {PACKAGE}.{path}", "    options:", "      show_root_heading: false", ""]
    return "\n".join(lines)


def sys_module(cls: type) -> Any:
    return importlib.import_module(cls.__module__)


def index() -> str:
    lines = [
        "# Reference",
        "",
        "Generated from the docstrings, one page per CouchDB concept; the first line of",
        "each method's docstring names the endpoint it sends. [API by endpoint](../api.md)",
        "is the same ground as one long page of tables, with notes on each server's quirks.",
        "",
        "| page | methods |",
        "|---|---|",
    ]
    for slug, (title, _, classes) in PAGES.items():
        names = ", ".join(f"`{name}`" for path in classes for name, _ in _methods(_class(path)))
        lines.append(f"| [{title}]({slug}.md) | {names} |")
    return "\n".join(lines) + "\n"


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "reference/index.md", content=index()))
    for slug in PAGES:
        files.append(File.generated(config, f"reference/{slug}.md", content=page(slug)))
    return files
