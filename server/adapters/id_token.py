"""The ID token's checks (OpenID Connect Core 3.1.3.7), with joserfc.

``KeySource`` keeps the provider's key set (JWKS) and fetches it again, once, when a token names a
key it does not hold (the provider rotated its keys); a key still unknown after that is refused.
``check_id_token`` takes the algorithm from the token's header only if the provider announces it
and it is an asymmetric one (never ``none``, never HS256: a token signed with a shared secret is
not the provider's), verifies the signature with that key, then the claims: ``iss`` is the
issuer, ``aud`` holds the client id (and ``azp``, when present or when there are several
audiences, is the client id), ``exp`` is ahead and ``iat`` not ahead (30 s of leeway for clocks),
``nonce`` is the flow's, ``sub`` is a non-empty string. Each failure is ``IdentityRefused``.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from server.chat.accounts.sso import IdentityRefused

LEEWAY = 30
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)


class KeySource:
    """The provider's published keys, cached; fetched again once for a ``kid`` they lack."""

    def __init__(self, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._fetch = fetch
        self._keys: KeySet | None = None
        self.fetches = 0  # how often the key set was read (the tests see the rotation's refetch)

    async def candidates(self, kid: str | None) -> list[Key]:
        """The keys a token with ``kid`` may be signed with: a cached one, else the newly fetched."""
        if self._keys is not None:
            found = _matching(self._keys, kid)
            if found:
                return found
        self._keys = await self._load()
        found = _matching(self._keys, kid)
        if not found:
            raise IdentityRefused("the ID token is signed with a key the provider does not publish", str(kid))
        return found

    async def _load(self) -> KeySet:
        self.fetches += 1
        document = await self._fetch()
        try:
            return KeySet.import_key_set({"keys": [key for key in document.get("keys", []) if _public(key)]})
        except (JoseError, ValueError, TypeError) as exc:
            raise IdentityRefused("the provider's key set is not usable", repr(exc)) from None


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
