"""Names in URLs, and server URLs without their credentials.

Rules kept here:

- A database name, a document id and an attachment name each become one path
  segment: every character but ``A-Z a-z 0-9 _ . - ~`` is percent-encoded as
  UTF-8, ``/`` and ``+`` included (CouchDB reads a raw ``+`` as a space).
- The ``_design/`` and ``_local/`` prefixes of an id stay as they are: CouchDB
  answers ``_design%2F...`` with a redirect. A prefix alone is not an id.
- A name that UTF-8 cannot hold (a lone surrogate) is refused before sending.
- Credentials never stay in a URL: they are split off the server URL once, and
  every URL the library builds (and so every error) is free of them.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ._errors import InvalidArgument, InvalidType

__all__ = ["split_credentials", "redact", "db_segment", "doc_segment", "attachment_segment", "segment"]

_PREFIXES = ("_design/", "_local/")
_AUTHORITY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")  # "scheme://" or "//"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``http://u:p@host:5984/`` -> (``http://host:5984``, ``u``, ``p``)."""
    if not isinstance(url, str):
        raise InvalidType(f"url must be a str, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"url must be an http:// or https:// URL with a host, not {redact(url)!r}")
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


def _name(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidType(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgument(f"{what} must not be empty")
    return value


def _quote(text: str, what: str) -> str:
    try:
        return quote(text, safe="")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{what} {text!r} cannot be encoded as UTF-8") from None


def db_segment(name: object) -> str:
    return _quote(_name(name, "database name"), "database name")


def doc_segment(docid: object) -> str:
    docid = _name(docid, "document id")
    for prefix in _PREFIXES:
        if docid.startswith(prefix):
            if docid == prefix:
                raise InvalidArgument(f"document id {docid!r} has nothing after its prefix")
            return prefix + _quote(docid[len(prefix):], "document id")
    return _quote(docid, "document id")


def attachment_segment(name: object) -> str:
    return _quote(_name(name, "attachment name"), "attachment name")


def segment(value: object, what: str) -> str:
    """Any other name as one path segment (a config key, a node, a job id); ``what`` names it in errors."""
    return _quote(_name(value, what), what)
