"""The application's tokens' signature and claims (server/adapters/app_jwt.py, PROTOCOL.md 17).

Tokens are signed here as an application would sign them: with pyjwt (HS256, RS256, ES256), or
by hand for what no library signs (``alg: none``, an HMAC keyed with the RSA public key). The key
set is served by a real local HTTP server (aiohttp on 127.0.0.1) and fetched through the address
guard, so the cache, the one refetch for an unknown ``kid`` and its bound are the production ones.
Each forgery is ``IdentityRefused``; times are the domain's to judge (tests/chat/accounts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest

from server.adapters.app_jwt import AppJwtVerifier
from server.adapters.guarded_fetch import GuardedFetch
from server.adapters.id_token import KeySource
from server.adapters.webhook_http import AddressGuard
from server.chat.accounts.identities import IdentityRefused
from server.chat.accounts.security import TokenCodec
from tests.app_tokens_support import Signer, Site

ISSUER = "https://app.example"
AUDIENCE = "parley"
SECRET = "the application's shared secret, 32+ bytes long"


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    found: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "iat": now, "exp": now + 600}
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def by_hand(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A compact JWS no library would sign: HMAC-SHA256 under ``key``, or no signature at all."""
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if key is None:
        return f"{signing}."
    return f"{signing}.{b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())}"


def published(site: Site, guard: AddressGuard | None = None) -> AppJwtVerifier:
    fetcher = GuardedFetch(guard or AddressGuard(["127.0.0.1"]), who="the application")
    return AppJwtVerifier.published(ISSUER, AUDIENCE, site.url, fetcher)


@pytest.fixture
async def keyed(app_site: Site) -> AsyncIterator[AppJwtVerifier]:
    verifier = published(app_site)
    try:
        yield verifier
    finally:
        await verifier.close()


@pytest.fixture
def shared() -> AppJwtVerifier:
    return AppJwtVerifier(ISSUER, AUDIENCE, secret=SECRET)


async def refused(verifier: AppJwtVerifier, token: str) -> str:
    with pytest.raises(IdentityRefused) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_an_hs256_token_names_its_person_by_issuer_and_subject(shared):
    token = jwt.encode(claims(name="Carol C.", preferred_username="carol"), SECRET, algorithm="HS256")
    found = await shared.verify(token)
    assert (found.identity.issuer, found.identity.subject) == (ISSUER, "u-1")
    assert (found.identity.preferred_username, found.identity.name) == ("carol", "Carol C.")
    assert found.expires_at == claims()["exp"] and found.issued_at == claims()["iat"]
    plain = await shared.verify(jwt.encode(claims(iat=None), SECRET, algorithm="HS256"))
    assert plain.identity.preferred_username == "u-1" and plain.issued_at is None  # the name from sub


async def test_forgeries_of_a_shared_secret_token_are_refused(shared, app_site):
    rsa_key, other = Signer("k"), "another secret of 32 bytes or more!"
    assert "signature" in await refused(shared, jwt.encode(claims(), other, "HS256"))
    assert "algorithm" in await refused(shared, by_hand({"alg": "none"}, claims(), None))
    assert "algorithm" in await refused(shared, rsa_key.sign(claims()))  # RS256 where HS256 is pinned
    assert "algorithm" in await refused(shared, jwt.encode(claims(), SECRET * 2, algorithm="HS512"))
    assert "issuer" in await refused(shared, jwt.encode(claims(iss="https://evil.example"), SECRET, "HS256"))
    assert "audience" in await refused(shared, jwt.encode(claims(aud="someone-else"), SECRET, "HS256"))
    assert "audience" in await refused(shared, jwt.encode(claims(aud=None), SECRET, "HS256"))
    assert "expiry" in await refused(shared, jwt.encode(claims(exp=None), SECRET, "HS256"))
    assert "expiry" in await refused(shared, jwt.encode(claims(exp="tomorrow"), SECRET, "HS256"))
    assert "subject" in await refused(shared, jwt.encode(claims(sub=None), SECRET, "HS256"))
    assert "subject" in await refused(shared, jwt.encode(claims(sub=" "), SECRET, "HS256"))
    assert "malformed" in await refused(shared, "not.a-token")
    assert app_site.reads == 0  # a secret is never fetched


async def test_an_audience_in_the_token_needs_one_configured():
    verifier = AppJwtVerifier(ISSUER, None, secret=SECRET)
    assert (await verifier.verify(jwt.encode(claims(aud=None), SECRET, "HS256"))).identity.subject == "u-1"
    assert "audience" in await refused(verifier, jwt.encode(claims(), SECRET, "HS256"))


