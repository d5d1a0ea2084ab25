"""The JavaScript sandbox: design document functions run by QuickJS, as CouchDB runs them.

Rules kept here:

- One ``Sandbox`` is one QuickJS context, used from the thread that made it
  only (QuickJS crashes otherwise); ``sandbox_for`` keeps one per thread and
  design document.
- Every call has a time limit and the context a memory limit. QuickJS counts
  time as the process's CPU time (``clock()``), which other busy threads of
  the process make run faster than the wall clock; the limit given to QuickJS
  is the wall limit times the number of CPUs, so a call is stopped after
  between ``time_limit`` and ``time_limit * cpus`` seconds, never sooner. A
  call stopped for time or memory raises ``JSLimitError``, and the context is
  thrown away (a context that ran out of memory is not usable again).
- Functions are compiled as CouchDB's QuickJS does: the source is an
  expression (``function(doc) {...}``, a trailing ``;`` allowed, an arrow
  function too) or a script whose last statement is an anonymous
  ``function (...) {...}``. Anything else is a ``compilation_error``:
  "Expression does not eval to a function. (source)".
- Map functions see ``emit``, ``log``, ``sum``, ``toJSON``, ``isArray`` and
  ``require`` (CommonJS modules from ``views.lib`` of the design document,
  as ``require('views/lib/name')``); the document is frozen, as CouchDB seals
  it. A map that throws for a document is logged and emits nothing for it;
  ``throw 'fatal_error'`` fails the whole run (``map_runtime_error``).
  Freezing is most of what a call costs for a simple map, so it is skipped
  when no function of the design document could change the document
  (``leaves_arguments_alone``): such a function sees the same either way.
- Map and reduce functions see a frozen clock and a seeded ``Math.random``
  (reseeded for each document), so an index is the same however often it is
  built; filters and ``validate_doc_update`` see the real ones.
- Many documents go in one call (a JSON array in, a JSON string out).
- Show, list and update functions get ``(doc, req)`` / ``(head, req)`` with
  ``this`` the design document; a list reads rows with ``getRow()``, writes
  with ``send()`` and sets its answer's code and headers with ``start()``.
  An error thrown with ``error`` and ``reason`` is answered with those; any
  other is 500 ``render_error`` "function raised error: ...".
- ``validate_doc_update`` throwing ``{forbidden: msg}`` is 403 ``forbidden``,
  ``{unauthorized: msg}`` 401 ``unauthorized``; any other object with one
  member, or a string, is 500 ``unknown_error`` (``couch_query_servers``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import quickjs

__all__ = [
    "JSError",
    "JSLimitError",
    "Sandbox",
    "leaves_arguments_alone",
    "sandbox_for",
    "DEFAULT_TIME_LIMIT",
    "DEFAULT_MEMORY_LIMIT",
]

log = logging.getLogger("wallaby.backends.couchdb.js")

DEFAULT_TIME_LIMIT = 5.0  # seconds per call, as CouchDB's os_process_timeout
DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024  # bytes per context, CouchDB's QuickJS default
STACK_LIMIT = 512 * 1024
_CPUS = os.cpu_count() or 1
FROZEN_TIME_MS = 1_000_000_000_000  # 2001-09-09T01:46:40Z, what Date says to maps and reduces


class JSError(Exception):
    """A failure CouchDB answers with a status, an error and a reason."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(f"{error}: {reason}")
        self.status = status
        self.error = error
        self.reason = reason


class JSLimitError(JSError):
    """A call ran past its time or memory limit."""


