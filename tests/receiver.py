"""A real webhook receiver for the tests: an aiohttp server on 127.0.0.1, port 0.

It records every request (headers and raw body) in arrival order, verifies nothing itself (the
tests check the signature with the secret they registered), and answers from a script: a list of
``Reply`` values used in turn, then ``default`` for every later request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

WAIT = 10.0


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # answer only when the receiver closes (a receiver that never answers)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def data(self) -> Any:
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Parley-Signature", ""), expected)


class Receiver:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default = Reply()
        self.received: list[Received] = []
        self._arrived: asyncio.Queue[Received] = asyncio.Queue()
        self.url = ""
        self.release = asyncio.Event()  # set at the end: hanging requests get their answer

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = Received(request.path, dict(request.headers), await request.read())
        self.received.append(received)
        await self._arrived.put(received)
        reply = self.script.pop(0) if self.script else self.default
        if reply.hang:
            await self.release.wait()
        if reply.json is None:
            return web.Response(status=reply.status, headers=reply.headers)
        return web.json_response(reply.json, status=reply.status, headers=reply.headers)

    async def next(self, timeout: float = WAIT) -> Received:
        return await asyncio.wait_for(self._arrived.get(), timeout)

    async def next_of(self, event: str, timeout: float = WAIT) -> Received:
        """The next request of that event (others that arrive first are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                received = await self._arrived.get()
                if received.headers.get("X-Parley-Event") == event:
                    return received


@asynccontextmanager
async def receiving(port: int = 0) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{bound}/hook"
    try:
        yield receiver
    finally:
        receiver.release.set()
        await runner.cleanup()
