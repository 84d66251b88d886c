"""Uploads and downloads over REST (PROTOCOL.md section 11), on SQLite and on PostgreSQL.

One server per module and database (tests/edge/rest/test_topics_rest.py ``Names``): each test has
its own users and bytes of its own where it counts blobs. The PostgreSQL variant runs the tests
marked ``both_databases`` (a file's row and its shared blob).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PIL import Image

from db.models import File
from tests.chat.files.test_images import GPS_IFD, bomb_png, jpeg_with_exif
from tests.files_support import (
    blobs,
    leftovers,
    multipart,
    peak_memory,
    png,
    reset_peak_memory,
    upload,
    uploaded,
)
from tests.shared_server import Names, databases_of, shared_server
from tests.support import LiveServer, bearer, count

pytestmark = pytest.mark.asyncio(loop_scope="module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    databases_of(metafunc, "live_server")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_server(tmp_path_factory, request) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The module's server (these tests open no socket)."""
    async with shared_server(tmp_path_factory, request.param) as shared:
        yield shared


@pytest.fixture
def names() -> Names:
    return Names()


@pytest.mark.both_databases
async def test_an_upload_answers_a_file_object_with_the_sniffed_type(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    data = png(640, 480)
    response = await upload(live_server, token, data, "shot.txt", claimed="text/plain")
    assert response.status_code == 201, response.text
    found = response.json()
    assert set(found) == {"id", "name", "size", "content_type", "sha256", "url", "image"}
    assert len(found["id"]) == 32
    assert found["name"] == "shot.txt"
    assert found["size"] == len(data)
    assert found["content_type"] == "image/png"  # the bytes, not the claim
    assert found["sha256"] == hashlib.sha256(data).hexdigest()
    assert found["url"] == f"/api/files/{found['id']}"
    assert found["image"] == {"width": 640, "height": 480, "thumbnail_url": f"{found['url']}/thumbnail"}
    assert leftovers(live_server) == []


async def test_bytes_nobody_can_identify_are_an_octet_stream_served_as_an_attachment(
    live_server: LiveServer,
    names: Names,
) -> None:
    token = await live_server.register(names.alice)
    html = b"\x00\x9f<html><body><script>alert(1)</script></body></html>"  # binary, named .html
    found = await uploaded(live_server, token, html, "page.html")
    assert found["content_type"] == "application/octet-stream"
    assert found["image"] is None
    response = await live_server.http.get(found["url"], headers=bearer(token))
    assert response.status_code == 200
    assert response.content == html
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''page.html"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["etag"] == f'"{found["sha256"]}"'
    assert response.headers["cache-control"].startswith("private")


async def test_an_svg_is_never_inline(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    found = await uploaded(live_server, token, svg, "x.svg")
    response = await live_server.http.get(found["url"], headers=bearer(token))
    assert response.headers["content-disposition"].startswith("attachment")


async def test_images_are_inline_with_a_thumbnail(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    found = await uploaded(live_server, token, png(1000, 500), "big.png")
    response = await live_server.http.get(found["url"], headers=bearer(token))
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["content-type"] == "image/png"
    thumb = await live_server.http.get(found["image"]["thumbnail_url"], headers=bearer(token))
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.size == (320, 160)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("in\u202eoice\u202cfdp.exe", "inoicefdp.exe"),
        ("tab\tand\x07bell.txt", "tabandbell.txt"),
        ("", "file"),
        ("/", "file"),
        ("x" * 300 + ".txt", "x" * 255),
        ("ünïcödé 文件.txt", "ünïcödé 文件.txt"),
    ],
)
async def test_names_lose_paths_and_control_characters(
    live_server: LiveServer, names: Names, given: str, kept: str
):
    token = await live_server.register(names.alice)
    body, headers = multipart(given, b"hello")
    response = await live_server.http.post("/api/files", content=body, headers={**headers, **bearer(token)})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == kept


@pytest.mark.both_databases
async def test_two_uploads_of_the_same_bytes_share_one_blob(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    other = await live_server.register(names.bob)
    same = f"same bytes of {names.alice}".encode()  # no other test's blob
    stored, files = blobs(live_server), await count(live_server, File)
    first = await uploaded(live_server, token, same, "one.txt")
    second = await uploaded(live_server, other, same, "two.txt")
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"]
    assert [path.name for path in blobs(live_server) if path not in stored] == [first["sha256"]]
    assert await count(live_server, File) == files + 2


async def test_no_file_field_or_an_empty_file_is_invalid_and_nothing_is_kept(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    stored, files = blobs(live_server), await count(live_server, File)
    empty = await upload(live_server, token, b"", "empty.txt")
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "invalid"
    other = await live_server.http.post(
        "/api/files", files={"attachment": ("a.txt", b"hi", "text/plain")}, headers=bearer(token)
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "invalid"
    not_multipart = await live_server.http.post("/api/files", content=b"raw", headers=bearer(token))
    assert not_multipart.json()["error"]["code"] == "invalid"
    assert await count(live_server, File) == files
    assert blobs(live_server) == stored
    assert leftovers(live_server) == []


async def test_uploads_and_downloads_need_a_token(live_server: LiveServer, names: Names) -> None:
    response = await live_server.http.post("/api/files", files={"file": ("a.txt", b"hi", "text/plain")})
    assert response.status_code == 401
    token = await live_server.register(names.alice)
    found = await uploaded(live_server, token, b"hi")
    assert (await live_server.http.get(found["url"])).status_code == 401


async def test_limits_says_the_largest_file(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    response = await live_server.http.get("/api/files/limits", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"max_bytes": 10 * 1024 * 1024}


async def test_etag_answers_304_and_range_206(live_server: LiveServer, names: Names) -> None:
    token = await live_server.register(names.alice)
    data = bytes(range(256)) * 40
    found = await uploaded(live_server, token, data, "d.bin")
    headers = bearer(token)
    etag = f'"{found["sha256"]}"'
    again = await live_server.http.get(found["url"], headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    part = await live_server.http.get(found["url"], headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"


async def test_the_thumbnail_of_a_plain_file_and_an_unknown_id_are_404(
    live_server: LiveServer, names: Names
) -> None:
    token = await live_server.register(names.alice)
    found = await uploaded(live_server, token, b"plain")
    thumb = await live_server.http.get(f"{found['url']}/thumbnail", headers=bearer(token))
    assert thumb.status_code == 404
    missing = await live_server.http.get("/api/files/" + "0" * 32, headers=bearer(token))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_a_decompression_bomb_is_stored_as_a_plain_png_without_a_thumbnail(
    live_server: LiveServer, names: Names
):
    token = await live_server.register(names.alice)
    body, headers = multipart("bomb.png", bomb_png())  # built before measuring
    before = reset_peak_memory()
    response = await live_server.http.post("/api/files", content=body, headers={**headers, **bearer(token)})
    assert peak_memory() - before < 16 * 1024 * 1024  # 100,000 x 100,000 pixels were never allocated
    found = response.json()
    assert found["content_type"] == "image/png"
    assert found["image"] is None
    thumb = await live_server.http.get(f"{found['url']}/thumbnail", headers=bearer(token))
    assert thumb.status_code == 404


async def test_a_served_thumbnail_carries_no_gps(live_server: LiveServer, names: Names, tmp_path) -> None:
    token = await live_server.register(names.alice)
    photo = tmp_path / "photo.jpg"
    jpeg_with_exif(photo)
    found = await uploaded(live_server, token, photo.read_bytes(), "photo.jpg")
    assert found["content_type"] == "image/jpeg"
    assert (found["image"]["width"], found["image"]["height"]) == (600, 800)
    thumb = await live_server.http.get(found["image"]["thumbnail_url"], headers=bearer(token))
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["content-disposition"] == "inline"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.width <= 320
        assert not image.getexif().get_ifd(GPS_IFD)
