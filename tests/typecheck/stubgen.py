"""Write the Twisted flavour's type stub: its classes as the core's, each coroutine returning a Deferred.

At run time ``tx`` wraps every public coroutine method of the core classes so
that it returns a ``Deferred``; a type checker cannot see that, so it reads
``tx/__init__.pyi``, which this script writes from the core classes'
signatures: ``./dev stubs``. ``./dev check`` runs it with ``--check``, which
fails when the stub is out of date.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc
import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

from wallaby.backends.couchdb._api.database import Database
from wallaby.backends.couchdb._api.server import Server
from wallaby.backends.couchdb._core.feeds import Follower
from wallaby.backends.couchdb._core.public import FLAVOURED, RESULTS, SHARED
from wallaby.backends.couchdb._core.streams import Stream
from wallaby.backends.couchdb._replicator.replication import Replication, replicate
from wallaby.backends.couchdb._replicator.sync import Sync, sync

STUB = Path(__file__).resolve().parents[2] / "src" / "wallaby" / "backends" / "couchdb" / "tx" / "__init__.pyi"
CORE = {
    "Server": Server,
    "Database": Database,
    "Follower": Follower,
    "Stream": Stream,
    "Replication": Replication,
    "Sync": Sync,
}
FUNCTIONS = {"replicate": replicate, "sync": sync}
WRAPPED_DUNDERS = ("__aenter__", "__aexit__")  # tx wraps these too; __anext__ stays a coroutine


def _names(annotation: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(annotation, mode="eval")) if isinstance(node, ast.Name)}


class _Imports:
    def __init__(self) -> None:
        self.by_module: dict[str, set[str]] = {}
        self.modules: set[str] = set()

    def need(self, annotation: str, namespace: dict[str, Any]) -> None:
        for name in _names(annotation):
            known = name in CORE or name in SHARED or name in RESULTS
            if known or name in ("Self", "Unpack", "T", "_T", "ClassVar") or hasattr(builtins, name):
                continue
            if name not in namespace:
                raise LookupError(f"cannot tell where {name!r} comes from")
            value = namespace[name]
            if inspect.ismodule(value):
                self.modules.add(name)
                continue
            for home in (collections.abc, typing):  # where the standard names live
                if getattr(home, name, None) is value:
                    module = home.__name__
                    break
            else:  # a class, or an alias defined in the module that uses it
                module = getattr(value, "__module__", None)
                if not isinstance(module, str) or getattr(sys.modules.get(module), name, None) is not value:
                    module = _exporter(name, value)
            self.by_module.setdefault(module, set()).add(name)

    def lines(self) -> list[str]:
        """The imports in sections, as ruff's isort orders them."""
        self.by_module.setdefault("twisted.internet.defer", set()).add("Deferred")
        self.by_module.setdefault("typing_extensions", set()).update({"Self", "Unpack"})
        self.by_module.setdefault("typing", set()).update({"Generic", "TypeVar"})
        sections: list[list[str]] = [[], [], []]
        for module in sorted(self.modules):
            sections[0].append(f"import {module}")
        for module in sorted(self.by_module):
            root = module.split(".")[0]
            section = 0 if root in sys.stdlib_module_names else 2 if root == "wallaby" else 1
            sections[section].append(f"from {module} import {', '.join(sorted(self.by_module[module]))}")
        return [line for section in sections if section for line in [*section, ""]]


def _exporter(name: str, value: object) -> str:
    """The module of this package that exports ``name`` (lists it in ``__all__``)."""
    for module_name, module in sorted(sys.modules.items()):
        if module_name.startswith("wallaby.") and name in getattr(module, "__all__", ()):
            if getattr(module, name, None) is value:
                return module_name
    raise LookupError(f"no module of the package exports {name!r}")


def _typevar(annotation: str) -> str:
    """The stub's private name for the core's ``T``."""
    return re.sub(r"\bT\b", "_T", annotation)


