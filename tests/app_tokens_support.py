"""An application that signs its users' tokens, for the tests (PROTOCOL.md section 17): its key
pairs (``Signer``: pyjwt, as an application would sign) and its web site serving the public keys
(``Site``, aiohttp on 127.0.0.1, counting how often the key set is read).

The fixture ``app_site`` is registered by tests/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class Signer:
    """An application's key pair: its public JWK (with ``kid``) and tokens signed with it."""

    def __init__(self, kid: str, algorithm: str = "RS256") -> None:
        self.kid, self.algorithm = kid, algorithm
        if algorithm == "RS256":
            self.private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwk["kid"] = kid

    def sign(self, payload: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(payload, self.private, algorithm=self.algorithm, headers={"kid": kid or self.kid})

    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


class Site:
    """The application's web site: ``published`` is the key set it serves now; ``reads`` counts."""

    def __init__(self) -> None:
        self.url = ""
        self.published: list[dict[str, Any]] = []
        self.reads = 0
        self.down = False  # answers 503 while set

    async def jwks(self, _request: web.Request) -> web.Response:
        self.reads += 1
        if self.down:
            return web.Response(status=503)
        return web.json_response({"keys": self.published})


@pytest.fixture
async def app_site() -> AsyncIterator[Site]:
    found = Site()
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", found.jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/.well-known/jwks.json"
    try:
        yield found
    finally:
        await runner.cleanup()
