"""Single sign-on's provider (PROTOCOL.md section 14): OpenID Connect with authlib and joserfc.

``OidcProvider`` implements the domain's ``IdentityProvider`` port. authlib builds the
authorization request (the code flow with PKCE's S256 challenge, ``state``, ``nonce``) and the
token request; joserfc (authlib's JOSE library, which authlib's own ``authlib.jose`` now defers
to) checks the ID token's signature against the provider's published keys:

- Discovery: ``<issuer>/.well-known/openid-configuration``, whose ``issuer`` must be the
  configured one, kept for an hour.
- The token endpoint: ``client_secret_basic`` unless the document announces only
  ``client_secret_post``.
- The ID token (``id_token.py``): an algorithm the provider announces, never ``none`` and never
  an HMAC one; the key of its ``kid`` from the cached key set, and for an unknown ``kid`` the key
  set fetched again once (key rotation), then refused; ``iss``, ``aud`` (and ``azp``), ``exp``,
  ``iat``, ``nonce`` and ``sub`` checked.
- Claims the ID token lacks (``preferred_username``, ``name``; many providers keep them for the
  UserInfo endpoint) come from UserInfo, only when its ``sub`` is the ID token's.

Every request goes through the address guard (``guarded_fetch.GuardedFetch``: non-public addresses
are refused unless their host is allowed; the composition allows the issuer's host), to the
address it checked, with a 5 s timeout and a 1 MiB cap on the answer. Every failure is the
domain's ``IdentityRefused``.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote, urlencode

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from server.adapters.guarded_fetch import TIMEOUT, GuardedFetch
from server.adapters.id_token import KeySource, check_id_token
from server.adapters.webhook_http import AddressGuard
from server.chat.accounts.identities import Identity, IdentityRefused

DOCUMENT_AGE = 3600.0
REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class OidcProvider:
    """An OpenID Connect provider found by its issuer's discovery document."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        guard: AddressGuard,
        *,
        name: str,
        scopes: str = "openid profile email",
        timeout: float = TIMEOUT,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._secret = client_secret
        self.guard = guard
        self._name = name
        self.scopes = scopes
        self.timeout = timeout
        self.http = GuardedFetch(guard, who="the provider", timeout=timeout)
        self._document: dict[str, Any] | None = None
        self._document_at = 0.0
        self.keys = KeySource(self._fetch_keys)

    @property
    def name(self) -> str:
        return self._name

    async def authorize_url(self, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        document = await self.document()
        url: str = prepare_grant_uri(
            document["authorization_endpoint"],
            self.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=self.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return url

    async def identify(self, code: str, verifier: str, nonce: str, redirect_uri: str) -> Identity:
        document = await self.document()
        answer = await self._exchange(document, code, verifier, redirect_uri)
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise IdentityRefused("the provider sent no ID token")
        algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        claims = await check_id_token(
            id_token, self.keys, algorithms, issuer=self.issuer, client_id=self.client_id, nonce=nonce
        )
        names = _text(claims.get("preferred_username")) or _text(claims.get("name"))
        if not (names and "email" in claims):  # the email claim: the workspace's domains (section 19)
            claims = {**await self._user_info(document, answer, claims["sub"]), **claims}
        return Identity(
            issuer=claims["iss"],
            subject=claims["sub"],
            preferred_username=_text(claims.get("preferred_username")),
            name=_text(claims.get("name")),
            email=_verified_email(claims),
        )

    async def document(self) -> dict[str, Any]:
        """The discovery document (fetched again after an hour)."""
        if self._document is None or time.monotonic() - self._document_at > DOCUMENT_AGE:
            found = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if found.get("issuer") != self.issuer:
                raise IdentityRefused("the discovery document names another issuer", str(found.get("issuer")))
            if not all(isinstance(found.get(key), str) for key in REQUIRED):
                raise IdentityRefused("the discovery document lacks an endpoint")
            self._document, self._document_at = found, time.monotonic()
        return self._document

    async def _exchange(
        self, document: dict[str, Any], code: str, verifier: str, redirect_uri: str
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods or "client_secret_post" not in methods:
            # RFC 6749 2.3.1: each part form-encoded before the Base64
            pair = f"{quote(self.client_id, safe='')}:{quote(self._secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_secret"] = self._secret
        status, body = await self._send("POST", document["token_endpoint"], headers, urlencode(form).encode())
        answer = self.http.json_object(body)
        if status != 200:
            error = answer.get("error") if isinstance(answer.get("error"), str) else f"status {status}"
            raise IdentityRefused("the provider refused the code", str(error)[:200])
        return answer

    async def _user_info(
        self, document: dict[str, Any], answer: dict[str, Any], subject: str
    ) -> dict[str, Any]:
        endpoint, access = document.get("userinfo_endpoint"), answer.get("access_token")
        if not (isinstance(endpoint, str) and isinstance(access, str)):
            return {}
        status, body = await self._send("GET", endpoint, {"Authorization": f"Bearer {access}"}, None)
        info = self.http.json_object(body) if status == 200 else {}
        return info if info.get("sub") == subject else {}  # OpenID Connect Core 5.3.2

    async def _fetch_keys(self) -> dict[str, Any]:
        return await self._get_json((await self.document())["jwks_uri"])

    async def _get_json(self, url: str) -> dict[str, Any]:
        return await self.http.get_json(url)

    async def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        return await self.http.send(method, url, headers, body)

    async def close(self) -> None:
        await self.http.close()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _verified_email(claims: dict[str, Any]) -> str | None:
    """The ``email`` claim when the provider verified it (``email_verified`` true), lower-cased:
    what the workspace's allowed domains are checked against (PROTOCOL.md section 19)."""
    email = _text(claims.get("email"))
    if email is None or claims.get("email_verified") is not True or "@" not in email:
        return None
    return email.strip().lower()