def _parameters(fn: Any, imports: _Imports) -> str:
    annotations = fn.__annotations__
    parts = []
    star_done = False
    for param in inspect.signature(fn).parameters.values():
        text = param.name
        if param.kind is param.VAR_POSITIONAL:
            text = "*" + text
            star_done = True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        elif param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        annotation = annotations.get(param.name)
        if annotation is not None:
            imports.need(annotation, fn.__globals__)
            text += f": {_typevar(annotation)}"
        if param.default is not param.empty:
            text += " = ..."
        parts.append(text)
    return ", ".join(parts)


def _attributes(cls: type, imports: _Imports) -> list[str]:
    """The public attributes the class (or a base) declares, e.g. ``name: str``."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        namespace = vars(sys.modules[klass.__module__])
        for attribute, annotation in vars(klass).get("__annotations__", {}).items():
            if not attribute.startswith("_") and not annotation.startswith("ClassVar"):
                imports.need(annotation, namespace)
                found[attribute] = annotation
    return [f"    {attribute}: {annotation}" for attribute, annotation in sorted(found.items())]


def _members(name: str, cls: type, imports: _Imports) -> list[str]:
    lines = _attributes(cls, imports)
    for member in sorted(dir(cls)):
        if member.startswith("_") and member not in (*WRAPPED_DUNDERS, "__init__", "__aiter__", "__anext__"):
            continue
        static = inspect.getattr_static(cls, member)
        if isinstance(static, property):
            fn, decorator = static.fget, "    @property\n"
        elif inspect.isfunction(static):
            fn, decorator = static, ""
        else:
            continue
        if member == "__init__" and name in ("Stream", "Follower"):
            continue  # made by the library, never by a user
        returns = fn.__annotations__.get("return", "None")
        imports.need(returns, fn.__globals__)
        prefix = "def"
        if member == "__anext__":
            prefix = "async def"  # not wrapped: async for needs the coroutine
        elif inspect.iscoroutinefunction(fn):
            returns = f"Deferred[{returns}]"
        lines.append(f"{decorator}    {prefix} {member}({_parameters(fn, imports)}) -> {_typevar(returns)}: ...")
    return lines


def _function(name: str, fn: Any, imports: _Imports) -> str:
    returns = fn.__annotations__.get("return", "None")
    imports.need(returns, fn.__globals__)
    return f"def {name}({_parameters(fn, imports)}) -> Deferred[{returns}]: ..."


def stub() -> str:
    imports = _Imports()
    bodies = []
    for name, cls in CORE.items():
        header = "class Stream(Generic[_T]):" if name == "Stream" else f"class {name}:"
        bodies.append("\n".join([header, *_members(name, cls, imports)]))
    bodies.extend(_function(name, fn, imports) for name, fn in FUNCTIONS.items())
    shared = [*FLAVOURED, *SHARED, *RESULTS]
    head = [
        "# Written by tests/typecheck/stubgen.py (./dev stubs): do not edit by hand.",
        "# The Twisted flavour as type checkers see it: the core's classes, each coroutine returning a Deferred.",
        "",
        *imports.lines(),
        "from .._core.public import (",
        *(f"    {name} as {name}," for name in SHARED),
        ")",
        "from .._replicator.progress import (",
        *(f"    {name} as {name}," for name in RESULTS),
        ")",
        "",
        "__all__ = [",
        *(f'    "{name}",' for name in shared),
        "]",
        "",
        '_T = TypeVar("_T")',
    ]
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"


def formatted(text: str) -> str:
    """``text`` as ruff sorts and formats it (the stub lives among ruff-clean files)."""
    ruff = [sys.executable, "-m", "ruff"]
    where = ["--stdin-filename", str(STUB)]
    text = subprocess.run(
        [*ruff, "check", "--fix", "--select", "I", "--quiet", *where, "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return subprocess.run([*ruff, "format", *where, "-"], input=text, capture_output=True, text=True, check=True).stdout


if __name__ == "__main__":
    text = formatted(stub())
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if STUB.exists() and STUB.read_text() == text else 1)
    STUB.write_text(text)
    print(f"wrote {STUB}")
