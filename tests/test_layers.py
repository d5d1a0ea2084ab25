"""The package's layers, read from its imports: no circle, and no import against the layering.

::

    wallaby.backends.couchdb
    ├── _core/   no framework, no endpoint: errors, JSON, checks, URLs, params,
    │            wire parsers, retry, TLS options, runtime protocol, auth, Http,
    │            Stream, Follower, Client; the HTTP/1.1 connection and its pool
    ├── _api/    one module per CouchDB concept, on _core's Client; Server, Database
    ├── _store/  the embedded store: CouchDB's requests answered from SQLite, under
    │            the core's Runtime (imports _core only)
    ├── _replicator/  the replication protocol, on the Database API (_core and _api only)
    ├── aio/     the asyncio flavour: its network, its Runtime and its four classes
    ├── tx/      the Twisted flavour: its network, its Runtime and its four classes
    └── cli/     the wallaby-couchdb command: the public asyncio flavour only, with click and rich

Imports inside ``if TYPE_CHECKING:`` cost nothing at run time; they are held
to the layer rules but not to the no-circle rule (Server and Database name
each other in their signatures).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "wallaby.backends.couchdb"
ROOT = Path(__file__).resolve().parents[1] / "src" / "wallaby" / "backends" / "couchdb"

# the command line's own dependencies (the cli extra): nothing else needs them
CLI_ONLY = {"cli", "click", "rich"}

# layer -> the layers and outside packages it must never import
FORBIDDEN = {
    "_core": {"_api", "_store", "_replicator", "aio", "tx", "twisted", "aiohttp", "asyncio", "zope"} | CLI_ONLY,
    "_api": {"_store", "_replicator", "aio", "tx", "twisted", "aiohttp", "asyncio", "zope"} | CLI_ONLY,
    "_store": {"_api", "_replicator", "aio", "tx", "twisted", "aiohttp", "asyncio", "zope"} | CLI_ONLY,
    "_replicator": {"_store", "aio", "tx", "twisted", "aiohttp", "asyncio", "zope"} | CLI_ONLY,
    "aio": {"tx", "twisted", "zope"} | CLI_ONLY,
    "tx": {"aio", "aiohttp", "asyncio"} | CLI_ONLY,
    "cli": {"_core", "_api", "_store", "_replicator", "tx", "twisted", "zope"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, only for type checking) for each import of the file, resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(nodes: list[ast.stmt], typing_only: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.body, True)
                visit(node.orelse, typing_only)
            elif isinstance(node, ast.Import):
                found.extend((alias.name, typing_only) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                found.append((target, typing_only))
                for alias in node.names:  # "from . import x" imports the module x
                    candidate = f"{target}.{alias.name}"
                    if (ROOT / Path(*candidate[len(PACKAGE) + 1 :].split("."))).with_suffix(".py").exists():
                        found.append((candidate, typing_only))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(node.body, typing_only)  # a deferred import is still an import
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child], typing_only)

    visit(ast.parse(path.read_text()).body, False)
    return found


def _graph() -> dict[str, list[tuple[str, bool]]]:
    return {_module_name(path): _imports(path) for path in sorted(ROOT.rglob("*.py"))}


def _layer(module: str) -> str | None:
    rest = module[len(PACKAGE) + 1 :] if module.startswith(PACKAGE + ".") else ""
    head = rest.split(".")[0]
    return head if head in FORBIDDEN else None


def _top(imported: str) -> set[str]:
    """The names a FORBIDDEN set can hold for an import: its layer, or its outside package."""
    if imported.startswith(PACKAGE):
        layer = _layer(imported)
        return {layer} if layer else set()
    return {imported.split(".")[0]}


GRAPH = _graph()


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _layer(m)))
def test_a_module_imports_nothing_its_layer_forbids(module):
    forbidden = FORBIDDEN[_layer(module)]
    wrong = sorted({imported for imported, _ in GRAPH[module] if _top(imported) & forbidden})
    assert not wrong, f"{module} ({_layer(module)}) imports {wrong}"


def test_no_module_imports_itself_back_at_run_time():
    edges = {
        module: {imported for imported, typing_only in imports if imported in GRAPH and not typing_only}
        for module, imports in GRAPH.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def connect(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                connect(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in edges:
        if module not in index:
            connect(module)
    assert not circles, f"import circles: {circles}"


def test_the_walk_sees_the_layers():
    assert {_layer(m) for m in GRAPH} >= {"_core", "_api", "_store", "_replicator", "aio", "tx", "cli"}
    assert (f"{PACKAGE}._core.client", False) in GRAPH[f"{PACKAGE}._api.views"]
