"""The ID token's checks (OpenID Connect Core 3.1.3.7), with joserfc.

``KeySource`` keeps the provider's key set (JWKS) and fetches it again, once, when a token names a
key it does not hold (the provider rotated its keys); a key still unknown after that is refused.
Tokens the application signs (``app_jwt.py``, PROTOCOL.md section 17) use it too, with its
refetches bounded in time.
``check_id_token`` takes the algorithm from the token's header only if the provider announces it
and it is an asymmetric one (never ``none``, never HS256: a token signed with a shared secret is
not the provider's), verifies the signature with that key, then the claims: ``iss`` is the
issuer, ``aud`` holds the client id (and ``azp``, when present or when there are several
audiences, is the client id), ``exp`` is ahead and ``iat`` not ahead (30 s of leeway for clocks),
``nonce`` is the flow's, ``sub`` is a non-empty string. Each failure is ``IdentityRefused``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from server.chat.accounts.identities import IdentityRefused

logger = logging.getLogger(__name__)

LEEWAY = 30
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)


class KeySource:
    """An issuer's published keys, cached; fetched again once for a ``kid`` they lack.

    ``refetch_every`` bounds those refetches: an unknown ``kid`` within that many seconds of the
    last refetch is refused without asking (tokens naming made-up keys cost the issuer nothing),
    and concurrent ones wait for one fetch; so is every token within that time of a first read that
    failed (the issuer is down). ``max_age``: keys older than that are read again on the next use
    (an issuer that dropped a key is believed within that time); if that read fails, the keys held
    are kept for another ``max_age``.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        *,
        refetch_every: float = 0.0,
        max_age: float | None = None,
    ) -> None:
        self._fetch = fetch
        self.refetch_every = refetch_every
        self.max_age = max_age
        self._keys: KeySet | None = None
        self._loaded_at = 0.0
        self._refetched_at: float | None = None
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0  # how often the key set was read (the tests see the rotation's refetch)

    async def candidates(self, kid: str | None) -> list[Key]:
        """The keys a token with ``kid`` may be signed with: a cached one, else the newly fetched."""
        await self._renew_if_old()
        if self._keys is not None:
            found = _matching(self._keys, kid)
            if found:
                return found
        async with self._lock:  # one fetch for the tokens that wait on it
            keys = self._keys
            if keys is None:
                keys = await self._first_load()
            elif not _matching(keys, kid) and self._may_refetch():
                self._refetched_at = time.monotonic()
                keys = await self._load()
        found = _matching(keys, kid)
        if not found:
            raise IdentityRefused("the token is signed with a key the issuer does not publish", str(kid))
        return found

    async def _first_load(self) -> KeySet:
        """The first read of the keys; after a failed one, none for ``refetch_every`` seconds (an
        issuer that is down is not asked again by every token meanwhile)."""
        failed = self._failed_at
        if failed is not None and time.monotonic() - failed < self.refetch_every:
            raise IdentityRefused("the issuer's key set could not be read; try again shortly")
        try:
            return await self._load()
        except IdentityRefused:
            self._failed_at = time.monotonic()
            raise

    def _may_refetch(self) -> bool:
        last = self._refetched_at
        return last is None or time.monotonic() - last >= self.refetch_every

    async def _renew_if_old(self) -> None:
        if self._keys is None or self.max_age is None or time.monotonic() - self._loaded_at < self.max_age:
            return
        async with self._lock:
            if time.monotonic() - self._loaded_at < self.max_age:
                return  # another task read them meanwhile
            try:
                await self._load()
            except IdentityRefused as exc:
                self._loaded_at = time.monotonic()  # keep what we hold; try again after max_age
                logger.warning("the key set could not be read again: %s %s", exc.reason, exc.detail)

    async def _load(self) -> KeySet:
        self.fetches += 1
        document = await self._fetch()
        try:
            keys = KeySet.import_key_set({"keys": [key for key in document.get("keys", []) if _public(key)]})
        except (JoseError, ValueError, TypeError) as exc:
            raise IdentityRefused("the issuer's key set is not usable", repr(exc)) from None
        self._keys, self._loaded_at = keys, time.monotonic()
        return keys


def _public(key: object) -> bool:
    """A public signing key: no private part, not a shared secret."""
    return isinstance(key, dict) and key.get("kty") in ("RSA", "EC", "OKP") and "d" not in key


def _matching(keys: KeySet, kid: str | None) -> list[Key]:
    return [key for key in keys if kid is None or key.kid == kid]


async def check_id_token(
    token: str, keys: KeySource, announced: Collection[str], *, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """The claims of a valid ID token; ``IdentityRefused`` otherwise."""
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        raise IdentityRefused("the ID token is malformed") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if not (isinstance(algorithm, str) and algorithm in ASYMMETRIC and algorithm in announced):
        raise IdentityRefused("the ID token's algorithm is not accepted", repr(algorithm))
    if kid is not None and not isinstance(kid, str):
        raise IdentityRefused("the ID token's key id is malformed")
    claims = _verified(token, await keys.candidates(kid), algorithm)
    _check_claims(claims, issuer, client_id, nonce)
    return claims


def _verified(token: str, candidates: list[Key], algorithm: str) -> dict[str, Any]:
    for key in candidates:
        try:
            return dict(jwt.decode(token, key, algorithms=[algorithm]).claims)
        except (JoseError, ValueError):
            continue
    raise IdentityRefused("the ID token's signature is not valid")


def _check_claims(claims: dict[str, Any], issuer: str, client_id: str, nonce: str) -> None:
    now = time.time()
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if claims.get("iss") != issuer:
        raise IdentityRefused("the ID token is from another issuer")
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdentityRefused("the ID token is for another audience")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise IdentityRefused("the ID token was issued to another party (azp)")
    if not (_number(claims.get("exp")) and claims["exp"] > now - LEEWAY):
        raise IdentityRefused("the ID token has expired")
    if not (_number(claims.get("iat")) and claims["iat"] <= now + LEEWAY):
        raise IdentityRefused("the ID token's issue time is missing or ahead")
    given = claims.get("nonce")
    if not (
        isinstance(given, str) and hmac.compare_digest(given.encode(errors="surrogatepass"), nonce.encode())
    ):
        raise IdentityRefused("the ID token's nonce is not this sign-in's")
    if not (isinstance(claims.get("sub"), str) and claims["sub"]):
        raise IdentityRefused("the ID token names no subject")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
