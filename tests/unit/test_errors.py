"""The one exception tree and the status -> class table (``_errors.py``)."""

from __future__ import annotations

import pickle

import pytest

import wire
from wallaby.backends.couchdb._core import errors as _errors
from wallaby.backends.couchdb._core.errors import (
    BadRequest,
    ClientError,
    Conflict,
    CouchDBError,
    DocumentUpdateConflict,
    Forbidden,
    InvalidArgument,
    InvalidType,
    NetworkError,
    NotFound,
    PreconditionFailed,
    ResponseError,
    ServerError,
    Timeout,
    Unauthorized,
    UnknownError,
    ViewError,
    error_from_response,
)
from wallaby.backends.couchdb._core.http import _decode_error_body

URL = "http://localhost:5984/db/doc"

# --- the tree ----------------------------------------------------------------------


def test_seed_names_are_aliases():
    assert UnknownError is CouchDBError
    assert DocumentUpdateConflict is Conflict


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (InvalidArgument, (CouchDBError, ValueError)),
        (InvalidType, (InvalidArgument, CouchDBError, TypeError, ValueError)),
        (ResponseError, (CouchDBError,)),
        (ClientError, (ResponseError,)),
        (BadRequest, (ClientError,)),
        (Unauthorized, (ClientError,)),
        (Forbidden, (ClientError,)),
        (NotFound, (ClientError,)),
        (Conflict, (ClientError, ResponseError, CouchDBError)),
        (PreconditionFailed, (ClientError,)),
        (ServerError, (ResponseError, CouchDBError)),
        (NetworkError, (CouchDBError,)),
        (Timeout, (NetworkError, CouchDBError)),
        (ViewError, (CouchDBError,)),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_every_error_sits_in_the_tree(cls, bases):
    for base in bases:
        assert issubclass(cls, base)


@pytest.mark.parametrize(
    ("cls", "outside"),
    [
        (ServerError, ClientError),
        (ClientError, ServerError),
        (NetworkError, ResponseError),
        (ViewError, ResponseError),
        (ResponseError, ValueError),
        (Conflict, NotFound),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_branches_of_the_tree_do_not_overlap(cls, outside):
    assert not issubclass(cls, outside)


def test_every_exported_error_derives_from_couchdberror():
    for name in _errors.__all__:
        value = getattr(_errors, name)
        if isinstance(value, type):
            assert issubclass(value, CouchDBError), name


# --- status -> class ---------------------------------------------------------------

_BY_STATUS = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
}


def _expected_class(status):
    return _BY_STATUS.get(status) or (ServerError if status >= 500 else ClientError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        *_BY_STATUS.items(),
        (405, ClientError),
        (413, ClientError),
        (415, ClientError),
        (416, ClientError),
        (417, ClientError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
    ],
    ids=str,
)
def test_error_from_response_picks_the_class_of_the_status(status, cls):
    error = error_from_response(status, None, "GET", URL)
    assert type(error) is cls
    assert error.status == status


@pytest.mark.parametrize(
    ("status", "base"),
    [
        (400, BadRequest),
        (404, NotFound),
        (409, Conflict),
        (418, ClientError),
        (500, ServerError),
    ],
    ids=str,
)
def test_a_view_error_is_both_viewerror_and_the_status_class(status, base):
    error = error_from_response(status, {"error": "x", "reason": "y"}, "GET", URL, view=True)
    assert isinstance(error, ViewError)
    assert isinstance(error, base)
    assert (error.status, error.error, error.reason) == (status, "x", "y")


def test_a_view_error_is_caught_by_except_viewerror():
    with pytest.raises(ViewError):
        raise error_from_response(404, {"error": "not_found", "reason": "missing_named_view"}, "GET", URL, view=True)


def test_a_non_view_error_is_not_a_viewerror():
    assert not isinstance(error_from_response(404, None, "GET", URL), ViewError)


@pytest.mark.parametrize(
    ("body", "error", "reason"),
    [
        ({"error": "conflict", "reason": "Document update conflict."}, "conflict", "Document update conflict."),
        ({"error": "not_found"}, "not_found", ""),
        ({"reason": "only a reason"}, None, "only a reason"),
        ({"error": "x", "reason": {"nested": 1}}, "x", "{'nested': 1}"),
        ({}, None, ""),
        (None, None, ""),
        ([{"id": "doc1", "error": "not_implemented"}], None, ""),
        ("<html>plain text</html>", None, ""),
    ],
    ids=["both", "error-only", "reason-only", "non-str-reason", "empty-object", "no-body", "array", "text"],
)
def test_error_from_response_takes_error_and_reason_from_a_json_object_only(body, error, reason):
    err = error_from_response(409, body, "PUT", URL)
    assert (err.error, err.reason) == (error, reason)


# --- what an error carries ---------------------------------------------------------


def test_message_holds_status_error_reason_method_and_url():
    err = error_from_response(409, {"error": "conflict", "reason": "Document update conflict."}, "PUT", URL)
    assert str(err) == f"409 conflict: Document update conflict. (PUT {URL})"
    assert (err.status, err.error, err.reason, err.method, err.url) == (
        409,
        "conflict",
        "Document update conflict.",
        "PUT",
        URL,
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (CouchDBError("boom"), "boom"),
        (CouchDBError(), ""),
        (NotFound("missing"), "404: missing"),
        (NotFound(), "404"),
        (ServerError("", status=503, error="unavailable"), "503 unavailable"),
        (NetworkError("connection refused", method="GET", url=URL), f"connection refused (GET {URL})"),
        (Timeout("no answer in 10s", method="GET"), "no answer in 10s"),
    ],
    ids=["reason-only", "empty", "class-status", "class-status-only", "no-reason", "no-status", "no-url"],
)
def test_message_leaves_out_what_is_missing(error, message):
    assert str(error) == message


