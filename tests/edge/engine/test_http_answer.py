"""``http_answer.answer``: a whole answer in one write, byte for byte what uvicorn writes for the
same two ASGI messages, and the connection left as uvicorn leaves it (keep-alive, pipelining,
``Connection: close``). A real uvicorn with httptools on port 0 and a raw socket client."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from server.edge.engine.http_answer import answer
from tests.support import WAIT, listening

BODY = b'{"id":7,"topic":"general"}'
HEADERS = [(b"content-length", str(len(BODY)).encode()), (b"content-type", b"application/json")]


class App:
    """``/one`` answers through ``answer``; ``/two`` sends the same two ASGI messages itself."""

    def __init__(self) -> None:
        self.in_one_piece: list[bool] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        if scope["path"] == "/one":
            self.in_one_piece.append(await answer(send, 201, HEADERS, BODY))
        else:
            await send({"type": "http.response.start", "status": 201, "headers": HEADERS})
            await send({"type": "http.response.body", "body": BODY})


@asynccontextmanager
async def served(app: App) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, http="httptools", log_level="warning", lifespan="on")
    async with listening(config, sock):
        yield port


async def exchange(port: int, requests: bytes, answers: int) -> bytes:
    """Send ``requests`` on one connection and read until ``answers`` bodies have come."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(requests)
        got = b""
        async with asyncio.timeout(WAIT):
            while got.count(BODY) < answers:
                chunk = await reader.read(65536)
                assert chunk, got
                got += chunk
        return got
    finally:
        writer.close()


def request(path: str, extra: str = "", method: str = "POST") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n{extra}\r\n".encode()


def undated(raw: bytes) -> bytes:
    return re.sub(rb"date: [^\r]*\r\n", b"date: -\r\n", raw)


async def test_the_answer_is_exactly_what_uvicorn_writes_for_the_two_messages() -> None:
    app = App()
    async with served(app) as port:
        one = await exchange(port, request("/one"), 1)
        two = await exchange(port, request("/two"), 1)
    assert app.in_one_piece == [True]
    assert undated(one) == undated(two)
    assert one.startswith(b"HTTP/1.1 201 Created\r\n") and one.endswith(b"\r\n\r\n" + BODY)


async def test_the_connection_is_kept_alive_and_pipelined_requests_are_answered_in_order() -> None:
    app = App()
    async with served(app) as port:
        got = await exchange(port, request("/one") + request("/two") + request("/one"), 3)
    assert app.in_one_piece == [True, True]
    assert got.count(b"HTTP/1.1 201 Created\r\n") == 3


async def test_a_request_that_asks_to_close_is_answered_then_closed_as_uvicorn_does() -> None:
    app = App()
    async with served(app) as port:
        one = await exchange(port, request("/one", "connection: close\r\n"), 1)
        two = await exchange(port, request("/two", "connection: close\r\n"), 1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/one", "connection: close\r\n"))
        async with asyncio.timeout(WAIT):
            whole = await reader.read()  # to the end: the server closed the connection
        writer.close()
    assert undated(one) == undated(two) and b"connection: close\r\n" in one
    assert whole.endswith(BODY)


async def test_a_head_request_is_left_to_uvicorn() -> None:
    app = App()
    async with served(app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("/one", method="HEAD"))
        async with asyncio.timeout(WAIT):
            head = await reader.readuntil(b"\r\n\r\n")
        writer.close()
    assert app.in_one_piece == [False]
    assert head.startswith(b"HTTP/1.1 201 Created\r\n")
