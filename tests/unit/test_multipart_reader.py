"""The multipart reader: CouchDB's open_revs answer, cut anywhere, gives the same parts."""

from __future__ import annotations

import pytest

from wallaby.backends.couchdb._core.errors import ProtocolError, TruncatedBody
from wallaby.backends.couchdb._core.multipart import MultipartReader, boundary_of

# What CouchDB 3.5 answered to GET /db/a?open_revs=[...]&revs=true&attachments=true (Accept: multipart/mixed),
# with its JSON shortened: a related part (the document, then two attachments) and a missing rev.
OUTER, INNER = "c0572c9f8b6498635812ce35b46e8c3c", "aab33b73857237cd32cd87cbfc43a7ef"
JSON = b'{"_id":"a","_rev":"3-x","_attachments":{"g.bin":{"follows":true,"length":4}}}'
GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03+\xcf/\xcaI\x01\x00C\x11w:\x05\x00\x00\x00"
ANSWER = (
    f'--{OUTER}\r\nContent-Type: multipart/related; boundary="{INNER}"\r\n\r\n'
    f"--{INNER}\r\nContent-Type: application/json\r\n\r\n".encode()
    + JSON
    + f'\r\n--{INNER}\r\nContent-Disposition: attachment; filename="g.bin"\r\n'
    f"Content-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n".encode()
    + b"\x00\r\n\x01"
    + f'\r\n--{INNER}\r\nContent-Disposition: attachment; filename="f.txt"\r\nContent-Type: text/plain\r\n'
    f"Content-Length: {len(GZIP)}\r\nContent-Encoding: gzip\r\n\r\n".encode()
    + GZIP
    + f'\r\n--{INNER}--\r\n--{OUTER}\r\nContent-Type: application/json; error="true"\r\n\r\n'.encode()
    + b'{"missing":"9-zzz"}'
    + f"\r\n--{OUTER}--".encode()
)


def parts(events):
    """Events merged into parts: [(headers, body)], and whether the closing delimiter came."""
    found, done = [], False
    for kind, value in events:
        if kind == "headers":
            found.append((value, b""))
        elif kind == "data":
            headers, body = found[-1]
            found[-1] = (headers, body + value)
        elif kind == "done":
            done = True
    return found, done


def read(body: bytes, boundary: str, cuts: list[int]) -> list:
    reader = MultipartReader(boundary)
    events, last = [], 0
    for cut in [*cuts, len(body)]:
        events.extend(reader.feed(body[last:cut]))
        last = cut
    reader.close()
    return events


def test_the_outer_answer_has_a_related_part_and_a_missing_rev():
    found, done = parts(read(ANSWER, OUTER, []))
    assert done
    assert [headers["content-type"] for headers, _ in found] == [
        f'multipart/related; boundary="{INNER}"',
        'application/json; error="true"',
    ]
    assert found[1][1] == b'{"missing":"9-zzz"}'


def test_the_related_part_holds_the_document_then_each_attachment():
    outer, _ = parts(read(ANSWER, OUTER, []))
    inner, done = parts(read(outer[0][1], INNER, []))
    assert done
    assert [body for _, body in inner] == [JSON, b"\x00\r\n\x01", GZIP]
    assert inner[2][0]["content-encoding"] == "gzip"
    assert inner[1][0]["content-disposition"] == 'attachment; filename="g.bin"'


@pytest.mark.parametrize("cut", range(1, len(ANSWER), 7))
def test_the_same_parts_wherever_the_body_is_cut(cut):
    assert parts(read(ANSWER, OUTER, [cut])) == parts(read(ANSWER, OUTER, []))


def test_the_same_parts_read_a_byte_at_a_time():
    assert parts(read(ANSWER, OUTER, list(range(1, len(ANSWER))))) == parts(read(ANSWER, OUTER, []))


def test_a_body_is_handed_on_as_it_arrives_keeping_only_a_delimiter_back():
    reader = MultipartReader("b")
    events = reader.feed(b"--b\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 1000)
    data = b"".join(value for kind, value in events if kind == "data")
    assert len(data) >= 1000 - len("\r\n--b")


def test_a_preamble_an_epilogue_and_a_part_without_headers():
    found, done = parts(read(b"ignored\r\n--b\r\n\r\nbare\r\n--b--\r\nepilogue", "b", []))
    assert done and found == [({}, b"bare")]


def test_a_body_cut_before_its_closing_delimiter_is_truncated():
    reader = MultipartReader(OUTER)
    reader.feed(ANSWER[:-10])
    with pytest.raises(TruncatedBody):
        reader.close()


def test_endless_part_headers_are_a_protocol_error():
    reader = MultipartReader("b")
    with pytest.raises(ProtocolError):
        reader.feed(b"--b\r\n" + b"X-Long: " + b"y" * 70_000)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ('multipart/mixed; boundary="abc"', "abc"),
        ("multipart/related; boundary=abc; charset=x", "abc"),
        ("multipart/mixed; BOUNDARY=abc", "abc"),
        ("application/json", None),
        (None, None),
    ],
)
def test_the_boundary_of_a_content_type(content_type, boundary):
    assert boundary_of(content_type) == boundary
