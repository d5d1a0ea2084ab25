"""multipart/related read as it arrives, cut anywhere (the core's reader, as the store reads a PUT)."""

from hypothesis import given, strategies as st

from wallaby.backends.couchdb._core.multipart import MultipartReader, boundary_of

BODY = (
    b'preamble\r\n--xyz\r\nContent-Type: application/json\r\n\r\n{"a": 1}\r\n'
    b'--xyz\r\nContent-Disposition: attachment; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\n'
    b"line one\r\n--xy not the end\r\n"
    b"\r\n--xyz--\r\nepilogue"
)


def parts(chunks):
    reader = MultipartReader("xyz")
    found = []
    for chunk in chunks:
        for event, value in reader.feed(chunk):
            if event == "headers":
                found.append([value, b""])
            elif event == "data":
                found[-1][1] += value
    assert reader.done
    return found


def test_parts_and_their_headers():
    found = parts([BODY])
    assert found[0] == [{"content-type": "application/json"}, b'{"a": 1}']
    assert found[1][0]["content-disposition"] == 'attachment; filename="f.txt"'
    assert found[1][1] == b"line one\r\n--xy not the end\r\n"


@given(st.lists(st.integers(0, len(BODY)), max_size=12))
def test_the_same_parts_however_the_body_is_cut(cuts):
    points = sorted(set(cuts))
    chunks = [BODY[a:b] for a, b in zip([0, *points], [*points, len(BODY)], strict=True)]
    assert parts(chunks) == parts([BODY])


def test_boundary_of_a_content_type():
    assert boundary_of('multipart/related; boundary="abc def"') == "abc def"
    assert boundary_of("multipart/related;boundary=abc") == "abc"
    assert boundary_of("multipart/related") is None
