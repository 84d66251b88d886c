"""The ID token's checks (server/adapters/id_token.py) with tokens the test signs itself.

The provider's discovery document and key set are served by a real local HTTP server (aiohttp on
127.0.0.1), fetched by the adapter through its address guard, so the key cache and its one
refetch for an unknown ``kid`` are the production ones. Each attack is refused with
``IdentityRefused``: another audience, an expired token, a token signed with another key,
``alg: none``, an HMAC token, a wrong nonce or issuer, a key never published even after a refetch.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from server.adapters.id_token import check_id_token
from server.adapters.oidc import OidcProvider
from server.adapters.webhook_http import AddressGuard
from server.chat.accounts.identities import IdentityRefused

CLIENT = "parley"
NONCE = "the nonce of this sign-in"
ALGORITHMS = ["RS256", "ES256"]


class Site:
    """The provider's documents; ``published`` is the key set it serves now."""

    def __init__(self) -> None:
        self.url = ""
        self.published: list[dict[str, Any]] = []
        self.big = False

    async def document(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/auth",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "id_token_signing_alg_values_supported": ALGORITHMS,
            }
        )

    async def jwks(self, _request: web.Request) -> web.Response:
        if self.big:  # over the adapter's 1 MiB cap
            return web.Response(body=b" " * (2 * 1024 * 1024), content_type="application/json")
        return web.json_response({"keys": self.published})


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    found = Site()
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", found.document)
    app.router.add_get("/jwks", found.jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = runner.addresses[0][1]
    found.url = f"http://127.0.0.1:{port}"
    try:
        yield found
    finally:
        await runner.cleanup()


@pytest.fixture
async def provider(site: Site) -> AsyncIterator[OidcProvider]:
    adapter = OidcProvider(site.url, CLIENT, "secret", AddressGuard(["127.0.0.1"]), name="test")
    try:
        yield adapter
    finally:
        await adapter.close()


def rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


def publish(site: Site, *keys: Any) -> None:
    site.published = [key.as_dict(private=False) for key in keys]


def claims(site: Site, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {"iss": site.url, "aud": CLIENT, "sub": "s-1", "iat": now, "exp": now + 300, "nonce": NONCE}
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def signed(key: Any, body: dict[str, Any], alg: str = "RS256", kid: str | None = "") -> str:
    header = {"alg": alg, "kid": key.kid if kid == "" else kid}
    return jwt.encode({k: v for k, v in header.items() if v is not None}, body, key, algorithms=[alg])


async def check(provider: OidcProvider, site: Site, token: str) -> dict[str, Any]:
    return await check_id_token(
        token, provider.keys, ALGORITHMS, issuer=site.url, client_id=CLIENT, nonce=NONCE
    )


async def refused(provider: OidcProvider, site: Site, token: str) -> str:
    with pytest.raises(IdentityRefused) as caught:
        await check(provider, site, token)
    return caught.value.reason


async def test_a_valid_token_passes_and_the_key_set_is_kept(provider, site):
    key = rsa("a")
    publish(site, key)
    assert (await check(provider, site, signed(key, claims(site))))["sub"] == "s-1"
    assert (await check(provider, site, signed(key, claims(site, sub="s-2"))))["sub"] == "s-2"
    assert provider.keys.fetches == 1
    ec = ECKey.generate_key("P-256", parameters={"kid": "e"})
    publish(site, key, ec)
    assert (await check(provider, site, signed(ec, claims(site), "ES256")))["sub"] == "s-1"


async def test_a_token_for_another_audience_is_refused(provider, site):
    key = rsa("a")
    publish(site, key)
    assert "audience" in await refused(provider, site, signed(key, claims(site, aud="another-client")))
    several = claims(site, aud=[CLIENT, "another-client"])  # several audiences need azp = us
    assert "azp" in await refused(provider, site, signed(key, several))
    assert "azp" in await refused(provider, site, signed(key, {**several, "azp": "another-client"}))
    assert (await check(provider, site, signed(key, {**several, "azp": CLIENT})))["sub"] == "s-1"


async def test_an_expired_token_and_a_token_from_the_future_are_refused(provider, site):
    key = rsa("a")
    publish(site, key)
    past = int(time.time()) - 3600
    assert "expired" in await refused(provider, site, signed(key, claims(site, iat=past, exp=past + 60)))
    assert "expired" in await refused(provider, site, signed(key, claims(site, exp=None)))
    later = int(time.time()) + 3600
    assert "issue time" in await refused(provider, site, signed(key, claims(site, iat=later, exp=later + 60)))


async def test_a_token_signed_with_another_key_is_refused(provider, site):
    published, forged = rsa("a"), rsa("a")  # the same kid, another key
    publish(site, published)
    assert "signature" in await refused(provider, site, signed(forged, claims(site)))
    assert provider.keys.fetches == 1


async def test_alg_none_and_hmac_tokens_are_refused(provider, site):
    key = rsa("a")
    publish(site, key)

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    unsigned = f"{part({'alg': 'none', 'kid': 'a'})}.{part(claims(site))}."
    assert "algorithm" in await refused(provider, site, unsigned)
    shared = OctKey.import_key(b"a secret anyone could guess at all")
    assert "algorithm" in await refused(provider, site, signed(shared, claims(site), "HS256", kid="a"))
    assert "malformed" in await refused(provider, site, "not.a token")


async def test_a_wrong_nonce_issuer_or_subject_is_refused(provider, site):
    key = rsa("a")
    publish(site, key)
    assert "nonce" in await refused(provider, site, signed(key, claims(site, nonce="another one")))
    assert "nonce" in await refused(provider, site, signed(key, claims(site, nonce=None)))
    assert "issuer" in await refused(provider, site, signed(key, claims(site, iss="http://evil.example")))
    assert "subject" in await refused(provider, site, signed(key, claims(site, sub="")))


async def test_a_rotated_key_is_fetched_once_and_an_unknown_one_refused(provider, site):
    old, new = rsa("old"), rsa("new")
    publish(site, old)
    await check(provider, site, signed(old, claims(site)))
    publish(site, new)  # the provider rotated its key
    assert (await check(provider, site, signed(new, claims(site))))["sub"] == "s-1"
    assert provider.keys.fetches == 2  # one refetch for the unknown kid
    await check(provider, site, signed(new, claims(site)))
    assert provider.keys.fetches == 2
    never = rsa("never-published")
    assert "does not publish" in await refused(provider, site, signed(never, claims(site)))
    assert provider.keys.fetches == 3  # fetched again once, then refused


async def test_the_address_guard_and_the_body_cap_hold(site):
    key = rsa("a")
    publish(site, key)
    guarded = OidcProvider(site.url, CLIENT, "secret", AddressGuard(), name="test")  # 127.0.0.1 not allowed
    try:
        with pytest.raises(IdentityRefused, match="address is not allowed"):
            await guarded.document()
    finally:
        await guarded.close()
    capped = OidcProvider(site.url, CLIENT, "secret", AddressGuard(["127.0.0.1"]), name="test")
    site.big = True
    try:
        with pytest.raises(IdentityRefused, match="too large"):
            await check_id_token(
                signed(key, claims(site)),
                capped.keys,
                ALGORITHMS,
                issuer=site.url,
                client_id=CLIENT,
                nonce=NONCE,
            )
    finally:
        await capped.close()