async def test_rs256_and_es256_tokens_from_the_published_keys_pass(keyed, app_site):
    rs, es = Signer("rs-1"), Signer("es-1", "ES256")
    app_site.published = [rs.jwk, es.jwk]
    assert (await keyed.verify(rs.sign(claims(sub="r")))).identity.subject == "r"
    assert (await keyed.verify(es.sign(claims(sub="e")))).identity.subject == "e"
    assert app_site.reads == 1  # the key set is kept


async def test_forgeries_of_a_published_key_token_are_refused(keyed, app_site):
    key, stranger = Signer("k-1"), Signer("k-1")  # the stranger claims the published kid
    app_site.published = [key.jwk]
    assert "signature" in await refused(keyed, stranger.sign(claims()))
    # The classic confusion: HS256 keyed with the published RSA public key, as a secret.
    confused = by_hand({"alg": "HS256", "kid": "k-1", "typ": "JWT"}, claims(), key.public_pem())
    assert "algorithm" in await refused(keyed, confused)
    assert "algorithm" in await refused(keyed, by_hand({"alg": "none", "kid": "k-1"}, claims(), None))
    assert "algorithm" in await refused(keyed, jwt.encode(claims(), SECRET, "HS256"))
    assert "issuer" in await refused(keyed, key.sign(claims(iss="https://evil.example")))
    assert "audience" in await refused(keyed, key.sign(claims(aud="another")))
    assert "expiry" in await refused(keyed, key.sign(claims(exp=None)))
    assert "subject" in await refused(keyed, key.sign(claims(sub="")))


async def test_a_rotated_key_is_fetched_once_and_a_flood_of_unknown_kids_is_not(keyed, app_site):
    old, new = Signer("old"), Signer("new")
    app_site.published = [old.jwk]
    await keyed.verify(old.sign(claims()))
    app_site.published = [old.jwk, new.jwk]  # the application rotates: a new kid appears
    assert (await keyed.verify(new.sign(claims(sub="after")))).identity.subject == "after"
    assert app_site.reads == 2  # one refetch for the unknown kid
    never = Signer("never")
    assert "does not publish" in await refused(keyed, never.sign(claims()))
    for number in range(20):  # made-up kids, within the refetch bound: the app_site is not asked
        assert "does not publish" in await refused(keyed, never.sign(claims(), kid=f"made-up-{number}"))
    assert app_site.reads == 2
    await keyed.verify(new.sign(claims()))  # known keys keep working meanwhile
    assert app_site.reads == 2


async def test_a_site_that_is_down_is_not_asked_again_by_every_token(keyed, app_site):
    key = Signer("k")
    app_site.published, app_site.down = [key.jwk], True
    assert "could not be read" in await refused(keyed, key.sign(claims()))
    app_site.down = False
    assert "try again shortly" in await refused(keyed, key.sign(claims()))  # within the bound
    assert app_site.reads == 1


async def test_a_key_the_application_dropped_is_refused_once_the_set_is_read_again(app_site):
    old, new = Signer("old"), Signer("new")
    app_site.published = [old.jwk, new.jwk]
    fetcher = GuardedFetch(AddressGuard(["127.0.0.1"]), who="the application")

    async def fetch() -> dict[str, Any]:
        return await fetcher.get_json(app_site.url)

    verifier = AppJwtVerifier(ISSUER, AUDIENCE, keys=KeySource(fetch, max_age=0.0), fetcher=fetcher)
    try:
        await verifier.verify(old.sign(claims()))
        app_site.published = [new.jwk]  # the old key is withdrawn
        assert "does not publish" in await refused(verifier, old.sign(claims()))
        app_site.down = True  # a failed read keeps the keys held
        assert (await verifier.verify(new.sign(claims(sub="kept")))).identity.subject == "kept"
    finally:
        await verifier.close()


async def test_the_key_set_is_fetched_through_the_address_guard(app_site):
    key = Signer("k")
    app_site.published = [key.jwk]
    guarded = published(app_site, AddressGuard())  # 127.0.0.1 is not a public address: refused
    try:
        assert "address is not allowed" in await refused(guarded, key.sign(claims()))
        assert app_site.reads == 0
    finally:
        await guarded.close()


def test_only_tokens_naming_an_issuer_are_the_applications(shared):
    parley, _ = TokenCodec(SECRET, 60).issue(7, 1)
    assert shared.names_an_issuer(jwt.encode(claims(), "any secret at all, 32 bytes long", "HS256"))
    assert not shared.names_an_issuer(parley)  # Parley's own tokens name no issuer
    for junk in ("", "a.b.c", "pb_" + "x" * 43, "x." + b64(b"[1]") + ".y", "é.é.é"):
        assert not shared.names_an_issuer(junk)
