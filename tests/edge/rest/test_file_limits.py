"""Upload limits (PROTOCOL.md section 11): the size limit enforced while the body streams in (413
as soon as it is passed, the rest never read), the per-user quota and upload rate, on SQLite and
PostgreSQL; nothing is kept of a refused upload."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from db.models import File
from tests.files_support import (
    BOUNDARY,
    blobs,
    leftovers,
    multipart,
    peak_memory,
    reset_peak_memory,
    upload,
    uploaded,
)
from tests.support import LiveServer, bearer, count
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
MiB = 1024 * 1024
LIMIT = 10 * MiB  # the default PARLEY_MAX_FILE_BYTES


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", **getattr(request, "param", {}))


def with_settings(**overrides: object) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("settings", [overrides], indirect=True, ids=["settings"])


async def nothing_kept(server: LiveServer) -> None:
    assert await count(server, File) == 0
    assert blobs(server) == []
    assert leftovers(server) == []


async def test_a_file_of_exactly_the_limit_is_stored(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    found = await uploaded(live_server, token, b"\x00" * LIMIT, "max.bin")
    assert found["size"] == LIMIT


async def test_one_byte_over_is_413_and_nothing_is_kept(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    response = await upload(live_server, token, b"\x00" * (LIMIT + 1), "over.bin")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    await nothing_kept(live_server)


async def test_a_declared_length_over_the_limit_is_refused_before_any_byte_is_read(live_server: LiveServer):
    token = await live_server.register("alice")
    reader, writer = await open_raw(live_server)
    writer.write(
        (
            "POST /api/files HTTP/1.1\r\nHost: test\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {50 * MiB}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    assert status.startswith(b"HTTP/1.1 413"), status
    writer.close()
    await nothing_kept(live_server)


async def test_a_chunked_upload_is_cut_off_once_it_passes_the_limit(live_server: LiveServer) -> None:
    """A 50 MiB chunked body: the server answers 413 after about the limit and reads no further
    (what this client managed to write is bounded by the limit plus the sockets' buffers)."""
    token = await live_server.register("alice")
    reader, writer = await open_raw(live_server)
    writer.write(
        (
            "POST /api/files HTTP/1.1\r\nHost: test\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
    )
    before = reset_peak_memory()
    head, _ = multipart("big.bin", b"")
    head = head[: head.index(b"\r\n\r\n") + 4]
    chunk = b"\x00" * (64 * 1024)
    sent = 0
    answer = asyncio.ensure_future(reader.readline())
    with contextlib.suppress(ConnectionError):
        writer.write(b"%x\r\n%s\r\n" % (len(head), head))
        while sent < 50 * MiB and not answer.done():
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            await asyncio.wait_for(writer.drain(), 10)
    status = await asyncio.wait_for(answer, 10)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert sent < LIMIT + 8 * MiB, sent  # not the 50 MiB offered
    assert peak_memory() - before < 4 * MiB  # streamed to disk, never held: well under the 10 MiB
    writer.close()
    await nothing_kept(live_server)


async def open_raw(server: LiveServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(server.url)
    return await asyncio.open_connection(url.hostname, url.port)


@with_settings(file_quota_bytes=1000)
async def test_the_quota_counts_every_file_of_the_user(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    await uploaded(live_server, token, b"a" * 600, "first.bin")
    response = await upload(live_server, token, b"b" * 500, "second.bin")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "quota" in error["message"]
    assert await count(live_server, File) == 1
    assert len(blobs(live_server)) == 1
    assert leftovers(live_server) == []
    other = await live_server.register("bob")
    await uploaded(live_server, other, b"b" * 500, "bobs.bin")  # a quota per user


@with_settings(file_uploads_per_minute=2)
async def test_uploads_are_rate_limited_per_user(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    for n in range(2):
        await uploaded(live_server, token, f"file {n}".encode())
    response = await upload(live_server, token, b"one too many")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1
    other = await live_server.register("bob")
    await uploaded(live_server, other, b"bob's first")


async def test_limits_need_no_upload_to_read(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    response = await live_server.http.get("/api/files/limits", headers=bearer(token))
    assert response.json() == {"max_bytes": LIMIT}
