"""Run one docs sample (a JSON file from test_samples.py) against the server in $SAMPLE_URL.

See samples.py for the rules: a complete program runs as it is; a fragment runs with
``server``, ``db`` and ``url`` defined, inside a coroutine (asyncio) or an
``inlineCallbacks`` generator (Twisted), between its page's hidden setup and then code.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import sys
import uuid
from typing import Any

SAMPLE_URLS = re.compile(r"http://(?:admin:secret@)?localhost:5984")
SAMPLE_CREDENTIALS = re.compile(r",?\s*(?:user|username)=\"admin\",\s*password=\"secret\"")


def point_at_test_server(code: str, url: str) -> str:
    return SAMPLE_CREDENTIALS.sub("", SAMPLE_URLS.sub(url, code))


def compiled(source: str, line: int, filename: str, mode: str = "exec", flags: int = 0) -> Any:
    return compile("\n" * (line - 1) + source, filename, mode, flags=flags, dont_inherit=True)


def parsed(source: str, line: int) -> list[ast.stmt]:
    tree = ast.parse(source)
    ast.increment_lineno(tree, line - 1)
    return tree.body


def top_level(nodes: list[ast.stmt], kinds: tuple[type, ...]) -> bool:
    """Does ``kinds`` occur outside any nested function or class."""
    stack: list[ast.AST] = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, kinds):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


def run_asyncio(sample: dict[str, Any], url: str) -> None:
    from wallaby.backends.couchdb.aio import Server

    async def main() -> None:
        server = Server(url)
        name = f"sample-{uuid.uuid4().hex[:10]}"
        namespace: dict[str, Any] = {"__name__": "__sample__", "url": url, "server": server}
        namespace["db"] = await server.create(name)
        try:
            parts = [(code, 1, "<setup>") for code in sample["setup"]]
            parts.append((sample["code"], sample["line"], sample["file"]))
            if sample["then"]:
                parts.append((sample["then"], 1, "<then>"))
            for code, line, filename in parts:
                code = point_at_test_server(code, url)
                result = eval(compiled(code, line, filename, flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
                if inspect.iscoroutine(result):
                    await result
        finally:
            try:
                await server.delete(name)
            finally:
                await server.close()

    asyncio.run(main())


def run_twisted(sample: dict[str, Any], url: str) -> None:
    from twisted.internet import defer, task

    from wallaby.backends.couchdb import Server

    body: list[ast.stmt] = []
    for code in sample["setup"]:
        body += parsed(point_at_test_server(code, url), 1)
    body += parsed(point_at_test_server(sample["code"], url), sample["line"])
    if sample["then"]:
        body += parsed(point_at_test_server(sample["then"], url), 1)
    body = body or [ast.Pass()]
    is_generator = top_level(body, (ast.Yield, ast.YieldFrom))
    awaits = top_level(body, (ast.Await, ast.AsyncFor, ast.AsyncWith))
    kind = ast.AsyncFunctionDef if awaits and not is_generator else ast.FunctionDef
    no_args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    fields = {"type_params": []} if "type_params" in kind._fields else {}
    function = kind(name="sample", args=no_args, body=body, decorator_list=[], returns=None, **fields)
    module = ast.fix_missing_locations(ast.Module(body=[function], type_ignores=[]))
    namespace: dict[str, Any] = {"__name__": "__sample__", "url": url}
    exec(compile(module, sample["file"], "exec"), namespace)

    async def main(reactor: Any) -> None:
        server = Server(url)
        name = f"sample-{uuid.uuid4().hex[:10]}"
        namespace["server"] = server
        namespace["db"] = await server.create(name)
        try:
            if is_generator:
                await defer.inlineCallbacks(namespace["sample"])()
            elif kind is ast.AsyncFunctionDef:
                await namespace["sample"]()
            else:
                namespace["sample"]()
        finally:
            try:
                await server.delete(name)
            finally:
                await server.close()

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))


def main() -> None:
    with open(sys.argv[1]) as file:
        sample = json.load(file)
    url = os.environ["SAMPLE_URL"]
    if sample["complete"]:
        code = point_at_test_server(sample["code"], url)
        exec(compiled(code, sample["line"], sample["file"]), {"__name__": "__main__"})
    elif sample["flavour"] == "twisted":
        run_twisted(sample, url)
    else:
        run_asyncio(sample, url)


if __name__ == "__main__":
    main()
