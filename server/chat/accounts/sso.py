"""Single sign-on with OpenID Connect (PROTOCOL.md section 14): the provider port and the service.

``IdentityProvider`` is the port (``server/adapters/oidc.py`` implements it with the provider's
discovery document, its token endpoint and its published keys): it builds the authorization URL
and turns an authorization code into the provider's checked ``Identity``, raising
``IdentityRefused`` for every failure. ``SingleSignOn`` is the flow around it:

- ``start``: a random ``state``, ``nonce`` and PKCE verifier, kept in ``oidc_flows`` for ten
  minutes; the answer is the provider's URL (it carries the verifier's S256 challenge only). Anyone
  may start, unsigned: a client address gets ``oidc_starts_per_hour`` starts (a burst of as many,
  then ``rate_limited``), and the rows under way are bounded (``oidc_pending_flows``: each start
  sweeps the expired ones and drops the oldest past the bound, whose callback is then refused).
- ``finish`` (the callback): only in the browser that started it (the transport hands in the
  ``state`` it kept there); the flow of ``state`` is taken once, on whichever node the callback
  lands; an unknown, used or expired one, a provider's error, a missing code or any failure of
  the code exchange and the ID token's checks is ``unauthorized`` and makes no account. The
  account is the one linked to the provider's ``iss`` + ``sub`` (``identities``), or a new one
  (``sso_names``: never an existing account found by its name or email), which the workspace's
  door admits in its own transaction (PROTOCOL.md section 19: ``forbidden`` when registration is
  closed or invite-only, or the verified email is outside the allowed domains). The answer is a one-time
  code (only its SHA-256 is stored, 60 s, usable once) for the page, never a token.
- ``exchange``: the one-time code for a token, as a login answers; a used, expired or unknown one
  is ``unauthorized``. A disabled or deleted account is ``unauthorized`` at both steps.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import AfterValidator, StringConstraints

from db.errors import Conflict
from db.records import SignInFlow, UserRecord
from db.uow import Database
from server.chat.accounts.schemas import TokenOut
from server.chat.accounts.sessions import Opened
from server.chat.accounts.sso_names import candidates, display_name, username_base
from server.chat.accounts.users import DISABLED, FIRST_VERSIONS, Joining, UserService, owns_if_first
from server.chat.accounts.words import words_of
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import ChatError, ErrorCode, not_found, rate_limited
from server.chat.kernel.schemas import In, Out, check_text
from server.chat.kernel.views import iso_required

logger = logging.getLogger(__name__)

FLOW_TTL = timedelta(minutes=10)
CODE_TTL = timedelta(seconds=60)
MAX_KEY = 255  # the identities' columns
MAX_INVITE = 128  # an invitation code's longest (``schemas.InviteCode``)
START_AGAIN = "the sign-in is unknown, used or expired; start it again"
BAD_CODE = "the sign-in code is unknown, used or expired; sign in again"
NOT_HERE = "this sign-in was not started in this browser; start it again"


@dataclass(frozen=True)
class Identity:
    """The provider's user, from an ID token whose signature and claims were checked."""

    issuer: str
    subject: str
    preferred_username: str | None = None
    name: str | None = None
    email: str | None = None  # the ``email`` claim, only when ``email_verified`` is true (section 19)