_PRELUDE = r"""
var __logs = [];
var __emitted = [];
var __funs = {};
var __realDate = Date, __realRandom = Math.random, __seed = 1;

function __errorToJson(e) {
  if (typeof e === "object" && e !== null && "stack" in e && "name" in e && "message" in e)
    return {error: e.name, message: e.message};
  return e;
}
function __errstr(e) { return (e && e.toSource) ? e.toSource() : String(e); }
function log(message) {
  if (typeof message != "string") message = JSON.stringify(__errorToJson(message));
  __logs.push(String(message));
}
function sum(values) { var rv = 0; for (var i in values) rv += values[i]; return rv; }
function isArray(obj) { return Object.prototype.toString.call(obj) === "[object Array]"; }
var toJSON = JSON.stringify;
function emit(key, value) { __emitted.push([key, __errorToJson(value)]); }

function __freeze(o) {  // a parsed document: plain objects and arrays only
  Object.freeze(o);
  for (var k in o) {
    var v = o[k];
    if (v !== null && typeof v === "object") __freeze(v);
  }
  return o;
}

function __FrozenDate(a, b, c, d, e, f, g) {
  var n = arguments.length;
  if (!(this instanceof __FrozenDate)) return new __realDate(__FROZEN).toString();
  if (n === 0) return new __realDate(__FROZEN);
  if (n === 1) return new __realDate(a);
  return new __realDate(a, b, c === undefined ? 1 : c, d || 0, e || 0, f || 0, g || 0);
}
__FrozenDate.prototype = __realDate.prototype;
__FrozenDate.now = function() { return __FROZEN; };
__FrozenDate.parse = __realDate.parse;
__FrozenDate.UTC = __realDate.UTC;
function __seededRandom() {
  __seed = (__seed * 1103515245 + 12345) % 2147483648;
  return __seed / 2147483648;
}
function __deterministic(on) {
  globalThis.Date = on ? __FrozenDate : __realDate;
  Math.random = on ? __seededRandom : __realRandom;
  __seed = 1;
}

function __resolve(names, mod, root) {
  if (names.length == 0) {
    if (typeof mod.current != "string")
      throw ["error", "invalid_require_path", "Must require a JavaScript string, not: " + (typeof mod.current)];
    return {current: mod.current, parent: mod.parent, id: mod.id, exports: {}};
  }
  var n = names.shift();
  if (n == "..") {
    if (!(mod.parent && mod.parent.parent))
      throw ["error", "invalid_require_path", "Object has no parent " + JSON.stringify(mod.current)];
    return __resolve(names, {id: mod.id.slice(0, mod.id.lastIndexOf("/")), parent: mod.parent.parent,
                              current: mod.parent.current});
  } else if (n == ".") {
    if (!mod.parent)
      throw ["error", "invalid_require_path", "Object has no parent " + JSON.stringify(mod.current)];
    return __resolve(names, {parent: mod.parent, current: mod.current, id: mod.id});
  } else if (root) {
    mod = {current: root};
  }
  if (mod.current === null || typeof mod.current !== "object" || mod.current[n] === undefined)
    throw ["error", "invalid_require_path", "Object has no property \"" + n + "\". " + JSON.stringify(mod.current)];
  return __resolve(names, {current: mod.current[n], parent: mod, id: mod.id ? mod.id + "/" + n : n});
}

function __makeRequire(root) {
  var cache = {};
  function require(name, module) {
    module = module || {};
    var m = __resolve(name.split("/"), module.parent, root);
    if (!cache.hasOwnProperty(m.id)) {
      cache[m.id] = {};
      try {
        var fn = (0, eval)("(function (module, exports, require) { " + m.current + "\n })");
        fn.apply(m.exports, [m, m.exports, function(n) { return require(n, m); }]);
      } catch (e) {
        if (e && e.name === "InternalError") throw e;
        throw ["error", "compilation_error", "Module require('" + name + "') raised error " + __errstr(e)];
      }
      cache[m.id] = m.exports;
    }
    return cache[m.id];
  }
  return require;
}

var __namedDeclaration = /^(\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*function\s*\*?\s*[A-Za-z_$][\w$]*\s*\(/;
function __evalFunction(__source, require) {
  var __trimmed = __source.replace(/[\s;]+$/, "");
  if (!__namedDeclaration.test(__source)) {  // a declaration evaluates to nothing, as in CouchDB
    try {
      return eval("(" + __trimmed + "\n)");
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  try {
    var __value = eval(__source);
    if (typeof __value === "function") return __value;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
  }
  // a script ending in an anonymous function statement, as CouchDB's patched QuickJS accepts it
  var __at = -1, __re = /(^|[;}\n])\s*function\s*\(/g, __m;
  while ((__m = __re.exec(__source)) !== null) __at = __m.index + __m[1].length;
  if (__at < 0) return eval(__source);
  return eval(__source.slice(0, __at) + "\n__lastFunction = " + __source.slice(__at));
}

var __compile = __entry(function(id, source, rootJson) {
  var f, root = rootJson ? JSON.parse(rootJson) : undefined;
  try {
    f = __evalFunction(source, root ? __makeRequire(root) : undefined);
  } catch (e) {
    if (e && e.name === "InternalError") throw e;
    if (e && e[0] === "error") throw e;
    throw ["error", "compilation_error", __errstr(e) + " (" + source + ")"];
  }
  if (typeof f !== "function")
    throw ["error", "compilation_error", "Expression does not eval to a function. (" + source + ")"];
  __funs[id] = f;
  return __out(true);
});

function __isFatal(e) {  // null: QuickJS could not even make the error (out of memory)
  return e === null || (e && (e.name === "InternalError" || e[0] === "fatal"));
}

function __out(result) {
  var logs = __logs;
  __logs = [];
  return JSON.stringify([result, logs]);
}

// an entry point: its result and the log lines, or the error CouchDB would answer
function __entry(fn) {
  return function() {
    try {
      return fn.apply(null, arguments);
    } catch (e) {
      if (e === null || (e && e.name === "InternalError")) throw e;
      var logs = __logs, error;
      __logs = [];
      if (e && (e[0] === "error" || e[0] === "fatal")) error = [String(e[1]), String(e[2])];
      else if (e && e.error && e.reason) error = [String(e.error), String(e.reason)];
      else if (e && e.name) error = [String(e.name), String(e.message)];
      else error = ["unnamed_error", __errstr(e)];
      return JSON.stringify([null, logs, error]);
    }
  };
}

var __map = __entry(function(idsJson, docsJson, freeze) {
  var ids = JSON.parse(idsJson), docs = JSON.parse(docsJson), out = new Array(docs.length), funs = [];
  for (var i = 0; i < ids.length; i++) funs.push(__funs[ids[i]]);
  __deterministic(true);
  try {
    for (var d = 0; d < docs.length; d++) {
      var doc = freeze ? __freeze(docs[d]) : docs[d], per = new Array(funs.length);
      for (var f = 0; f < funs.length; f++) {
        __emitted = [];
        __seed = 1;
        try {
          funs[f](doc);
          per[f] = __emitted;
        } catch (err) {
          if (err === "fatal_error") throw ["error", "map_runtime_error", "function raised 'fatal_error'"];
          if (__isFatal(err)) throw err;
          log("function raised exception " + __errstr(err) + " with doc._id " + doc._id);
          per[f] = [];
        }
      }
      out[d] = per;
    }
  } finally {
    __deterministic(false);
    __emitted = [];
  }
  return __out(out);
});

var __reduce = __entry(function(idsJson, argsJson, rereduce) {
  var ids = JSON.parse(idsJson), args = JSON.parse(argsJson), out = new Array(ids.length);
  __deterministic(true);
  try {
    for (var i = 0; i < ids.length; i++) {
      try {
        out[i] = __funs[ids[i]](args[0], args[1], rereduce);
      } catch (err) {
        if (__isFatal(err) || (err && err[0] === "error")) throw err;
        log("function raised exception " + __errstr(err));
        out[i] = null;
      }
      if (out[i] === undefined) out[i] = null;
    }
  } finally {
    __deterministic(false);
  }
  return __out(out);
});

var __filter = __entry(function(id, ddocJson, docsJson, reqJson) {
  var ddoc = JSON.parse(ddocJson), docs = JSON.parse(docsJson), req = JSON.parse(reqJson), out = [];
  var fun = __funs[id];
  for (var i = 0; i < docs.length; i++) out.push((fun.apply(ddoc, [docs[i], req]) && true) || false);
  return __out(out);
});

var __viewEmitted = false;
var __filterView = __entry(function(id, docsJson) {
  var docs = JSON.parse(docsJson), out = [], fun = __funs[id];
  var realEmit = emit;
  emit = function() { __viewEmitted = true; };
  try {
    for (var i = 0; i < docs.length; i++) {
      __viewEmitted = false;
      fun(docs[i]);
      out.push(__viewEmitted);
    }
  } finally {
    emit = realEmit;
  }
  return __out(out);
});

// show, list and update functions (render.js in CouchDB): their answers as {code, headers, body|json|base64}
function __response(r) {
  if (r === undefined || r === null) return {};
  if (typeof r === "string") return {body: r};
  if (typeof r !== "object") throw ["error", "render_error", "undefined response from show function"];
  return r;
}
function __renderCall(fun, self, args) {
  try {
    return fun.apply(self, args);
  } catch (e) {
    if (__isFatal(e) || (e && (e[0] === "error" || e[0] === "fatal"))) throw e;
    if (e && e.error && e.reason) throw ["error", String(e.error), String(e.reason)];
    throw ["error", "render_error", "function raised error: " + __errstr(e)];
  }
}
var __listRows = [], __listAt = 0, __listChunks = [], __listStart = null;
function getRow() { return __listAt < __listRows.length ? __listRows[__listAt++] : null; }
function send(chunk) { __listChunks.push(String(chunk)); }
function start(resp) { __listStart = resp || {}; }

var __show = __entry(function(id, ddocJson, argsJson) {
  return __out(__response(__renderCall(__funs[id], JSON.parse(ddocJson), JSON.parse(argsJson))));
});

var __update = __entry(function(id, ddocJson, argsJson) {
  var r = __renderCall(__funs[id], JSON.parse(ddocJson), JSON.parse(argsJson));
  if (!isArray(r) || r.length < 2)
    throw ["error", "render_error", "undefined response from update function"];
  return __out([r[0] === undefined ? null : r[0], __response(r[1])]);
});

var __list = __entry(function(id, ddocJson, headJson, reqJson, rowsJson) {
  __listRows = JSON.parse(rowsJson); __listAt = 0; __listChunks = []; __listStart = null;
  try {
    var tail = __renderCall(__funs[id], JSON.parse(ddocJson), [JSON.parse(headJson), JSON.parse(reqJson)]);
    if (typeof tail === "string") __listChunks.push(tail);
    return __out([__listStart || {}, __listChunks.join("")]);
  } finally {
    __listRows = []; __listChunks = [];
  }
});

var __validate = __entry(function(id, ddocJson, argsJson) {
  var ddoc = JSON.parse(ddocJson), args = JSON.parse(argsJson);
  try {
    __funs[id].apply(ddoc, args);
    return __out(1);
  } catch (error) {
    if (__isFatal(error) || (error && error.name && error.stack)) throw error;
    return __out(error === undefined ? null : error);
  }
});
"""


