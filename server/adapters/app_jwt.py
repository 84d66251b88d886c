"""Tokens the application signs (PROTOCOL.md section 17), checked with joserfc.

``AppJwtVerifier`` implements the domain's ``AppTokenVerifier`` port, one of two ways:

- a shared secret (``PARLEY_APP_JWT_SECRET``): HS256 only;
- the application's key set (``PARLEY_APP_JWKS_URL``): RS256 or ES256 only, the key of the
  token's ``kid`` from the cached set (``id_token.KeySource``: an unknown ``kid`` fetches the set
  again once, at most every ``REFETCH_EVERY`` seconds, and the set is read again after
  ``KEYS_AGE``), fetched through the address guard (``guarded_fetch.GuardedFetch``).

The algorithm is pinned before any key is tried: ``alg: none``, an HMAC token where keys are
published (the RSA public key used as a secret), an RSA or EC token where a secret is shared, are
refused; joserfc also refuses a key of the wrong type for the algorithm. Then the claims: ``iss``
is the application's, ``aud`` holds ``PARLEY_APP_AUDIENCE`` (and a token naming an audience is
refused when none is configured: Parley would not be among them, RFC 7519 4.1.3), ``sub`` a
non-empty string, ``exp`` (required) and ``iat`` (optional) numbers. The times are the domain's to
judge (``AppTokens``), on its clock. Every failure is ``IdentityRefused``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeGuard

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, OctKey

from server.adapters.guarded_fetch import GuardedFetch
from server.adapters.id_token import KeySource
from server.chat.accounts.app_tokens import AppClaims
from server.chat.accounts.identities import Identity, IdentityRefused

SHARED = frozenset({"HS256"})
PUBLISHED = frozenset({"RS256", "ES256"})
REFETCH_EVERY = 10.0  # seconds between two refetches of the key set for an unknown kid
KEYS_AGE = 3600.0  # the key set is read again after an hour
MAX_TOKEN = 8192  # characters: no application's token is longer, and a peek must stay cheap


class AppJwtVerifier:
    """The application's tokens, by its secret or its published keys (exactly one of them)."""

    def __init__(
        self,
        issuer: str,
        audience: str | None,
        *,
        secret: str | None = None,
        keys: KeySource | None = None,
        fetcher: GuardedFetch | None = None,
    ) -> None:
        assert (secret is None) != (keys is None), "a secret or a key set"
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.fetcher = fetcher  # the key set's client, closed with the verifier
        self._secret = None if secret is None else OctKey.import_key(secret)
        self.algorithms = SHARED if secret is not None else PUBLISHED

    @classmethod
    def published(cls, issuer: str, audience: str | None, url: str, fetcher: GuardedFetch) -> AppJwtVerifier:
        """A verifier of tokens signed with the keys served at ``url``."""

        async def fetch() -> dict[str, Any]:
            return await fetcher.get_json(url)

        keys = KeySource(fetch, refetch_every=REFETCH_EVERY, max_age=KEYS_AGE)
        return cls(issuer, audience, keys=keys, fetcher=fetcher)

    def names_an_issuer(self, token: str) -> bool:
        if len(token) > MAX_TOKEN or token.count(".") != 2:
            return False
        payload = token.split(".", 2)[1]
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            # Parley's own payloads never hold the key: they cost no JSON parse here.
            claims = json.loads(raw) if b'"iss"' in raw else None
        except (ValueError, binascii.Error, UnicodeError):
            return False
        return isinstance(claims, dict) and "iss" in claims

    async def verify(self, token: str) -> AppClaims:
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError, UnicodeError):
            raise IdentityRefused("it is malformed") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if not (isinstance(algorithm, str) and algorithm in self.algorithms):
            raise IdentityRefused("its algorithm is not accepted", repr(algorithm))
        if kid is not None and not isinstance(kid, str):
            raise IdentityRefused("its key id is malformed")
        candidates: list[Key] = [self._secret] if self._secret is not None else []
        if self.keys is not None:
            candidates = await self.keys.candidates(kid)
        return self._claims(_verified(token, candidates, algorithm))

    def _claims(self, claims: dict[str, Any]) -> AppClaims:
        if claims.get("iss") != self.issuer:
            raise IdentityRefused("it is from another issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if self.audience is None and audience is not None:
            raise IdentityRefused("it names an audience and this server has none (PARLEY_APP_AUDIENCE)")
        if self.audience is not None and not (isinstance(audiences, list) and self.audience in audiences):
            raise IdentityRefused("it is for another audience")
        subject, expires, issued = claims.get("sub"), claims.get("exp"), claims.get("iat")
        if not (isinstance(subject, str) and subject.strip()):
            raise IdentityRefused("it names no subject")
        if not _number(expires):
            raise IdentityRefused("it has no expiry (exp)")
        if issued is not None and not _number(issued):
            raise IdentityRefused("its issue time (iat) is not a number")
        identity = Identity(
            issuer=self.issuer,
            subject=subject,
            preferred_username=_text(claims.get("preferred_username")) or subject,
            name=_text(claims.get("name")),
            email=_verified_email(claims),
        )
        return AppClaims(identity, float(expires), None if issued is None else float(issued))

    async def close(self) -> None:
        if self.fetcher is not None:
            await self.fetcher.close()


def _verified(token: str, candidates: list[Key], algorithm: str) -> dict[str, Any]:
    for key in candidates:
        try:
            return dict(jwt.decode(token, key, algorithms=[algorithm]).claims)
        except (JoseError, ValueError, TypeError):
            continue
    raise IdentityRefused("its signature is not valid")


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 253402300800


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _verified_email(claims: dict[str, Any]) -> str | None:
    """The ``email`` claim when the application says it verified it: what the workspace's allowed
    domains are checked against for a new account (PROTOCOL.md section 19)."""
    email = _text(claims.get("email"))
    if email is None or claims.get("email_verified") is not True or "@" not in email:
        return None
    return email.strip().lower()