def test_a_status_class_knows_its_status_without_a_response():
    assert (NotFound().status, Conflict().status, CouchDBError().status, NetworkError().status) == (
        404,
        409,
        None,
        None,
    )


@pytest.mark.parametrize(
    "error",
    [
        error_from_response(409, {"error": "conflict", "reason": "Document update conflict."}, "PUT", URL),
        error_from_response(503, None, "GET", URL),
        error_from_response(418, {"error": "teapot"}, "GET", URL),
        error_from_response(404, {"error": "not_found", "reason": "missing"}, "GET", URL, view=True),
        error_from_response(500, {"error": "os_process_error"}, "GET", URL, view=True),
        Timeout("no answer within 60s", method="GET", url=URL),
        InvalidType("a document must be a dict, not list"),
        CouchDBError("plain"),
    ],
    ids=["conflict", "server", "client", "view-not-found", "view-server", "timeout", "invalid-type", "root"],
)
def test_an_error_survives_pickling(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert (copy.status, copy.error, copy.reason, copy.method, copy.url) == (
        error.status,
        error.error,
        error.reason,
        error.method,
        error.url,
    )


# --- non-JSON error bodies ---------------------------------------------------------

_HTML = b'<!DOCTYPE html>\n<html lang="en">\n<body>\n<pre>URIError: Failed to decode param</pre>\n</body>\n</html>\n'


def test_an_html_error_page_becomes_the_reason():
    err = error_from_response(400, _decode_error_body(_HTML), "GET", URL)
    assert type(err) is BadRequest
    assert err.error is None
    assert err.reason.startswith("<!DOCTYPE html>")
    assert "URIError: Failed to decode param" in str(err)


def test_an_empty_error_body_leaves_error_and_reason_empty():
    err = error_from_response(404, _decode_error_body(b""), "HEAD", URL)
    assert (type(err), err.error, err.reason, str(err)) == (NotFound, None, "", f"404 (HEAD {URL})")


# --- against the recorded exchanges ------------------------------------------------


def _recorded_errors():
    files = (
        "errors.json",
        "documents.json",
        "attachments.json",
        "databases.json",
        "views.json",
        "mango.json",
        "changes.json",
        "security.json",
        "auth.json",
        "replication.json",
        "server.json",
        "misc.json",
    )
    for file, exchange, server, response in wire.answers(*files):
        if response["status"] >= 400 and response.get("body_encoding") != "base64":
            method = wire.request(exchange, server)["method"]
            yield f"{file}:{exchange['name']}:{server}", response, method


@wire.parametrize("response, method", _recorded_errors)
def test_error_from_response_maps_every_recorded_error(response, method):
    status = response["status"]
    body = _decode_error_body(wire.raw_body(response))
    err = error_from_response(status, body, method, URL)
    assert type(err) is _expected_class(status)
    if isinstance(response["body"], dict):
        assert err.error == response["body"].get("error")
        assert err.reason == (response["body"].get("reason") or "")
    assert str(status) in str(err)
    assert f"({method} {URL})" in str(err)


def _recorded_view_errors():
    for exchange in wire.exchanges("views.json"):
        response = exchange["couchdb"]
        if "/_view/" in exchange["request"]["path"] and response.get("status", 0) >= 400:
            yield exchange["name"], response


@wire.parametrize("response", _recorded_view_errors)
def test_every_recorded_view_error_is_a_viewerror(response):
    err = error_from_response(response["status"], response["body"], "GET", URL, view=True)
    assert isinstance(err, ViewError)
    assert isinstance(err, _expected_class(response["status"]))
    assert err.error == response["body"]["error"]
