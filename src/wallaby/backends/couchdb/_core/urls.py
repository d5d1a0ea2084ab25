"""Names in URLs, and server URLs without their credentials.

Rules kept here:

- A database name, a document id and an attachment name each become one path
  segment: every character but ``A-Z a-z 0-9 _ . - ~`` is percent-encoded as
  UTF-8, ``/`` and ``+`` included (CouchDB reads a raw ``+`` as a space).
- The ``_design/`` and ``_local/`` prefixes of an id stay as they are: CouchDB
  answers ``_design%2F...`` with a redirect. A prefix alone is not an id.
- A name that UTF-8 cannot hold (a lone surrogate) is refused before sending.
- A design document is named with or without ``_design/`` (``"d"`` and
  ``"_design/d"`` are the same); a view as ``_design/{ddoc}/_view/{view}``,
  ``{ddoc}/{view}`` or one of the built-in ``_all_docs``, ``_design_docs``,
  ``_local_docs``.
- A partition name is a non-empty str that does not start with ``_`` and
  holds no ``:`` (CouchDB answers 400 ``illegal_partition`` otherwise); the
  queries of one partition go under ``/{db}/_partition/{partition}/``.
- Credentials never stay in a URL: they are split off the server URL once, and
  every URL the library builds (and so every error) is free of them.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .checks import non_empty
from .errors import InvalidArgument, InvalidType

__all__ = [
    "STORE_SCHEMES",
    "attachment_segment",
    "db_segment",
    "ddoc_name",
    "ddoc_segment",
    "doc_segment",
    "partition_path",
    "partition_segment",
    "redact",
    "segment",
    "split_credentials",
    "view_path",
]

STORE_SCHEMES = ("file", "memory")
"""The schemes of the embedded store's URLs (``_store``)."""

_DESIGN = "_design/"
_PREFIXES = (_DESIGN, "_local/")
_SAFE = re.compile(r"[A-Za-z0-9_.~-]+")  # what quote(safe="") leaves as it is
_BUILTIN_VIEWS = ("_all_docs", "_design_docs", "_local_docs")
_AUTHORITY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")  # "scheme://" or "//"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``http://u:p@host:5984/`` -> (``http://host:5984``, ``u``, ``p``).

    The embedded store's URLs, ``file:///abs/dir`` and ``memory://NAME``,
    are kept as they are (less a trailing ``/``); they carry no credentials.
    """
    if not isinstance(url, str):
        raise InvalidType(f"url must be a str, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme in STORE_SCHEMES:
        if parts.query or parts.fragment or "@" in parts.netloc:
            raise InvalidArgument(f"a store URL has no credentials, query or fragment: {redact(url)!r}")
        path = parts.path.rstrip("/")
        if parts.scheme == "memory":
            if path:
                raise InvalidArgument(f"a memory store URL is memory://NAME, with no path: {url!r}")
            return f"memory://{parts.netloc}", None, None
        if not path.startswith("/"):
            raise InvalidArgument(f"a file store URL names a directory, file:///abs/dir: not {url!r}")
        return f"file://{parts.netloc}{path}", None, None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            f"url must be an http:// or https:// URL with a host, or a store's file:///dir or memory://name, "
            f"not {redact(url)!r}"
        )
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")), user, password


def redact(url: str) -> str:
    """The URL with any userinfo removed, for messages; also without a scheme.

    ``admin:secret@localhost:5984`` (a URL missing its ``http://``) is shown as
    ``localhost:5984``: the text up to the first ``/`` is read as the host.
    """
    match = _AUTHORITY.match(url)
    start = match.end() if match else 0
    host, slash, path = url[start:].partition("/")
    return f"{url[:start]}{host.rpartition('@')[2]}{slash}{path}"


def _quote(text: str, what: str) -> str:
    if _SAFE.fullmatch(text):  # most ids and names: nothing to encode
        return text
    try:
        return quote(text, safe="")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{what} {text!r} cannot be encoded as UTF-8") from None


def db_segment(name: object) -> str:
    return _quote(non_empty(name, "database name"), "database name")


def doc_segment(docid: object) -> str:
    docid = non_empty(docid, "document id")
    if docid[0] == "_":  # only these can start with a prefix
        for prefix in _PREFIXES:
            if docid.startswith(prefix):
                if docid == prefix:
                    raise InvalidArgument(f"document id {docid!r} has nothing after its prefix")
                return prefix + _quote(docid[len(prefix) :], "document id")
    return _quote(docid, "document id")


def attachment_segment(name: object) -> str:
    return _quote(non_empty(name, "attachment name"), "attachment name")


def segment(value: object, what: str) -> str:
    """Any other name as one path segment (a config key, a node, a job id); ``what`` names it in errors."""
    return _quote(non_empty(value, what), what)


def ddoc_name(ddoc: object) -> str:
    """A design document's name without its ``_design/`` prefix."""
    if not isinstance(ddoc, str):
        raise InvalidType(f"a design document name must be a str, not {type(ddoc).__name__}")
    name = ddoc[len(_DESIGN) :] if ddoc.startswith(_DESIGN) else ddoc
    if not name:
        raise InvalidArgument(f"design document name {ddoc!r} is empty")
    return name


def ddoc_segment(ddoc: object) -> str:
    """``_design/{name}``, the name encoded as one segment."""
    return _DESIGN + segment(ddoc_name(ddoc), "design document name")


def view_path(path: object) -> str:
    """The encoded path of a view under its database.

    ``_design/{ddoc}/_view/{view}`` (the seed's form), ``{ddoc}/{view}`` for
    short, or ``_all_docs`` / ``_design_docs`` / ``_local_docs``.
    """
    if not isinstance(path, str):
        raise InvalidType(f"a view path must be a str, not {type(path).__name__}")
    if path in _BUILTIN_VIEWS:
        return path
    parts = path.split("/", 3)
    if len(parts) == 4 and parts[0] == "_design" and parts[2] == "_view" and parts[1] and parts[3]:
        ddoc, view = parts[1], parts[3]
    elif len(parts) == 2 and all(parts) and not path.startswith("_"):
        ddoc, view = parts
    else:
        raise InvalidArgument(f"view path {path!r} is not '_design/DDOC/_view/VIEW', 'DDOC/VIEW' or '_all_docs'")
    return f"{_DESIGN}{_quote(ddoc, 'design document name')}/_view/{_quote(view, 'view name')}"


def partition_segment(partition: object) -> str:
    """The encoded segment of a valid partition name."""
    name = non_empty(partition, "partition name")
    if name.startswith("_"):
        raise InvalidArgument(f"partition name {name!r} must not start with '_'")
    if ":" in name:
        raise InvalidArgument(f"partition name {name!r} must not contain ':'")
    return _quote(name, "partition name")


def partition_path(db_path: str, partition: object) -> str:
    """``/{db}`` or, for a partition, ``/{db}/_partition/{partition}``."""
    if partition is None:
        return db_path
    return f"{db_path}/_partition/{partition_segment(partition)}"
