"""Text files over REST (PROTOCOL.md section 11): ``content_type`` is what the bytes are, text too.

Each case goes through the real upload and the real download: the File object's ``content_type``
and the download's ``Content-Type`` (text with its charset) and ``Content-Disposition`` (never
inline but for the four image types, so HTML and SVG never run in our origin)."""

from __future__ import annotations

import json

import pytest

from server.chat.files.text_types import JSON_PARSE_MAX
from tests.files_support import png, uploaded
from tests.support import LiveServer, bearer

PLAIN = "text/plain; charset=utf-8"
CSV = "text/csv; charset=utf-8"
MARKDOWN = "text/markdown; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
SVG = "image/svg+xml"
OCTETS = "application/octet-stream"
BOM = b"\xef\xbb\xbf"

CASES = [
    ("notes.txt", "Grüße, 世界!\nsecond line\n".encode(), PLAIN),
    ("table.csv", b"name,age\nalice,30\nbob,25\n", CSV),
    ("data.json", b'{"a": [1, 2, {"b": null}], "c": "\xc3\xa9"}', JSON),
    ("readme.md", b"# Title\n\nSome *markdown* text.\n", MARKDOWN),
    ("page.html", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", HTML),
    ("fragment.txt", b"  <html><head><title>x</title></head></html>", HTML),  # markup, not name
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', SVG),
    (
        "drawing.txt",
        b'<?xml version="1.0"?>\n<!-- made by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        SVG,
    ),
    ("broken.json", b'{"a": 1,', PLAIN),  # JSON by parsing: invalid JSON is plain text
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, PLAIN),  # past the parser's depth: not JSON
    ("array.data", b"[1, 2, 3]\n", JSON),  # JSON by parsing, whatever the name
    ("number.txt", b"42\n", PLAIN),  # a bare scalar is text (only objects and arrays are JSON)
    ("table.txt", b"name,age\nalice,30\n", PLAIN),  # CSV only by its extension
    ("bom.txt", BOM + "with a byte order mark: é\n".encode(), PLAIN),
    ("bom.json", BOM + b'{"ok": true}', JSON),
    ("latin1.txt", "caf\xe9 cr\xe8me\n".encode("latin-1"), OCTETS),  # not UTF-8: not text
    ("binary.txt", b"\x00\x01\x02\x03binary\x00data" * 10, OCTETS),  # a name does not make text
    ("control.txt", b"almost text\x07 with a bell", OCTETS),
]


@pytest.mark.parametrize(("name", "data", "expected"), CASES, ids=[case[0] for case in CASES])
async def test_text_is_told_by_its_bytes_and_served_with_its_charset(
    live_server: LiveServer, name: str, data: bytes, expected: str
) -> None:
    token = await live_server.register("alice")
    found = await uploaded(live_server, token, data, name)
    assert found["content_type"] == expected
    response = await live_server.http.get(found["url"], headers=bearer(token))
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == expected
    assert response.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_png_named_txt_is_still_a_png(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    found = await uploaded(live_server, token, png(20, 10), "shot.txt")
    assert found["content_type"] == "image/png"


async def test_a_multibyte_character_cut_by_the_sniffed_prefix_is_still_text(live_server: LiveServer) -> None:
    """The prefix ends inside a character: that is not a decoding error."""
    token = await live_server.register("alice")
    data = ("é" * 20000).encode()  # 40,000 bytes; every prefix of odd length cuts a character
    found = await uploaded(live_server, token, b"x" + data, "accents.txt")
    assert found["content_type"] == PLAIN


async def test_a_large_text_file_is_told_by_its_prefix(live_server: LiveServer) -> None:
    """9 MiB of text: detected from a bounded prefix (binary past it does not change the verdict)."""
    token = await live_server.register("alice")
    data = b"line of text\n" * (9 * 1024 * 1024 // 13) + b"\x00\x00"
    found = await uploaded(live_server, token, data, "big.log")
    assert found["size"] == len(data)
    assert found["content_type"] == PLAIN


async def test_json_is_parsed_up_to_a_bound_and_larger_json_is_plain_text(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    small = json.dumps({"items": ["x" * 100] * ((JSON_PARSE_MAX - 1000) // 104)}).encode()
    assert len(small) <= JSON_PARSE_MAX
    assert (await uploaded(live_server, token, small, "small.json"))["content_type"] == JSON
    large = json.dumps({"items": ["x" * 100] * (JSON_PARSE_MAX // 100)}).encode()
    assert len(large) > JSON_PARSE_MAX
    assert (await uploaded(live_server, token, large, "large.json"))["content_type"] == PLAIN
