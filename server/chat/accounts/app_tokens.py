"""Tokens the application signs (PROTOCOL.md section 17): its users sign in to Parley with them.

The application that Parley is the realtime half of may sign its users' tokens itself, with a
shared secret (HS256) or with keys it publishes (a JWKS: RS256, ES256). ``AppTokenVerifier`` is
the port (``server/adapters/app_jwt.py`` implements it with joserfc): it tells such a token from
Parley's own by a cheap look (Parley's tokens name no issuer), and checks one's signature,
algorithm, ``iss``, ``aud``, ``sub`` and that ``exp`` is there, raising ``IdentityRefused``.
``AppTokens`` does the rest, on its own clock:

- time: ``exp`` passed is ``token_expired`` (as a Parley token's); an ``iat`` ahead (past a
  little leeway for the two machines' clocks) or a life longer than ``max_ttl`` (``exp - iat``,
  and ``exp`` from now in any case) is ``unauthorized``;
- the person: the account linked to ``iss`` + ``sub`` (``identities.LinkedAccounts``, as single
  sign-on's), made on the first token (its name from ``preferred_username`` or ``sub``, never an
  existing one; ``name``, a display name), admitted by the workspace's door as a single sign-on's
  new account is; a refusal of the door is ``unauthorized`` here (a connection's refusal has no
  other code), with the door's reason.

A token that passed is remembered (at most ``SIZE``, the least recently used dropped first), so
that a reconnecting client costs neither a signature check nor a query: only its times are judged
again on each use. Whether its user may still come in (disabled, deleted) is ``UserService``'s
check on every use, cached or not.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from server.chat.accounts.identities import Identity, IdentityRefused, LinkedAccounts
from server.chat.accounts.users import Joining
from server.chat.kernel.errors import ChatError, ErrorCode

SIZE = 50_000
LEEWAY = 30  # seconds an ``iat`` may be ahead: the application's clock is not ours


@dataclass(frozen=True)
class AppClaims:
    """An application's token whose signature, issuer, audience and subject were checked."""

    identity: Identity
    expires_at: float  # seconds since the epoch
    issued_at: float | None = None


class AppTokenVerifier(Protocol):
    """The application's signature (the port; ``server.adapters.app_jwt.AppJwtVerifier`` is it)."""

    def names_an_issuer(self, token: str) -> bool:
        """Whether ``token`` is a JWT whose payload names an issuer, unverified: Parley's own never
        do, so only these are the application's to check."""
        ...

    async def verify(self, token: str) -> AppClaims:
        """The checked claims (times are the caller's); ``IdentityRefused`` for anything else."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Seen:
    user_id: int
    issued_at: float | None
    expires_at: float


class AppTokens:
    """The accounts behind the application's tokens."""

    def __init__(
        self,
        verifier: AppTokenVerifier,
        accounts: LinkedAccounts,
        max_ttl: int,
        clock: Callable[[], float] = time.time,
        size: int = SIZE,
    ) -> None:
        self.verifier = verifier
        self.accounts = accounts
        self.max_ttl = max_ttl
        self.clock = clock
        self.size = size
        self._seen: OrderedDict[str, _Seen] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def claims_to_be(self, token: str) -> bool:
        """Whether ``token`` is one for ``user_of`` rather than Parley's own checks."""
        return self.verifier.names_an_issuer(token)

    async def user_of(self, token: str) -> tuple[int, datetime | None, datetime]:
        """The account's id, the token's issue time (None when it names none) and its expiry;
        ``unauthorized`` or ``token_expired`` otherwise."""
        seen = self._seen.get(token)
        if seen is None:
            seen = await self._first_sight(token)
        else:
            self._seen.move_to_end(token)
        try:
            self._judge(seen.issued_at, seen.expires_at)
        except ChatError:
            self._seen.pop(token, None)
            raise
        issued = None if seen.issued_at is None else _utc(seen.issued_at)
        return seen.user_id, issued, _utc(seen.expires_at)

    async def _first_sight(self, token: str) -> _Seen:
        try:
            claims = await self.verifier.verify(token)
        except IdentityRefused as exc:
            raise ChatError(ErrorCode.UNAUTHORIZED, f"the token is not valid: {exc.reason}") from None
        self._judge(claims.issued_at, claims.expires_at)  # before an account is made for it
        joining = Joining(email=claims.identity.email, sso=True)
        try:
            user = await self.accounts.account(claims.identity, joining)
        except ChatError as exc:
            if exc.code in (ErrorCode.FORBIDDEN, ErrorCode.INVALID):  # the workspace's door
                raise ChatError(ErrorCode.UNAUTHORIZED, exc.message) from None
            raise
        seen = _Seen(user.id, claims.issued_at, claims.expires_at)
        if len(self._seen) >= self.size:
            self._seen.popitem(last=False)
        self._seen[token] = seen
        return seen

    def _judge(self, issued_at: float | None, expires_at: float) -> None:
        now = self.clock()
        if issued_at is not None and issued_at > now + LEEWAY:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid: it was issued in the future")
        if issued_at is not None and expires_at - issued_at > self.max_ttl:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid: it lives too long")
        if expires_at <= now:
            raise ChatError(
                ErrorCode.TOKEN_EXPIRED, "the token has expired; ask your application for a new one"
            )
        if expires_at - now > self.max_ttl:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid: it lives too long")


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