class IdentityRefused(Exception):
    """The provider's answer is not accepted: ``reason`` is short and safe to show (no secret, no
    token), ``detail`` is for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class IdentityProvider(Protocol):
    """An OpenID Connect provider (the port; ``server.adapters.oidc`` is it)."""

    @property
    def name(self) -> str: ...

    async def authorize_url(self, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        """Where the browser signs in: the authorization code flow with PKCE (S256 of
        ``verifier``), ``state`` and ``nonce``."""
        ...

    async def identify(self, code: str, verifier: str, nonce: str, redirect_uri: str) -> Identity:
        """Exchange ``code`` and check the ID token (signature, ``iss``, ``aud``, ``exp``, ``iat``,
        ``nonce``); ``IdentityRefused`` for any failure."""
        ...

    async def close(self) -> None: ...


class OidcMethodOut(Out):
    name: str


class MethodsOut(Out):
    """``GET /api/auth/methods``: how one may sign in here."""

    password: bool
    oidc: OidcMethodOut | None
    registration: str = "open"  # PROTOCOL.md section 19: open, invite or closed


class CodeIn(In):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(check_text)]


class SingleSignOn:
    def __init__(
        self,
        db: Database,
        users: UserService,
        provider: IdentityProvider | None,
        password_login: bool,
        start_limit: SharedLimit,
        max_flows: int,
    ) -> None:
        self.db = db
        self.users = users
        self.provider = provider
        self.password_login = password_login
        self.start_limit = start_limit  # sign-ins started per client address
        self.max_flows = max_flows  # sign-ins under way at once

    async def methods(self) -> MethodsOut:
        oidc = OidcMethodOut(name=self.provider.name) if self.provider is not None else None
        registration = "open"
        for door in self.users.doors:  # the workspace's (PROTOCOL.md section 19), as stored now
            registration = await door.registration()
        return MethodsOut(password=self.password_login, oidc=oidc, registration=registration)

    def _provider(self) -> IdentityProvider:
        if self.provider is None:
            raise not_found("single sign-on is not configured on this server")
        return self.provider

    async def start(self, redirect_uri: str, source: str = "", invite: str | None = None) -> str:
        """A new sign-in: the provider's authorization URL to send the browser to. ``rate_limited``
        past the client address ``source``'s budget of starts (``not_found`` when off). ``invite``:
        an invitation's code, which a new account made at the callback joins by (section 19); too
        long a code is ``invalid`` here, an unusable one is refused at the callback."""
        if invite is not None and not 0 < len(invite) <= MAX_INVITE:
            raise ChatError(ErrorCode.INVALID, "the invitation's code is not valid")
        provider = self._provider()
        wait = await self.start_limit.take(source)
        if wait > 0:
            raise rate_limited("too many sign-ins started from this address; try later", wait)
        now = datetime.now(UTC)
        flow = SignInFlow(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),  # 86 characters: RFC 7636 wants 43-128
            expires_at=now + FLOW_TTL,
            invite=invite,
        )
        async with self.db.write() as repos:
            await repos.sso.prune(now)
            await repos.sso.keep_newest_flows(self.max_flows - 1)
            await repos.sso.add_flow(flow)
        try:
            return await provider.authorize_url(flow.state, flow.nonce, flow.verifier, redirect_uri)
        except IdentityRefused as exc:  # its discovery document is out of reach or unusable
            logger.warning("single sign-on cannot start: %s %s", exc.reason, exc.detail)
            raise ChatError(
                ErrorCode.INTERNAL, f"the sign-in provider cannot be used now: {exc.reason}"
            ) from None

    async def finish(
        self, state: str | None, code: str | None, error: str | None, redirect_uri: str, started: str | None
    ) -> str:
        """The callback: the one-time code for the page. ``started`` is the ``state`` the browser
        holds from its ``start`` (the transport keeps it in a cookie): another is refused, so that
        a callback link made by someone else cannot sign a victim into their account (login CSRF).
        Raises ``unauthorized`` (``not_found`` when single sign-on is off)."""
        provider = self._provider()
        if not (state and started and hmac.compare_digest(_bytes(started), _bytes(state))):
            raise ChatError(ErrorCode.UNAUTHORIZED, NOT_HERE)
        flow = None
        if state and len(state) <= 64:
            async with self.db.write() as repos:
                flow = await repos.sso.take_flow(state)
        if flow is None or flow.expires_at <= datetime.now(UTC):
            raise ChatError(ErrorCode.UNAUTHORIZED, START_AGAIN)
        if error or not code or len(code) > 4096:
            shown = "".join(c for c in (error or "no code") if c.isascii() and c.isprintable())[:64]
            raise ChatError(ErrorCode.UNAUTHORIZED, f"the provider did not sign you in ({shown})")
        try:
            identity = await provider.identify(code, flow.verifier, flow.nonce, redirect_uri)
        except IdentityRefused as exc:
            raise _refused(exc) from None
        if not (0 < len(identity.issuer) <= MAX_KEY and 0 < len(identity.subject) <= MAX_KEY):
            raise ChatError(ErrorCode.UNAUTHORIZED, "the provider's user has no usable issuer or subject")
        user = await self._account(identity, flow.invite)
        one_time = secrets.token_urlsafe(32)
        async with self.db.write() as repos:
            await repos.sso.add_code(_digest(one_time), user.id, datetime.now(UTC) + CODE_TTL)
        return one_time

    async def exchange(self, data: CodeIn) -> TokenOut:
        """A token for a one-time code (``POST /api/auth/oidc/token``); ``unauthorized`` for a used,
        expired or unknown code and for a disabled account."""
        self._provider()
        async with self.db.write() as repos:
            taken = await repos.sso.take_code(_digest(data.code))
        if taken is None or taken[1] <= datetime.now(UTC):
            raise ChatError(ErrorCode.UNAUTHORIZED, BAD_CODE)
        async with self.db.read() as repos:
            user = await repos.users.by_id(taken[0])
        _usable(user)
        assert user is not None, "checked by _usable"
        token, expires = self.users.tokens.issue(user.id, user.token_version)
        return TokenOut(token=token, expires_at=iso_required(expires))

    async def exchange_session(self, data: CodeIn, user_agent: str = "", address: str = "") -> Opened:
        """``exchange``, opening a session that lasts (PROTOCOL.md section 19): its token carries
        the session's id, and its refresh cookie comes with it."""
        out = await self.exchange(data)
        claims = self.users.tokens.decode(out.token)
        assert self.users.sessions is not None, "accounts.build attaches it"
        return await self.users.sessions.open(claims.user_id, claims.version, user_agent, address)

    async def _account(self, identity: Identity, invite: str | None) -> UserRecord:
        """The linked account, else a new one (admitted by the workspace's rules, ``invite``'s code
        among them); an existing account needs no invitation."""
        user = await self._linked(identity)
        if user is None:
            user = await self._create(identity, invite)
        _usable(user)
        return user

    async def _linked(self, identity: Identity) -> UserRecord | None:
        async with self.db.read() as repos:
            user_id = await repos.sso.linked_user(identity.issuer, identity.subject)
            return None if user_id is None else await repos.users.by_id(user_id)

    async def _create(self, identity: Identity, invite: str | None) -> UserRecord:
        """A new account linked to ``identity``, under the first free name of its candidates."""
        shown = display_name(identity.name)
        password_hash = await self.users.hasher.hash(secrets.token_urlsafe(32))  # no password matches
        extra = (str(secrets.randbelow(10**6)) for _ in range(20))
        for username in candidates(username_base(identity.preferred_username, identity.name), extra):
            try:
                user = await self._store(username, identity, shown, password_hash, invite)
            except _NameTaken:
                continue
            except Conflict:
                linked = await self._linked(identity)  # another callback linked this user first
                if linked is not None:
                    return linked
                continue  # the name was taken between our look and our insert
            for join in self.users.on_registered:
                await join(user.id)
            logger.info("single sign-on made the account %s for %s", user.username, identity.issuer)
            return user
        raise ChatError(ErrorCode.CONFLICT, "no free username was found for this account; try again")

    async def _store(
        self, username: str, identity: Identity, shown: str, password_hash: str, invite: str | None
    ) -> UserRecord:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            await repos.names.claim(username)  # one namespace with topics (db/conversations/names.py)
            if await repos.names.user_holds(username) or await repos.names.topic_holds(username):
                raise _NameTaken
            version = secrets.randbelow(FIRST_VERSIONS) + 1
            user = await repos.users.add(username, password_hash, now, version)
            for door in self.users.doors:  # closed, invite-only, outside the domains: refused
                await door.admit(repos, user, Joining(invite=invite, email=identity.email, sso=True))
            if shown:
                await repos.users.update_fields(user.id, display_name=shown)
            await repos.users.set_words(user.id, words_of(username, shown))
            await repos.sso.link(identity.issuer, identity.subject, user.id, now)
            return await owns_if_first(repos, user)


class _NameTaken(Exception):
    pass


def _usable(user: UserRecord | None) -> None:
    if user is None or user.deleted_at is not None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "this account no longer exists")
    if user.disabled_at is not None:
        raise ChatError(ErrorCode.UNAUTHORIZED, DISABLED)


def _refused(exc: IdentityRefused) -> ChatError:
    logger.info("single sign-on refused: %s %s", exc.reason, exc.detail)
    return ChatError(ErrorCode.UNAUTHORIZED, f"single sign-on failed: {exc.reason}")


def _bytes(text: str) -> bytes:
    return text.encode(errors="surrogatepass")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
