"""Sessions that last (PROTOCOL.md section 19): a refresh cookie per sign-in, turned over at every
use, with reuse detection (OAuth 2.0 Security BCP, section 4.14).

A password login, a sign-up and single sign-on's code exchange open a session and hand the edge
its refresh cookie, ``<session id>.<generation>.<secret>``; the access token carries the session
id (``sid``). ``refresh`` takes the cookie alone: for the current generation it turns the cookie
over (a compare-and-set on the generation, so two nodes cannot both turn it) and answers a new
access token and the new cookie. A cookie of an older generation is a replay (a stolen copy, or
the victim's own after the thief used it): the whole session ends and the answer is
``unauthorized``. Each generation's secret is an HMAC of the session id and the generation under
the server's secret (``TokenCodec.sign``), so a cookie of any older generation is known for one
the server made: a made-up one (a session id is in every access token, expired ones too) is
refused and ends nothing. The database keeps only hashes of the current and previous secrets.
One exception, for two tabs of one browser refreshing at the same moment with
the same cookie: the generation just replaced, presented within ``grace`` seconds of its turn,
gets a new access token and no new cookie (the browser keeps the one the winner set).

Ending a session (``end``, ``logout``, a password change or reset) marks it in the database and
records ``SessionEnded``: every node's ``EndedSessions`` (a hub sink) refuses the access tokens
that carry its id from then on (``token_revoked``), and the realtime sink closes the sockets that
connected with them. ``EndedSessions`` keeps only what an access token could still need: the
sessions ended within one token lifetime, read from the database at start and after missed news.

Errors: ``unauthorized`` (no, a bad, an ended, an expired or a replayed cookie; a disabled
account), ``not_found`` (``end`` of a session that is not the caller's or no longer open).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from db.accounts.sessions import SessionRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts.schemas import SessionOut, TokenOut
from server.chat.accounts.security import MAX_SID, TokenCodec
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode, not_found
from server.chat.kernel.events import Event, NewsMissed, SessionEnded
from server.chat.kernel.views import iso_required

NO_SESSION = "no session: sign in again"
ENDED = "the session has ended; sign in again"
REPLAYED = "this refresh cookie was used already: the session is ended for safety; sign in again"
DEFAULT_GRACE = 10.0  # seconds the cookie just replaced still gets a token (two tabs at once)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Cookie:
    session_id: str
    generation: int
    secret: str

    def __str__(self) -> str:
        return f"{self.session_id}.{self.generation}.{self.secret}"

    @classmethod
    def parse(cls, value: str | None) -> Cookie:
        """``unauthorized`` for anything that is not a cookie of ours' shape."""
        parts = (value or "").split(".")
        if len(parts) != 3:
            raise ChatError(ErrorCode.UNAUTHORIZED, NO_SESSION)
        session_id, generation, secret = parts
        if not (0 < len(session_id) <= MAX_SID and session_id.isascii() and 0 < len(secret) <= 128):
            raise ChatError(ErrorCode.UNAUTHORIZED, NO_SESSION)
        if not (generation.isascii() and generation.isdigit() and 0 < len(generation) <= 9):
            raise ChatError(ErrorCode.UNAUTHORIZED, NO_SESSION)
        if int(generation) < 1:  # generations start at 1: a 0 is no replay, only a forgery
            raise ChatError(ErrorCode.UNAUTHORIZED, NO_SESSION)
        return cls(session_id, int(generation), secret)


@dataclass(frozen=True)
class Opened:
    """What a sign-in or a refresh gives: the access token and, unless the browser keeps the one it
    has (a refresh within the grace), the new refresh cookie and how long it lasts."""

    token: TokenOut
    cookie: str | None
    max_age: int
    session_id: str


class EndedSessions:
    """The sessions ended lately, by id (a hub sink: ``SessionEnded``, ``NewsMissed``): an access
    token carrying one of them is refused. Kept ``keep`` seconds (one access token lifetime and a
    margin): a token issued before the end has expired by then."""

    def __init__(self, db: Database, keep: float) -> None:
        self.db = db
        self.keep = keep
        self._ended: dict[str, float] = {}  # id -> when it ended (monotonic)
        self._pruned = time.monotonic()

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._ended

    def add(self, session_id: str) -> None:
        now = time.monotonic()
        self._ended[session_id] = now
        if now - self._pruned > self.keep:
            self._pruned = now
            self._ended = {key: at for key, at in self._ended.items() if now - at <= self.keep}

    async def load(self) -> None:
        """Read the sessions ended within ``keep`` (at start, and after missed news)."""
        since = datetime.now(UTC) - timedelta(seconds=self.keep)
        async with self.db.read() as repos:
            ended = await repos.sessions.revoked_since(since)
        for session_id, _when in ended:
            self.add(session_id)

    async def deliver(self, event: Event) -> None:
        if isinstance(event, SessionEnded):
            self.add(event.session_id)
        elif isinstance(event, NewsMissed):
            await self.load()


