"""A push service of the tests' own (RFC 8030's receiving end): an aiohttp server on 127.0.0.1,
port 0, that receives Web Push messages as a browser vendor's service would, and decrypts them.

Each subscription is a ``Browser``: the browser-side keys the test makes itself (an ECDH P-256
key pair and 16 random auth bytes), at its own path of the service. A push is decrypted with the
browser's private key (``http_ece``: an implementation independent of the server's), its VAPID
``Authorization`` checked (RFC 8292: the ES256 JWT verified with the server's public key from
``GET /api/push/key``, ``aud`` this service's origin, ``exp`` at most 24 h ahead, ``k`` that
key), and its headers recorded. A push that fails a check is answered 400 and recorded with the
reason. Answers come from a script (statuses used in turn, e.g. 429 then 500), then ``default``
(201); ``HANG`` holds a request unanswered until the service closes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import http_ece
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

WAIT = 15.0
HANG = 0  # a scripted "status" that never answers


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's side of one subscription: the keys it would give ``PushManager.subscribe``."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    @property
    def subscription(self) -> dict[str, Any]:
        """The ``PushSubscription`` JSON a page posts."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> Any:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


@dataclass(frozen=True)
class Push:
    """One request the service received and what it made of it."""

    path: str
    headers: dict[str, str]
    status: int  # what it answered (HANG: none)
    payload: Any = None  # the decrypted JSON
    claims: Any = None  # the verified VAPID JWT's claims
    problem: str | None = None  # why it was refused (answered 400)


class PushService:
    def __init__(self) -> None:
        self.origin = ""
        self.public_key: str | None = None  # the server's VAPID key (``GET /api/push/key``)
        self.browsers: dict[str, Browser] = {}
        self.script: list[int] = []
        self.default = 201
        self.received: list[Push] = []
        self._arrived: asyncio.Queue[Push] = asyncio.Queue()
        self._closing = asyncio.Event()

    def browser(self, name: str) -> Browser:
        """A new subscription's browser, at ``/push/<name>``."""
        browser = Browser(f"{self.origin}/push/{name}")
        self.browsers[f"/push/{name}"] = browser
        return browser

    @property
    def accepted(self) -> list[Push]:
        return [push for push in self.received if 200 <= push.status < 300]

    async def next(self, timeout: float = WAIT) -> Push:
        return await asyncio.wait_for(self._arrived.get(), timeout)

    async def next_accepted(self, timeout: float = WAIT) -> Push:
        """The next push answered 2xx (others that arrive first are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                push = await self._arrived.get()
                if 200 <= push.status < 300:
                    return push

    def _check(self, request: web.Request, body: bytes) -> tuple[Any, Any]:
        browser = self.browsers.get(request.path)
        if browser is None:
            raise ValueError("no such subscription")
        for name, value in (
            ("TTL", "86400"),
            ("Urgency", "high"),
            ("Content-Encoding", "aes128gcm"),
            ("Content-Type", "application/octet-stream"),
        ):
            if request.headers.get(name) != value:
                raise ValueError(f"{name}: {request.headers.get(name)!r}")
        scheme, _, params = request.headers.get("Authorization", "").partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        if scheme != "vapid" or fields.get("k") != self.public_key or self.public_key is None:
            raise ValueError("the Authorization is not VAPID with the server's key")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(self.public_key))
        claims = jwt.decode(fields["t"], key, algorithms=["ES256"], audience=self.origin)
        if not time.time() < claims["exp"] <= time.time() + 24 * 3600 or not claims.get("sub"):
            raise ValueError(f"bad claims {claims}")
        return browser.decrypt(body), claims

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        status = self.script.pop(0) if self.script else self.default
        try:
            payload, claims = self._check(request, body)
        except Exception as exc:
            push = Push(request.path, dict(request.headers), 400, problem=f"{type(exc).__name__}: {exc}")
        else:
            push = Push(request.path, dict(request.headers), status, payload, claims)
        self.received.append(push)
        await self._arrived.put(push)
        if push.status == HANG:
            await self._closing.wait()
        return web.Response(status=push.status or 503)


@asynccontextmanager
async def push_service(port: int = 0) -> AsyncIterator[PushService]:
    service = PushService()
    app = web.Application()
    app.router.add_route("POST", "/push/{name}", service._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    service.origin = f"http://127.0.0.1:{bound}"
    try:
        yield service
    finally:
        service._closing.set()
        await runner.cleanup()
