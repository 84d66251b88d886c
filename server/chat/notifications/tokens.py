"""The signed links of email (PROTOCOL.md section 15), opened from a mail client without signing in.

Each is an HS256 JWT with the server's secret and a ``pur`` claim naming what it is for:
``email-verify`` (the user id, the address, the nonce of that link and ``exp``: 24 hours) and
``unsubscribe`` (the user id, the version of their email setting the mail was written under and
``exp``: 60 days). Turning email back on bumps that version, so a link from before it is void: a
link that never expired would let anyone holding an old mail turn email off again, for ever.
Login tokens
(``server.chat.accounts.security``) carry no ``pur`` and need a ``ver`` these lack, so neither
kind is ever taken for the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ALGORITHM = "HS256"
VERIFY, UNSUBSCRIBE = "email-verify", "unsubscribe"
VERIFY_TTL = timedelta(hours=24)
UNSUBSCRIBE_TTL = timedelta(days=60)


class LinkRefused(Exception):
    """A link that is not one of ours, not for this, or expired (``expired``)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("the link has expired" if expired else "the link is not valid")
        self.expired = expired


@dataclass(frozen=True)
class Unsubscription:
    user_id: int
    version: int  # of the user's email setting when the mail was written


@dataclass(frozen=True)
class Verification:
    user_id: int
    address: str
    nonce: str


class MailTokens:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verification(self, user_id: int, address: str, nonce: str, expires_at: datetime) -> str:
        claims = {"pur": VERIFY, "sub": str(user_id), "adr": address, "nce": nonce}
        return self._sign({**claims, "exp": int(expires_at.timestamp())})

    def unsubscribe(self, user_id: int, version: int, expires_at: datetime) -> str:
        return self._sign(
            {"pur": UNSUBSCRIBE, "sub": str(user_id), "ver": version, "exp": int(expires_at.timestamp())}
        )

    def read_verification(self, token: str) -> Verification:
        """Raises ``LinkRefused``."""
        claims = self._read(token, VERIFY, ["exp", "adr", "nce"])
        address, nonce = claims["adr"], claims["nce"]
        if not isinstance(address, str) or not isinstance(nonce, str):
            raise LinkRefused()
        return Verification(_user(claims), address, nonce)

    def read_unsubscribe(self, token: str) -> Unsubscription:
        """The user the link turns email off for, and the version it holds; raises ``LinkRefused``."""
        claims = self._read(token, UNSUBSCRIBE, ["exp", "ver"])
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 2**31:
            raise LinkRefused()
        return Unsubscription(_user(claims), version)

    def _sign(self, claims: dict[str, object]) -> str:
        import jwt  # here: pyjwt (and cryptography under it) would cost every `parley` command's start

        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def _read(self, token: str, purpose: str, required: list[str]) -> dict[str, object]:
        import jwt

        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["pur", "sub", *required]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise LinkRefused(expired=True) from exc
        except (jwt.PyJWTError, UnicodeEncodeError) as exc:
            raise LinkRefused() from exc
        if claims.get("pur") != purpose:
            raise LinkRefused()
        return dict(claims)


def _user(claims: dict[str, object]) -> int:
    sub = claims.get("sub")
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and 0 < len(sub) <= 18):
        raise LinkRefused()
    return int(sub)