class SessionService:
    def __init__(
        self,
        db: Database,
        tokens: TokenCodec,
        ended: EndedSessions,
        days: int,
        grace: float = DEFAULT_GRACE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.ended = ended
        self.days = days  # PARLEY_SESSION_DAYS: a session lasts this long since its last use
        self.grace = grace
        self.clock = clock

    @property
    def max_age(self) -> int:
        return self.days * 86400

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def open(self, user_id: int, token_version: int, user_agent: str = "", address: str = "") -> Opened:
        """A new session of the user (signed in just now): its first cookie and access token."""
        now = self._now()
        session_id = secrets.token_urlsafe(16)
        secret = self._secret(session_id, 1)
        record = SessionRecord(
            id=session_id,
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(days=self.days),
            revoked_at=None,
            user_agent=user_agent,
            address=address,
            generation=1,
            secret_hash=digest(secret),
            previous_hash=None,
            rotated_at=None,
        )
        async with self.db.write() as repos:
            await repos.sessions.add(record)
        cookie = Cookie(record.id, record.generation, secret)
        return self._opened(user_id, token_version, record.id, str(cookie))

    def _opened(self, user_id: int, version: int, session_id: str, cookie: str | None) -> Opened:
        token, expires = self.tokens.issue(user_id, version, session_id=session_id)
        return Opened(
            TokenOut(token=token, expires_at=iso_required(expires)), cookie, self.max_age, session_id
        )

    async def refresh(self, value: str | None) -> Opened:
        """A new access token for a refresh cookie, and the cookie turned over (see the module)."""
        cookie = Cookie.parse(value)
        presented = digest(cookie.secret)
        for _attempt in range(2):  # once more when a racing refresh turned it between read and write
            now = self._now()
            async with self.db.read() as repos:
                found = await repos.sessions.get(cookie.session_id)
                user = None if found is None else await repos.users.by_id(found.user_id)
            if found is None or found.revoked_at is not None or found.expires_at <= now:
                raise ChatError(ErrorCode.UNAUTHORIZED, ENDED)
            if user is None or user.disabled_at is not None or user.deleted_at is not None:
                raise ChatError(ErrorCode.UNAUTHORIZED, ENDED)
            if cookie.generation == found.generation and hmac.compare_digest(presented, found.secret_hash):
                secret = self._secret(found.id, found.generation + 1)
                async with self.db.write() as repos:
                    turned = await repos.sessions.rotate(
                        found.id, found.generation, digest(secret), now, now + timedelta(days=self.days)
                    )
                if turned:
                    fresh = Cookie(found.id, found.generation + 1, secret)
                    return self._opened(user.id, user.token_version, found.id, str(fresh))
                continue  # another refresh turned it first: judged again as the previous one
            if self._within_grace(cookie, presented, found, now):
                return self._opened(user.id, user.token_version, found.id, None)
            if cookie.generation < found.generation and self._made(cookie):
                await self._end(found.user_id, found.id)
                raise ChatError(ErrorCode.UNAUTHORIZED, REPLAYED)
            break
        raise ChatError(ErrorCode.UNAUTHORIZED, NO_SESSION)

    def _secret(self, session_id: str, generation: int) -> str:
        """The refresh secret of a session's generation (see the module)."""
        return self.tokens.sign("parley-refresh", f"{session_id}.{generation}")

    def _made(self, cookie: Cookie) -> bool:
        """Whether this server made the cookie (of whatever generation)."""
        return hmac.compare_digest(cookie.secret, self._secret(cookie.session_id, cookie.generation))

    def _within_grace(self, cookie: Cookie, presented: str, found: SessionRecord, now: datetime) -> bool:
        return (
            cookie.generation == found.generation - 1
            and found.previous_hash is not None
            and hmac.compare_digest(presented, found.previous_hash)
            and found.rotated_at is not None
            and (now - found.rotated_at).total_seconds() <= self.grace
        )

    async def _end(self, user_id: int, session_id: str) -> bool:
        async with self.db.write() as repos:
            ended = await repos.sessions.revoke(session_id, self._now(), user_id)
            if ended is not None:
                repos.record(SessionEnded(user_id, session_id))
        return ended is not None

    async def listed(self, actor: Actor) -> list[SessionOut]:
        async with self.db.read() as repos:
            found = await repos.sessions.live_of(actor.id, self._now())
        return [
            SessionOut(
                id=record.id,
                created_at=iso_required(record.created_at),
                last_used_at=iso_required(record.last_used_at),
                user_agent=record.user_agent,
                address=record.address,
                current=record.id == actor.session_id,
            )
            for record in found
        ]

    async def end(self, actor: Actor, session_id: str) -> None:
        """Sign one of the caller's sessions out (``DELETE /api/users/me/sessions/{id}``)."""
        if len(session_id) > MAX_SID or not await self._end(actor.id, session_id):
            raise not_found("no such session")

    async def end_others(self, actor: Actor) -> int:
        """Sign out every session of the caller but the one of this request: how many."""
        async with self.db.write() as repos:
            ended = await self.end_all(repos, actor.id, keep=actor.session_id)
        return len(ended)

    async def end_all(self, repos: Repositories, user_id: int, keep: str | None = None) -> list[str]:
        """In the caller's transaction (``repos``): end the user's open sessions (but ``keep``),
        their ends recorded for every node."""
        ended = await repos.sessions.revoke_all(user_id, self._now(), keep)
        repos.record(*(SessionEnded(user_id, session_id) for session_id in ended))
        return ended

    async def end_by_cookie(self, value: str | None, user_id: int | None = None) -> bool:
        """``POST /api/auth/logout``: end the session of a refresh cookie that is current (or just
        replaced), when it is ``user_id``'s (any user's: None). False when there was none to end."""
        try:
            cookie = Cookie.parse(value)
        except ChatError:
            return False
        async with self.db.read() as repos:
            found = await repos.sessions.get(cookie.session_id)
        if found is None or found.revoked_at is not None or user_id not in (None, found.user_id):
            return False
        presented = digest(cookie.secret)
        current = cookie.generation == found.generation and hmac.compare_digest(presented, found.secret_hash)
        if not current and not self._within_grace(cookie, presented, found, self._now()):
            return False
        return await self._end(found.user_id, found.id)

    async def end_current(self, actor: Actor) -> bool:
        """End the session of the caller's token, if it has one."""
        if actor.session_id is None:
            return False
        await self._end(actor.id, actor.session_id)
        return True
