"""Password hashing and tokens.

bcrypt is slow on purpose, so it always runs in a worker thread and never on
the event loop. Tokens are HS256 JWTs with ``sub`` (the user's id, as JWT
wants a string), ``iat``, ``exp`` and ``ver`` (the user's token version:
logout bumps it, which revokes every token issued before), and ``sid``, the
session it belongs to (PROTOCOL.md section 19), when it was issued to one: a
password login's, a refresh's; ``parley token``'s has none. They name the
account by id, never by username: a name freed and registered again is a new
account that no earlier token opens. Decoding pins the algorithm and requires
every claim, each an integer in range; an expired token and a bad one are
told apart for the client. The codec reads one clock (``clock``, the wall clock) to issue and to
judge a token's times, and so does the cache of verified tokens (``token_cache``), through
``TokenCodec.check_times``: a token is current exactly when the decoder would take it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import bcrypt

from server.chat.kernel.errors import ChatError, ErrorCode

ALGORITHM = "HS256"
# bcrypt never accepts more than 72 bytes; bcrypt>=5 raises instead of truncating.
MAX_PASSWORD_BYTES = 72


class PasswordHasher:
    """bcrypt with a configurable cost, off the event loop."""

    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds
        self._dummy: bytes | None = None

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self.rounds)
        digest = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
        return digest.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Check ``password``; with no hash (unknown user) still spend one bcrypt check."""
        known = hashed is not None
        if hashed is None:
            hashed = await self._dummy_hash()
        raw = password.encode()
        if len(raw) > MAX_PASSWORD_BYTES:
            raw = b""  # never matches a stored hash; keeps the timing of a real check
        ok = await asyncio.to_thread(bcrypt.checkpw, raw, hashed.encode())
        return ok and known and len(password.encode()) <= MAX_PASSWORD_BYTES

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = (await self.hash("parley-dummy-password")).encode()
        return self._dummy.decode()


# The latest instant ``datetime`` can hold; a later ``exp`` is not a time but an attack.
LATEST = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp())
MAX_ID = 2**63 - 1
MAX_SID = 32  # a session's id (``db/accounts/sessions.py``)


@dataclass(frozen=True, slots=True)  # slots: the token cache keeps one per token
class Claims:
    user_id: int
    version: int
    issued_at: datetime
    expires_at: datetime | None  # None: an API token (PROTOCOL.md section 12), which never expires
    session_id: str | None = None  # the session it was issued to (PROTOCOL.md section 19), if any
    app: bool = False  # signed by the application (PROTOCOL.md section 17), not by this server


class TokenCodec:
    """Issue and check tokens with one secret, one lifetime and one clock (seconds since the epoch)."""

    def __init__(self, secret: str, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.ttl = ttl_seconds
        self.clock = clock

    def sign(self, purpose: str, message: str) -> str:
        """An HMAC-SHA256 of ``message`` under this codec's secret, kept apart from the tokens'
        signatures by ``purpose``: values only this server could have made (a refresh cookie's
        secret of any generation, ``sessions.py``), checked again without storing them."""
        key = hmac.new(self._secret.encode(), purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def issue(
        self, user_id: int, version: int, ttl_seconds: int | None = None, session_id: str | None = None
    ) -> tuple[str, datetime]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        expires = now + timedelta(seconds=self.ttl if ttl_seconds is None else ttl_seconds)
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "ver": version,
        }
        if session_id is not None:
            payload["sid"] = session_id
        import jwt  # here: pyjwt (and cryptography under it) would cost every `parley` command's start

        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), expires

    def decode(self, token: str) -> Claims:
        """Raises ChatError ``token_expired`` or ``unauthorized``."""
        import jwt

        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                # The times are judged below, on this codec's clock (pyjwt reads its own).
                options={"require": ["exp", "iat", "sub", "ver"], "verify_exp": False, "verify_iat": False},
            )
        except (jwt.PyJWTError, UnicodeEncodeError) as exc:  # a lone surrogate is no token either
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid") from exc
        # Where pyjwt judged them: an expired token is told so before its claims' types are checked.
        self.check_times(payload["iat"], payload["exp"])
        exp, iat, sub, ver = payload["exp"], payload["iat"], payload["sub"], payload["ver"]
        if not (_in_range(exp, LATEST) and _in_range(iat, LATEST) and _in_range(ver, MAX_ID)):
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        if not (isinstance(sub, str) and len(sub) <= 19 and sub.isascii() and sub.isdigit()):
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        if not 0 < int(sub) <= MAX_ID:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        sid = payload.get("sid")
        if sid is not None and not (isinstance(sid, str) and 0 < len(sid) <= MAX_SID and sid.isascii()):
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        return Claims(
            user_id=int(sub),
            version=ver,
            issued_at=datetime.fromtimestamp(iat, UTC),
            expires_at=datetime.fromtimestamp(exp, UTC),
            session_id=sid,
        )

    def check_times(self, issued_at: Any, expires_at: Any) -> None:
        """pyjwt's rule with no leeway, on ``clock``: ``token_expired`` once ``exp <= now``, and
        ``unauthorized`` for an ``iat`` still to come (a clock behind the issuer's) or a time that
        is no integer. The decoder and the cache of verified tokens both judge by it."""
        now = self.clock()
        try:
            iat, exp = int(issued_at), int(expires_at)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid") from exc
        if iat > now:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        if exp <= now:
            raise ChatError(ErrorCode.TOKEN_EXPIRED, "the token has expired; log in again")


def _in_range(value: object, highest: int) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= highest