def _limit_error(message: str) -> JSLimitError | None:
    if "interrupted" in message:
        return JSLimitError(500, "os_process_error", "JavaScript call took too long (time limit)")
    if "out of memory" in message or message.strip() in ("null", ""):
        return JSLimitError(500, "os_process_error", "JavaScript call ran out of memory (memory limit)")
    if "stack overflow" in message.lower():
        return JSLimitError(500, "os_process_error", "JavaScript call overflowed the stack")
    return None


class Sandbox:
    """One QuickJS context for the functions of one design document, on one thread."""

    def __init__(
        self,
        time_limit: float = DEFAULT_TIME_LIMIT,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        name: str = "",
    ) -> None:
        self.thread = threading.get_ident()
        self.name = name
        self.time_limit = time_limit
        self.broken = False
        self._context = quickjs.Context()
        self._context.set_memory_limit(memory_limit)
        self._context.set_max_stack_size(STACK_LIMIT)
        self._context.eval(_PRELUDE.replace("__FROZEN", str(FROZEN_TIME_MS)))
        self._compiled: set[str] = set()
        self._calls = {
            name: self._context.get(name)
            for name in (
                "__compile",
                "__map",
                "__reduce",
                "__filter",
                "__filterView",
                "__validate",
                "__show",
                "__update",
                "__list",
            )
        }

    def _call(self, name: str, *args: Any) -> Any:
        if threading.get_ident() != self.thread:
            raise RuntimeError("a JavaScript sandbox is used from the thread that made it only")
        if self.broken:
            raise JSLimitError(500, "os_process_error", "this JavaScript context was stopped; make a new one")
        self._context.set_time_limit(self.time_limit * _CPUS)
        started = time.monotonic()
        try:
            raw = self._calls[name](*args)
        except quickjs.JSException as exc:
            message = str(exc)
            limit = _limit_error(message)
            if limit is not None:
                self.broken = True
                log.warning("%s: %s after %.2fs", self.name or "JavaScript", limit.reason, time.monotonic() - started)
                raise limit from None
            raise JSError(500, "unnamed_error", message.split("\n", 1)[0]) from None
        except quickjs.StackOverflow:
            self.broken = True
            raise JSLimitError(500, "os_process_error", "JavaScript call overflowed the stack") from None
        finally:
            self._context.set_time_limit(-1)
        answer = orjson.loads(raw)
        for line in answer[1]:
            log.info("%s: %s", self.name or "JavaScript", line)
        if len(answer) > 2:
            error, reason = answer[2]
            status = 400 if error in ("compilation_error", "invalid_require_path") else 500
            raise JSError(status, error, reason)
        return answer[0]

    def compile(self, key: str, source: str, lib_root: Mapping[str, Any] | None = None) -> None:
        """Compile ``source`` once under ``key``; ``lib_root`` is what ``require`` resolves paths in.

        A syntax error is ``JSError(400, "compilation_error", "<message> (<source>)")``.
        """
        if key in self._compiled:
            return
        if not isinstance(source, str):
            raise JSError(400, "compilation_error", f"Expression does not eval to a function. ({source!r})")
        root = orjson.dumps(lib_root).decode() if lib_root is not None else ""
        self._call("__compile", key, source, root)
        self._compiled.add(key)

    def map(self, keys: Sequence[str], docs_json: str, freeze: bool = True) -> list[list[list[list[Any]]]]:
        """Run the compiled map functions ``keys`` over a JSON array of documents.

        The result has, for each document, for each function, its ``[key, value]`` pairs.
        ``freeze=False`` hands the documents over unfrozen: only for functions
        that ``leaves_arguments_alone`` passed.
        """
        ids = orjson.dumps(list(keys)).decode()
        result: list[list[list[list[Any]]]] = self._call("__map", ids, docs_json, 1 if freeze else 0)
        return result

    def reduce(self, keys: Sequence[str], reduce_keys: Any, values: list[Any], rereduce: bool) -> list[Any]:
        """``fun(keys, values, rereduce)`` for each compiled reduce function; one result each."""
        args = orjson.dumps([reduce_keys, values]).decode()
        result: list[Any] = self._call("__reduce", orjson.dumps(list(keys)).decode(), args, rereduce)
        return result

    def filter(self, key: str, ddoc: Mapping[str, Any], docs: list[Any], req: Mapping[str, Any]) -> list[bool]:
        """A ``filters`` function (``this`` is the design document) over documents: keep each or not."""
        result: list[bool] = self._call(
            "__filter", key, orjson.dumps(ddoc).decode(), orjson.dumps(docs).decode(), orjson.dumps(req).decode()
        )
        return result

    def filter_view(self, key: str, docs: list[Any]) -> list[bool]:
        """A map function as a changes filter (``filter=_view``): does it emit anything for each document."""
        result: list[bool] = self._call("__filterView", key, orjson.dumps(docs).decode())
        return result

    def show(self, key: str, ddoc: Mapping[str, Any], doc: Any, req: Mapping[str, Any]) -> dict[str, Any]:
        """A ``shows`` function: its answer ``{code?, headers?, body | json | base64}`` (``{}`` for none)."""
        answer: dict[str, Any] = self._call(
            "__show", key, orjson.dumps(ddoc).decode(), orjson.dumps([doc, req]).decode()
        )
        return answer

    def update(
        self, key: str, ddoc: Mapping[str, Any], doc: Any, req: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """An ``updates`` function: (the document to save or None, its answer as ``show`` gives it)."""
        new_doc, answer = self._call("__update", key, orjson.dumps(ddoc).decode(), orjson.dumps([doc, req]).decode())
        return new_doc, answer

    def list(
        self, key: str, ddoc: Mapping[str, Any], head: Mapping[str, Any], req: Mapping[str, Any], rows_json: str
    ) -> tuple[dict[str, Any], str]:
        """A ``lists`` function over view rows (a JSON array): (what it gave ``start()``, the text it sent)."""
        started, text = self._call(
            "__list",
            key,
            orjson.dumps(ddoc).decode(),
            orjson.dumps(head).decode(),
            orjson.dumps(req).decode(),
            rows_json,
        )
        return started, text

    def validate(
        self,
        key: str,
        ddoc: Mapping[str, Any],
        new_doc: Mapping[str, Any],
        old_doc: Mapping[str, Any] | None,
        user_ctx: Mapping[str, Any],
        sec_obj: Mapping[str, Any],
    ) -> None:
        """``validate_doc_update(newDoc, oldDoc, userCtx, secObj)``; a refusal raises ``JSError`` 403/401/500."""
        args = orjson.dumps([new_doc, old_doc, user_ctx, sec_obj]).decode()
        answer = self._call("__validate", key, orjson.dumps(ddoc).decode(), args)
        if answer in (1, True):
            return
        if isinstance(answer, dict) and len(answer) == 1:
            ((error, message),) = answer.items()
            reason = message if isinstance(message, str) else orjson.dumps(message).decode()
            if error == "forbidden":
                raise JSError(403, "forbidden", reason)
            if error == "unauthorized":
                raise JSError(401, "unauthorized", reason)
            raise JSError(500, "unknown_error", reason)
        reason = answer if isinstance(answer, str) else orjson.dumps(answer).decode()
        raise JSError(500, "unknown_error", reason)


# Calls a function may make that cannot change an object it was given: the keywords that take
# parentheses, the helpers a map sees (emit keeps a reference, log and toJSON serialize, sum and
# isArray read). A parsed document holds no functions and no getters, so without other calls
# nothing else runs.
_SAFE_CALLS = frozenset(
    {"if", "for", "while", "switch", "catch", "return", "typeof", "function", "emit", "log", "sum", "isArray", "toJSON"}
)
_ASSIGNMENT = re.compile(r"(?<![=!<>])=(?![=>])|<<=|>>=|\+\+|--")
_WORD = re.compile(r"[\w$]+")
_CALLED = re.compile(r"(?<![\w$])([\w$]+)\s*$")  # the name a ``(`` follows
_METHOD = re.compile(r"\.\s*[\w$]+\s*$")
_ARRAY_IS_ARRAY = re.compile(r"(?<![\w$.])Array\s*\.\s*isArray\s*$")
_DECLARATION = re.compile(r"(?<![\w$.])function\s+[\w$]+\s*$")
_GROUPING_AFTER = frozenset("(,=!&|?:{};+-*%<>[~^")


def leaves_arguments_alone(source: str) -> bool:
    """Can the function ``source`` not change the objects it is given (so a document need not be frozen)?

    A conservative reading of the text, which may say no to a function that
    changes nothing, never yes to one that could: no assignment (``=``
    outside comparisons and ``=>``, ``++``, ``--``), no ``delete``/``new``,
    no template literal, no ``/`` (a comment or a regular expression could
    hide the rest), and every ``(`` opens a group, declares ``function
    name(``, or calls ``Array.isArray`` or one of ``_SAFE_CALLS`` (a
    function of that name declared in the source is read by the same rules).
    """
    if "`" in source or "/" in source or _ASSIGNMENT.search(source):
        return False
    words = _WORD.findall(source)
    if "delete" in words or "new" in words:
        return False
    for at, c in enumerate(source):
        if c != "(":
            continue
        before = source[:at].rstrip()
        if not before or before[-1] in _GROUPING_AFTER:
            continue
        called = _CALLED.search(before)
        if called is None:
            return False
        if _METHOD.search(before):  # whatever the object holds
            if not _ARRAY_IS_ARRAY.search(before):
                return False
        elif called.group(1) not in _SAFE_CALLS and not _DECLARATION.search(before):
            return False
    return True


_local = threading.local()


def sandbox_for(
    signature: str,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    name: str = "",
) -> Sandbox:
    """This thread's sandbox for the design document whose functions hash to ``signature``.

    A sandbox stopped by a limit is replaced by a new one.
    """
    boxes: dict[str, Sandbox] | None = getattr(_local, "boxes", None)
    if boxes is None:
        boxes = _local.boxes = {}
    box = boxes.get(signature)
    if box is None or box.broken or box.time_limit != time_limit:
        if len(boxes) > 64:  # design documents come and go: keep the recent ones
            boxes.pop(next(iter(boxes)))
        box = boxes[signature] = Sandbox(time_limit, memory_limit, name)
    return box
