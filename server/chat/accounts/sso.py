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
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import AfterValidator, StringConstraints

from db.records import SignInFlow, UserRecord
from db.uow import Database
from server.chat.accounts.identities import Identity, IdentityRefused, LinkedAccounts, usable
from server.chat.accounts.schemas import TokenOut
from server.chat.accounts.sessions import Opened
from server.chat.accounts.users import Joining, UserService
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.errors import ChatError, ErrorCode, not_found, rate_limited
from server.chat.kernel.schemas import In, Out, check_text
from server.chat.kernel.views import iso_required

logger = logging.getLogger(__name__)

FLOW_TTL = timedelta(minutes=10)
CODE_TTL = timedelta(seconds=60)
MAX_INVITE = 128  # an invitation code's longest (``schemas.InviteCode``)
START_AGAIN = "the sign-in is unknown, used or expired; start it again"
BAD_CODE = "the sign-in code is unknown, used or expired; sign in again"
NOT_HERE = "this sign-in was not started in this browser; start it again"


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
        self.accounts = LinkedAccounts(db, users)  # by the provider's iss + sub

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
        usable(user)
        assert user is not None, "checked by usable"
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
        return await self.accounts.account(identity, Joining(invite=invite, email=identity.email, sso=True))


def _refused(exc: IdentityRefused) -> ChatError:
    logger.info("single sign-on refused: %s %s", exc.reason, exc.detail)
    return ChatError(ErrorCode.UNAUTHORIZED, f"single sign-on failed: {exc.reason}")


def _bytes(text: str) -> bytes:
    return text.encode(errors="surrogatepass")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
