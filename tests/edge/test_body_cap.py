"""Every REST and gateway HTTP body is capped before it is read (PROTOCOL.md section 2): over real
uvicorn, with raw sockets where the framing matters (a declared length never sent, a chunked body)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.support import PASSWORD, WAIT, LiveServer, running
from tests.support import test_settings as settings_for

LIMIT = 64 * 1024
ROUTES = ["/api/users", "/api/auth/login", "/compat/echo/register", "/compat/echo/login"]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(settings_for(tmp_path / "data", max_body_bytes=LIMIT)) as live:
        yield live


def address(live: LiveServer) -> tuple[str, int]:
    parts = urlsplit(live.url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """What the server sent until it closed the connection (a reset counts as closed)."""
    chunks = []
    try:
        while chunk := await reader.read(65536):
            chunks.append(chunk)
    except ConnectionError:
        pass
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[int, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, orjson.loads(body) if body else None


def too_large_body(path: str) -> dict[str, object]:
    """The 413 body each transport answers (its own error shape)."""
    message = f"the request body is over {LIMIT} bytes"
    if path.startswith("/compat/echo"):
        return {"detail": message}
    return {"error": {"code": "too_large", "message": message}}


@pytest.mark.parametrize("path", ROUTES)
async def test_a_declared_length_over_the_cap_is_refused_before_any_body(
    server: LiveServer, path: str
) -> None:
    reader, writer = await asyncio.open_connection(*address(server))
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
    )
    try:
        writer.write(head.encode())  # not one byte of the body: the answer must not wait for it
        await writer.drain()
        answer = await asyncio.wait_for(read_all(reader), WAIT)
    finally:
        writer.close()
    assert status_and_body(answer) == (413, too_large_body(path))


def _peak_reset() -> bool:
    """Reset this process's peak RSS (VmHWM), where the kernel allows it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _kib(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert found
    return int(found.group(1))


@pytest.mark.parametrize("path", ["/api/users", "/compat/echo/login"])
async def test_a_chunked_body_over_the_cap_is_cut_without_the_server_holding_it(
    server: LiveServer, path: str
) -> None:
    """64 MiB sent chunked: the answer is 413 and the server (this process) never grows by the body."""
    if not _peak_reset():
        pytest.skip("this kernel does not let a process reset its peak RSS")
    before = _kib("VmRSS")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    received, sent = await send_raw(server, head, [chunk] * 1024)  # 64 MiB unless the server hangs up
    grown = _kib("VmHWM") - before
    assert status_and_body(received) == (413, too_large_body(path))
    assert sent < 1024, "the server read the whole 64 MiB body"
    assert grown < 16 * 1024, f"the server grew by {grown} KiB for a body it should not have held"


async def send_raw(live: LiveServer, head: str, chunks: list[bytes]) -> tuple[bytes, int]:
    """Write the request (reading the answer meanwhile: the server may answer and hang up before the
    body is through); the answer, and how many chunks were written before the server hung up."""
    reader, writer = await asyncio.open_connection(*address(live))
    writer.write(head.encode())
    answer = asyncio.create_task(read_all(reader))
    sent = 0
    try:
        for chunk in chunks:
            if answer.done():
                break
            writer.write(chunk)
            await writer.drain()
            sent += 1
    except ConnectionError:
        pass
    try:
        received = await asyncio.wait_for(answer, WAIT)
    finally:
        writer.close()
    return received, sent


MULTIPART = 'Content-Disposition: form-data; name="password"'


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_multipart_body_over_the_cap_is_refused(server: LiveServer, chunked: bool) -> None:
    body = f"--b\r\n{MULTIPART}\r\n\r\n{'x' * (4 * LIMIT)}\r\n--b--\r\n".encode()
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    if chunked:
        pieces = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces] + [b"0\r\n\r\n"]
    head = (
        "POST /compat/echo/login HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\n{framing}\r\n\r\n"
    )
    answer, _sent = await send_raw(server, head, pieces)
    assert status_and_body(answer) == (413, too_large_body("/compat/echo/login"))


def _padded(size: int) -> bytes:
    """A sign-up body of exactly ``size`` bytes (JSON padded with spaces)."""
    body = orjson.dumps({"username": "edge", "password": PASSWORD})
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def test_a_body_exactly_at_the_cap_is_served(server: LiveServer) -> None:
    body = _padded(LIMIT)
    assert len(body) == LIMIT
    headers = {"Content-Type": "application/json"}
    response = await server.http.post("/api/users", content=body, headers=headers)
    assert response.status_code == 201, response.text

    async def chunked() -> AsyncIterator[bytes]:
        login = orjson.dumps({"username": "edge", "password": PASSWORD})
        padded = login[:-1] + b" " * (LIMIT - len(login)) + b"}"
        yield padded[: LIMIT // 2]
        yield padded[LIMIT // 2 :]

    response = await server.http.post("/api/auth/login", content=chunked(), headers=headers)
    assert response.status_code == 200, response.text
    over = await server.http.post("/api/users", content=_padded(LIMIT + 1), headers=headers)
    assert over.status_code == 413
    assert over.json() == too_large_body("/api/users")


async def test_the_default_cap_is_one_mebibyte(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path / "data")) as live:
        async with httpx.AsyncClient(base_url=live.url, timeout=WAIT) as http:
            headers = {"Content-Type": "application/json"}
            at = await http.post("/api/users", content=_padded(1024 * 1024), headers=headers)
            over = await http.post("/api/users", content=_padded(1024 * 1024 + 1), headers=headers)
    assert at.status_code == 201, at.text
    assert over.status_code == 413
