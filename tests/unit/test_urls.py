"""Names in URLs and server URLs without credentials (``_urls.py``)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

import wire
from wallaby.backends.couchdb._core.errors import InvalidArgument, InvalidType
from wallaby.backends.couchdb._core.urls import (
    attachment_segment,
    db_segment,
    doc_segment,
    redact,
    split_credentials,
)

# --- split_credentials -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base", "user", "password"),
    [
        ("http://localhost:5984", "http://localhost:5984", None, None),
        ("http://localhost:5984/", "http://localhost:5984", None, None),
        ("https://couch.example.com", "https://couch.example.com", None, None),
        ("https://admin:secret@couch.example.com:6984/", "https://couch.example.com:6984", "admin", "secret"),
        ("http://us%40er:p%3Ass%2Fw%40rd%25@host:5984", "http://host:5984", "us@er", "p:ss/w@rd%"),
        ("http://%C3%BCser:p%C3%A4ss@host", "http://host", "üser", "päss"),
        ("http://admin:p@ss@host:5984", "http://host:5984", "admin", "p@ss"),
        ("http://admin@host:5984", "http://host:5984", "admin", None),
        ("http://admin:@host:5984", "http://host:5984", "admin", ""),
        ("http://admin:secret@host:5984/couch/", "http://host:5984/couch", "admin", "secret"),
        ("http://admin:secret@[::1]:5984", "http://[::1]:5984", "admin", "secret"),
    ],
    ids=[
        "no-credentials",
        "trailing-slash-dropped",
        "https",
        "userinfo-split-off",
        "percent-encoded-userinfo-decoded",
        "utf8-userinfo-decoded",
        "raw-at-sign-in-password",
        "user-without-password",
        "empty-password",
        "path-prefix-kept",
        "ipv6-host",
    ],
)
def test_split_credentials_returns_base_user_password(url, base, user, password):
    assert split_credentials(url) == (base, user, password)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://admin:secret@host",
        "admin:secret@localhost:5984",
        "localhost:5984",
        "http://",
        "http://admin:secret@",
        "",
    ],
    ids=["other-scheme", "no-scheme-with-userinfo", "no-scheme", "no-host", "userinfo-but-no-host", "empty"],
)
def test_split_credentials_refuses_a_non_http_url_without_showing_the_password(url):
    with pytest.raises(InvalidArgument) as raised:
        split_credentials(url)
    assert type(raised.value) is InvalidArgument
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("file:///var/lib/app/couch", "file:///var/lib/app/couch"),
        ("file:///var/lib/app/couch/", "file:///var/lib/app/couch"),
        ("file://localhost/tmp/x", "file://localhost/tmp/x"),
        ("memory://tests", "memory://tests"),
        ("memory://", "memory://"),
    ],
)
def test_the_embedded_stores_urls_are_kept_without_credentials(url, base):
    assert split_credentials(url) == (base, None, None)


@pytest.mark.parametrize(
    "url", ["file:///", "file://relative", "memory://a/b", "memory://user:secret@name", "file:///x?sync=full"]
)
def test_a_store_url_with_a_path_it_cannot_have_is_refused(url):
    with pytest.raises(InvalidArgument) as raised:
        split_credentials(url)
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize("url", [None, b"http://localhost:5984", 5984], ids=["none", "bytes", "int"])
def test_split_credentials_refuses_a_non_str_url(url):
    with pytest.raises(InvalidType):
        split_credentials(url)


# --- redact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://admin:secret@host:5984/db/doc", "http://host:5984/db/doc"),
        ("https://admin@host/", "https://host/"),
        ("http://admin:p@ss@host", "http://host"),
        ("http://host:5984/db", "http://host:5984/db"),
        ("http://host:5984/db/a@b", "http://host:5984/db/a@b"),
        ("admin:secret@localhost:5984/db", "localhost:5984/db"),
        ("//admin:secret@host/db", "//host/db"),
        ("/db/a@b", "/db/a@b"),
        ("", ""),
    ],
    ids=[
        "userinfo-removed",
        "user-only-removed",
        "raw-at-sign-in-password",
        "no-userinfo-unchanged",
        "at-sign-in-path-kept",
        "no-scheme-userinfo-removed",
        "scheme-relative-userinfo-removed",
        "path-only-unchanged",
        "empty",
    ],
)
def test_redact_removes_userinfo_only(url, shown):
    assert redact(url) == shown


# --- segments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("docid", "segment"),
    [
        ("doc1", "doc1"),
        ("AZaz09_.-~", "AZaz09_.-~"),
        ("a/b", "a%2Fb"),
        ("a+b", "a%2Bb"),
        ("100%", "100%25"),
        ("copy%2Fslash", "copy%252Fslash"),
        ("with space", "with%20space"),
        ("what?", "what%3F"),
        ("hash#tag", "hash%23tag"),
        ("a&b=c", "a%26b%3Dc"),
        ("a:b", "a%3Ab"),
        ("ünï-文字-😀", "%C3%BCn%C3%AF-%E6%96%87%E5%AD%97-%F0%9F%98%80"),
        ("_design/d1", "_design/d1"),
        ("_design/a/b", "_design/a%2Fb"),
        ("_design/ü d", "_design/%C3%BC%20d"),
        ("_local/l1", "_local/l1"),
        ("_local/a+b", "_local/a%2Bb"),
        ("_designer/x", "_designer%2Fx"),
        ("x/_design/y", "x%2F_design%2Fy"),
        ("_design", "_design"),
    ],
    ids=[
        "plain",
        "unreserved-kept",
        "slash",
        "plus",
        "percent",
        "literal-percent-escape",
        "space",
        "question-mark",
        "hash",
        "ampersand-equals",
        "colon",
        "unicode-as-utf8",
        "design-prefix-kept",
        "design-rest-encoded",
        "design-unicode-rest",
        "local-prefix-kept",
        "local-rest-encoded",
        "lookalike-prefix-encoded",
        "prefix-not-at-start-encoded",
        "bare-design-word",
    ],
)
def test_doc_segment_encodes_all_but_the_design_and_local_prefix(docid, segment):
    assert doc_segment(docid) == segment


@pytest.mark.parametrize(
    "docid", ["", "_design/", "_local/"], ids=["empty", "design-prefix-alone", "local-prefix-alone"]
)
def test_doc_segment_refuses_an_empty_id_or_a_bare_prefix(docid):
    with pytest.raises(InvalidArgument):
        doc_segment(docid)


@pytest.mark.parametrize(
    "segment",
    [doc_segment, db_segment, attachment_segment],
    ids=["doc", "db", "attachment"],
)
@pytest.mark.parametrize("name", [None, 1, b"doc", ["doc"]], ids=["none", "int", "bytes", "list"])
def test_segments_refuse_a_non_str_name(segment, name):
    with pytest.raises(InvalidType):
        segment(name)


@pytest.mark.parametrize("segment", [doc_segment, db_segment, attachment_segment], ids=["doc", "db", "attachment"])
def test_segments_refuse_a_name_utf8_cannot_hold(segment):
    with pytest.raises(InvalidArgument):
        segment("lone-\ud800-surrogate")


@pytest.mark.parametrize(
    ("name", "segment"),
    [
        ("wire_db_a", "wire_db_a"),
        ("wire_db/sub", "wire_db%2Fsub"),
        ("a$b(c)+d-e", "a%24b%28c%29%2Bd-e"),
        ("_users", "_users"),
    ],
    ids=["plain", "slash", "legal-punctuation", "system-db"],
)
def test_db_segment_encodes_the_whole_name(name, segment):
    assert db_segment(name) == segment


@pytest.mark.parametrize(
    ("name", "segment"),
    [
        ("hello.txt", "hello.txt"),
        ("dir/file.txt", "dir%2Ffile.txt"),
        ("a b+c.bin", "a%20b%2Bc.bin"),
        ("_design/x", "_design%2Fx"),
        ("ünï.txt", "%C3%BCn%C3%AF.txt"),
    ],
    ids=["plain", "slash", "space-plus", "no-prefix-kept", "unicode"],
)
def test_attachment_segment_encodes_the_whole_name(name, segment):
    assert attachment_segment(name) == segment


@pytest.mark.parametrize("segment", [db_segment, attachment_segment], ids=["db", "attachment"])
def test_db_and_attachment_segments_refuse_an_empty_name(segment):
    with pytest.raises(InvalidArgument):
        segment("")


# --- against the recorded exchanges ------------------------------------------------

_PREFIXES = ("_design", "_local")


def _path_segments(exchange):
    return wire.request(exchange)["path"].lstrip("/").split("/")


def _accepted(exchange):
    return 200 <= exchange["couchdb"].get("status", 0) < 300


def _recorded_doc_targets():
    """Every id CouchDB accepted percent-encoded (or under a kept prefix)."""
    for file in ("documents.json", "attachments.json", "views.json"):
        for exchange in wire.exchanges(file):
            parts = _path_segments(exchange)
            if not _accepted(exchange):
                continue
            if len(parts) == 2 and "%" in parts[1]:
                yield f"{file}:{exchange['name']}", unquote(parts[1]), parts[1]
            elif len(parts) == 3 and parts[1] in _PREFIXES:
                segment = f"{parts[1]}/{parts[2]}"
                yield f"{file}:{exchange['name']}", f"{parts[1]}/{unquote(parts[2])}", segment


@wire.parametrize("docid, segment", _recorded_doc_targets)
def test_doc_segment_matches_every_id_couchdb_accepted(docid, segment):
    assert doc_segment(docid) == segment


def _recorded_attachment_targets():
    for exchange in wire.exchanges("attachments.json"):
        parts = _path_segments(exchange)
        if _accepted(exchange) and len(parts) == 3 and parts[1] not in _PREFIXES and "%" in parts[2]:
            yield exchange["name"], unquote(parts[2]), parts[2]


@wire.parametrize("name, segment", _recorded_attachment_targets)
def test_attachment_segment_matches_every_name_couchdb_accepted(name, segment):
    assert attachment_segment(name) == segment


def _recorded_db_targets():
    for exchange in wire.exchanges("databases.json"):
        parts = _path_segments(exchange)
        if _accepted(exchange) and len(parts) == 1 and "%" in parts[0]:
            yield exchange["name"], unquote(parts[0]), parts[0]


@wire.parametrize("name, segment", _recorded_db_targets)
def test_db_segment_matches_every_name_couchdb_accepted(name, segment):
    assert db_segment(name) == segment


# Exchanges that sent an id the wrong way on purpose, and the id meant.
_MISREAD = {
    "id_slash_unencoded_get": "a/b",
    "id_plus_unencoded_get": "a+b",
    "id_hash_unencoded_get": "hash#tag",
    "id_question_unencoded_get": "what?",
    "id_percent_unencoded_get": "100%",
    "design_get_slash_encoded": "_design/d1",
}


def _recorded_misreads():
    for exchange in wire.exchanges("documents.json"):
        if exchange["name"] in _MISREAD:
            yield exchange["name"], _MISREAD[exchange["name"]], exchange


@wire.parametrize("docid, exchange", _recorded_misreads)
def test_doc_segment_never_sends_a_target_couchdb_misread(docid, exchange):
    assert not _accepted(exchange)  # 301, 400 or 404: the recorded proof it is wrong
    db, _, recorded = wire.request(exchange)["target"].lstrip("/").partition("/")
    assert doc_segment(docid) != recorded
