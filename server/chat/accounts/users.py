"""Accounts: registration, login, logout, token checks and profiles.

Errors: ``conflict`` (name taken, any case, by an account or by a public or private topic: topic
names and usernames are one namespace, PROTOCOL.md section 3), ``unauthorized`` (wrong name or
password: one answer for both, and an unknown user still costs one bcrypt
check), ``token_expired``, ``token_revoked`` (issued before the last logout; ``renew``, a
connection's token refresh, answers every failure ``unauthorized``),
``rate_limited`` with ``retry_after`` (too many sign-ups from one address, too many
failed logins from one address or for one account name),
``not_found`` (unknown profile), ``forbidden`` (registration and login by password when
``PARLEY_PASSWORD_LOGIN=off``: single sign-on only, PROTOCOL.md section 14; a sign-up the
workspace's door refuses, section 19: closed, invite-only without a code), ``invalid`` (an
invitation that is no longer valid). A disabled
account (``parley user disable``) gets ``unauthorized`` ("this account is disabled") from
``login`` with the right password and from ``authenticate``; ``issue_token`` refuses it with
``forbidden``.

A token names its account by id (``sub``) and its token version (``ver``). A new account's
version starts at a random number: SQLite hands the id of the newest row, once deleted, to
the next one, and a token of the deleted account must not open its successor (the chance
that both versions match is one in 2^30). Token checks remember each user's id, name and
token version (``KnownUsers``), so a reconnecting client costs no query, and each token that
verified (``token_cache.VerifiedTokens``), so it costs no signature check either; the user's
state and token version are checked on every call all the same. A logout here updates that
memory at once; a logout on another node reaches it as ``SessionsRevoked`` through the hub, and
a remembered user is looked up again after ``max_age`` seconds in any case.

A token the application signs (PROTOCOL.md section 17) names an issuer, which Parley's own never
do: only such a token goes to ``app_tokens`` (signature, times, the account by issuer + subject),
and only when one is configured, so Parley's tokens keep their path; its user is checked here as
a Parley token's is.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from db.errors import Conflict
from db.records import Credentials, UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.accounts import api_tokens
from server.chat.accounts.api_tokens import KnownTokens
from server.chat.accounts.schemas import LoginIn, RegisteredOut, RegisterIn, TokenOut, UserOut
from server.chat.accounts.security import Claims, PasswordHasher, TokenCodec
from server.chat.accounts.sessions import EndedSessions, Opened, SessionService
from server.chat.accounts.token_cache import VerifiedTokens
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import ChatError, ErrorCode, conflict, forbidden, not_found, rate_limited
from server.chat.kernel.events import Event, NewsMissed, RoleChanged, SessionsRevoked, TokenRevoked
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import iso_required
from server.chat.rules.blocking import Blocks
from server.chat.rules.workspace import OWNER

WRONG_CREDENTIALS = "wrong username or password"
DISABLED = "this account is disabled; ask an operator to enable it"
NOTHING_TO_REFRESH = "an API token does not expire: there is nothing to refresh"
# A Parley token made from the application's would outlive what the application chose to sign.
APP_REFRESHES = "your application signed this token: ask it for a new one"
PASSWORDS_OFF = "signing in with a password is turned off on this server; use single sign-on"
# A new account's first token version: random below 2^30, leaving 2^30 logouts of room in the
# 32-bit column.
FIRST_VERSIONS = 2**30


Joiner = Callable[[int], Awaitable[None]]
CredentialsRead = Callable[[int], Awaitable[Credentials | None]]  # a user's credentials, or None
Admit = Callable[[Repositories, UserRecord], Awaitable[None]]


@dataclass(frozen=True)
class Known:
    """What a token check needs of a user, and when it was read."""

    id: int
    username: str
    token_version: int
    read_at: float
    active: bool = True
    bot: bool = False
    tokens_revoked_at: float | None = None  # epoch seconds: the application's tokens issued before


class KnownUsers:
    """Users whose tokens were checked lately, by id (a hub sink too).

    Forgetting a user also voids lookups already under way, so a read that started before
    a logout can never put the old token version back.
    """

    def __init__(self, max_age: float, max_size: int = 100_000) -> None:
        self.max_age = max_age
        self.max_size = max_size
        self._by_id: dict[int, Known] = {}
        self._forgotten = 0

    def get(self, user_id: int) -> Known | None:
        known = self._by_id.get(user_id)
        if known is None or time.monotonic() - known.read_at > self.max_age:
            return None
        return known

    def generation(self) -> int:
        return self._forgotten

    def remember(self, user: Credentials, since: int) -> Known:
        """Keep ``user`` unless someone was forgotten since generation ``since``. A disabled user is
        not kept: their (rare, refused) attempts read the database, so ``enable`` counts at once."""
        revoked = None if user.tokens_revoked_at is None else user.tokens_revoked_at.timestamp()
        known = Known(
            user.id, user.username, user.token_version, time.monotonic(), user.active, user.bot, revoked
        )
        if since == self._forgotten and user.active:
            if len(self._by_id) >= self.max_size:
                self._by_id.clear()
            self._by_id[user.id] = known
        return known

    def forget(self, user_id: int) -> None:
        self._forgotten += 1
        self._by_id.pop(user_id, None)

    async def deliver(self, event: Event) -> None:
        if isinstance(event, SessionsRevoked):
            self.forget(event.user_id)
        elif isinstance(event, NewsMissed):  # a logout may have been missed: read each user again
            self._forgotten += 1
            self._by_id.clear()


@dataclass(frozen=True)
class Joining:
    """How a new account comes in, for the workspace's door (PROTOCOL.md section 19): the invite
    code given, the address known (single sign-on's verified email claim), by single sign-on."""

    invite: str | None = None
    email: str | None = None
    sso: bool = False


class Door(Protocol):
    """Who may join the workspace (the port; ``server.chat.workspace.door.Door`` is it), so that
    accounts name no capability above them."""

    async def admit(self, repos: Repositories, user: UserRecord, joining: Joining) -> None:
        """In the new account's own transaction: refuse it (``forbidden``, ``invalid``) or admit
        it, counting its invite's use and joining the invite's topics."""
        ...

    async def claim(self, joining: Joining, username: str, password: str) -> UserRecord | None:
        """The account an admin made for an invite, given its password, when ``joining``'s code
        is such an invite for ``username``; None for any other code."""
        ...

    async def registration(self) -> str:
        """``open``, ``invite`` or ``closed``, as stored now (``GET /api/auth/methods``)."""
        ...


class AppTokenCheck(Protocol):
    """Tokens the application signs (PROTOCOL.md section 17; ``app_tokens.AppTokens`` is it)."""

    def claims_to_be(self, token: str) -> bool:
        """Whether ``token`` is the application's to check (a cheap look, no verification)."""
        ...

    async def user_of(self, token: str) -> tuple[int, datetime | None, datetime]:
        """The account's id, the token's issue time and expiry; ``unauthorized``, ``token_expired``."""
        ...


class Presence(Protocol):
    """What a profile needs of presence: a port (``server.chat.presence.service.PresenceService``
    is it), so that accounts name no other capability's service."""

    blocks: Blocks | None

    async def is_online(self, user_id: int) -> bool: ...


class UserService:
    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        presence: Presence,
        register_limit: SharedLimit,
        login_limit: SharedLimit,
        account_limit: SharedLimit,
        token_cache_age: float = 10.0,
        password_login: bool = True,
    ) -> None:
        self.db = db
        self.hasher = hasher
        self.tokens = tokens
        self.presence = presence
        self.register_limit = register_limit
        self.login_limit = login_limit  # failed logins per address
        self.account_limit = account_limit  # failed logins per account name (known or not)
        self.password_login = password_login  # PARLEY_PASSWORD_LOGIN (off: register, login refused)
        self.on_registered: list[Joiner] = []
        self.doors: list[Door] = []  # who may join (PROTOCOL.md section 19; the workspace's)
        self.known = KnownUsers(token_cache_age)  # the composition root attaches it to the hub
        self.known_tokens = KnownTokens(token_cache_age)  # API tokens (section 12), attached too
        self.verified = VerifiedTokens(tokens)  # JWTs whose signature and claims passed
        self.app_tokens: AppTokenCheck | None = None  # section 17: set when the application signs
        # Sessions that last (PROTOCOL.md section 19): those ended lately (a hub sink, attached by
        # the composition root), and the service that opens them (set by ``assembly.build``).
        self.ended = EndedSessions(db, tokens.ttl + 60.0)
        self.sessions: SessionService | None = None

    async def register(self, data: RegisterIn, source: str = "") -> RegisteredOut:
        if not self.password_login:
            raise forbidden(PASSWORDS_OFF)
        wait = await self.register_limit.take(source)
        if wait > 0:
            raise rate_limited("too many sign-ups from this address; try later", wait)
        joining = Joining(invite=data.invite)
        user = await self._claimed(joining, data) or await self.create(
            data.username, data.password, joining=joining
        )
        token, expires = self.tokens.issue(user.id, user.token_version)
        return RegisteredOut(
            user=UserOut(username=user.username), token=token, expires_at=iso_required(expires)
        )

    async def _claimed(self, joining: Joining, data: RegisterIn) -> UserRecord | None:
        for door in self.doors if joining.invite else ():
            user = await door.claim(joining, data.username, data.password)
            if user is not None:
                return user
        return None

    async def create(
        self, username: str, password: str, by: Doer | None = None, joining: Joining | None = None
    ) -> UserRecord:
        """Store a new user (also used by the ``parley user create`` command, whose ``by`` makes
        an audit row: a sign-up has none). ``joining``: a sign-up, which the workspace's doors
        admit or refuse (PROTOCOL.md section 19); None, an operator's or an admin's account."""
        noted = (Acted(by, "user.create", username),) if by is not None else ()
        admit = None if joining is None else self._door(joining)
        user = await self.add_account(username, await self.hasher.hash(password), noted=noted, admit=admit)
        for join in self.on_registered:
            await join(user.id)
        return user

    async def add_account(
        self,
        username: str,
        password_hash: str,
        owner_id: int | None = None,
        noted: Sequence[object] = (),
        admit: Admit | None = None,
    ) -> UserRecord:
        """Store an account under a name free among users and topics (``conflict`` otherwise); with
        ``owner_id``, a bot (``server.chat.integrations.bots``), whose ``password_hash`` matches no
        password. ``noted``: facts of the creation (its audit row), in its transaction."""
        version = secrets.randbelow(FIRST_VERSIONS) + 1
        try:
            async with self.db.write() as repos:
                await repos.names.claim(username)  # one namespace with topics (db/conversations/names.py)
                if await repos.names.user_holds(username) or await repos.names.topic_holds(username):
                    raise conflict(f"the username {username!r} is taken")
                repos.note(*noted)
                user = await repos.users.add(username, password_hash, datetime.now(UTC), version, owner_id)
                if admit is not None:
                    await admit(repos, user)  # refused: the account goes with the rollback
                return user if user.bot else await owns_if_first(repos, user)
        except Conflict as exc:
            raise conflict(f"the username {username!r} is taken") from exc

    def _door(self, joining: Joining) -> Admit:
        async def admit(repos: Repositories, user: UserRecord) -> None:
            for door in self.doors:
                await door.admit(repos, user, joining)

        return admit

    def _sessions(self) -> SessionService:
        assert self.sessions is not None, "accounts.build attaches it"
        return self.sessions

    async def login_session(self, data: LoginIn, source: str = "", user_agent: str = "") -> Opened:
        """``login``, opening a session that lasts (PROTOCOL.md section 19)."""
        user = await self._checked_login(data, source)
        return await self._sessions().open(user.id, user.token_version, user_agent, source)

    async def login(self, data: LoginIn, source: str = "") -> TokenOut:
        """A token for the right password. Each attempt takes a token from the address's and the
        account name's failure budgets; a successful one (or one that broke) gives them back."""
        user = await self._checked_login(data, source)
        token, expires = self.tokens.issue(user.id, user.token_version)
        return TokenOut(token=token, expires_at=iso_required(expires))

    async def _checked_login(self, data: LoginIn, source: str) -> UserRecord:
        """The account of a right password, the failure budgets taken and given back (``login``)."""
        if not self.password_login:
            raise forbidden(PASSWORDS_OFF)
        account = data.username.lower()
        await self._admit(source, account)
        try:
            user = await self._verify(data)
        except ChatError:
            raise  # a failed login: it stays counted
        except BaseException:
            await self._give_back(source, account)
            raise
        await self._give_back(source, account)
        return user

    async def _admit(self, source: str, account: str) -> None:
        wait = await self.login_limit.take(source)
        if wait > 0:
            raise rate_limited("too many failed logins from this address; try later", wait)
        wait = await self.account_limit.take(account)
        if wait > 0:
            await self.login_limit.give_back(source)
            raise rate_limited("too many failed logins for this account; try later", wait)

    async def _give_back(self, source: str, account: str) -> None:
        await self.login_limit.give_back(source)
        await self.account_limit.give_back(account)

    async def _verify(self, data: LoginIn) -> UserRecord:
        async with self.db.read() as repos:
            user = await repos.users.by_name(data.username)
        # A bot has no password (PROTOCOL.md section 12): the same check and answer as a wrong one.
        ok = await self.hasher.verify(data.password, user.password_hash if user and not user.bot else None)
        if user is None or user.bot or not ok:
            raise ChatError(ErrorCode.UNAUTHORIZED, WRONG_CREDENTIALS)
        if user.disabled_at is not None:
            raise ChatError(ErrorCode.UNAUTHORIZED, DISABLED)
        return user

    async def logout(self, actor: Actor) -> None:
        """Revoke every token issued to the user so far and close their open sockets. A bot's
        tokens are API tokens, which no token version covers: each is revoked (closing its
        sockets and leaving every node's token cache, ``TokenRevoked``)."""
        async with self.db.write() as repos:
            await repos.users.bump_token_version(actor.id)
            if actor.bot:
                for token_id in await repos.bots.revoke_tokens(actor.id, datetime.now(UTC)):
                    repos.record(TokenRevoked(actor.id, token_id))
            # Published after the commit; ``known`` (a hub sink) forgets the user on it.
            repos.record(SessionsRevoked(actor.id))

    async def authenticate(self, token: str | None) -> Actor:
        return (await self.verify(token))[0]

    async def verify(self, token: str | None, read: CredentialsRead | None = None) -> tuple[Actor, Claims]:
        """The user behind a valid token, and the token's claims (its expiry, its version).

        ``read``: how the user's credentials are read when they are not in memory (by default
        alone); a connect reads them with the rest of what it needs of its user, in one statement.
        """
        if not token:
            raise ChatError(ErrorCode.UNAUTHORIZED, "a token is required")
        if api_tokens.is_api_token(token):
            return await self._verify_api_token(token, read)
        apps = self.app_tokens
        if apps is not None and token not in self.verified and apps.claims_to_be(token):
            return await self._verify_app_token(apps, token, read)
        claims = self.verified.decode(token)
        user = self.known.get(claims.user_id) or await self._look_up(claims.user_id, read)
        if user is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        if not user.active:
            raise ChatError(ErrorCode.UNAUTHORIZED, DISABLED)
        if claims.version != user.token_version:
            raise ChatError(ErrorCode.TOKEN_REVOKED, "the token was revoked by a logout; log in again")
        if claims.session_id is not None and claims.session_id in self.ended:
            raise ChatError(ErrorCode.TOKEN_REVOKED, "this session was signed out; sign in again")
        return Actor(id=user.id, username=user.username, bot=user.bot, session_id=claims.session_id), claims

    async def _verify_api_token(self, token: str, read: CredentialsRead | None) -> tuple[Actor, Claims]:
        """A bot's API token (PROTOCOL.md section 12): known by its hash, never expiring (claims
        without ``expires_at``); revoked or unknown is ``unauthorized``."""
        token_hash = api_tokens.digest(token)
        found = self.known_tokens.get(token_hash)
        if found is None:
            since = self.known_tokens.generation()
            async with self.db.read() as repos:
                record = await repos.bots.token_by_hash(token_hash)
            if record is None:
                raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
            found = self.known_tokens.remember(token_hash, record.id, record.user_id, since)
        user = self.known.get(found.user_id) or await self._look_up(found.user_id, read)
        if user is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        if not user.active:
            raise ChatError(ErrorCode.UNAUTHORIZED, DISABLED)
        actor = Actor(id=user.id, username=user.username, bot=user.bot, token_id=found.id)
        now = datetime.now(UTC)
        return actor, Claims(user_id=user.id, version=user.token_version, issued_at=now, expires_at=None)

    async def _verify_app_token(
        self, apps: AppTokenCheck, token: str, read: CredentialsRead | None
    ) -> tuple[Actor, Claims]:
        """A token the application signed (PROTOCOL.md section 17): its account, checked as a
        Parley token's is (disabled or deleted: ``unauthorized``). It carries no token version: a
        revocation (a logout, the server API's disconnect with ``revoke``) refuses the ones issued
        (``iat``) up to its moment, and every one without ``iat``; the application signs new ones."""
        user_id, issued_at, expires_at = await apps.user_of(token)
        user = self.known.get(user_id) or await self._look_up(user_id, read)
        if user is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is not valid")
        if not user.active:
            raise ChatError(ErrorCode.UNAUTHORIZED, DISABLED)
        revoked = user.tokens_revoked_at
        if revoked is not None and (issued_at is None or issued_at.timestamp() <= revoked):
            raise ChatError(
                ErrorCode.TOKEN_REVOKED, "the token was revoked; ask your application for a new one"
            )
        actor = Actor(id=user.id, username=user.username, bot=user.bot)
        issued = issued_at or datetime.now(UTC)  # a token without ``iat``: seen now
        return actor, Claims(user.id, user.token_version, issued, expires_at, app=True)

    async def refresh(self, token: str | None) -> TokenOut:
        """A new token for the user of a valid ``token`` (``POST /api/auth/refresh``), of the same
        token version: the logout that revokes one revokes both, even one racing this call. An API
        token is ``unauthorized`` here: it never expires, and a JWT made from it would outlive its
        revocation; so is a token the application signed (section 17): it asks its application."""
        _, claims = await self.verify(token)
        if claims.expires_at is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, NOTHING_TO_REFRESH)
        if claims.app:
            raise ChatError(ErrorCode.UNAUTHORIZED, APP_REFRESHES)
        fresh, expires = self.tokens.issue(claims.user_id, claims.version, session_id=claims.session_id)
        return TokenOut(token=fresh, expires_at=iso_required(expires))

    async def renew(self, actor: Actor, token: str | None) -> datetime:
        """When ``token`` expires, for an open connection of ``actor`` that takes it in place of
        its own (``auth:refresh``, PROTOCOL.md 10). Anything but a valid token of that same user
        is ``unauthorized`` (an expired or revoked one too: the connection keeps its token)."""
        try:
            found, claims = await self.verify(token)
        except ChatError as exc:
            raise ChatError(ErrorCode.UNAUTHORIZED, exc.message) from None
        if found.id != actor.id:
            raise ChatError(ErrorCode.UNAUTHORIZED, "the token is another user's")
        if claims.expires_at is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, NOTHING_TO_REFRESH)
        return claims.expires_at

    async def _look_up(self, user_id: int, read: CredentialsRead | None = None) -> Known | None:
        since = self.known.generation()
        user = await (read or self.db.reads.credentials)(user_id)
        return None if user is None else self.known.remember(user, since)

    async def issue_token(self, username: str, ttl_seconds: int | None = None) -> TokenOut:
        """A token without a password, for operators (``parley token``)."""
        async with self.db.read() as repos:
            user = await repos.users.by_name(username)
        if user is None or user.deleted_at is not None:
            raise not_found(f"no user named {username!r}")
        if user.disabled_at is not None:
            raise forbidden(f"{user.username!r} is disabled: enable the account first")
        token, expires = self.tokens.issue(user.id, user.token_version, ttl_seconds)
        return TokenOut(token=token, expires_at=iso_required(expires))


async def owns_if_first(repos: Repositories, user: UserRecord) -> UserRecord:
    """A new human account in its creating transaction: the owner of a workspace nobody owns yet
    (the first account of an empty server, PROTOCOL.md section 19), told to every node's
    ``Roles`` once committed."""
    if not await repos.users.claim_first_owner(user.id):
        return user
    repos.record(RoleChanged(user.id, OWNER))
    return replace(user, role=OWNER)
