"""The accounts' part of the composition: users, the caches of who is logged in, single sign-on
(PROTOCOL.md section 14) over the provider port it is handed (none: off), and the tokens the
application signs (section 17) over the verifier port it is handed (none: off)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.chat.accounts.app_tokens import AppTokens, AppTokenVerifier
from server.chat.accounts.identities import LinkedAccounts
from server.chat.accounts.passwords import PasswordService, ResetComposer
from server.chat.accounts.security import PasswordHasher, TokenCodec
from server.chat.accounts.sessions import SessionService
from server.chat.accounts.sso import IdentityProvider, SingleSignOn
from server.chat.accounts.users import Presence, UserService
from server.chat.kernel.budgets import SharedLimit, per_hour
from server.chat.kernel.wiring import Stage, Wiring


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Sign-up, login and single sign-on's limits (PROTOCOL.md sections 6 and 14)."""

    register_per_hour: int
    login_per_hour: int  # failed logins per address
    login_failures_per_account: int
    login_failure_window: float
    bcrypt_rounds: int
    password_login: bool  # off: password sign-up and login are refused
    oidc_starts_per_hour: int  # single sign-ons started per address
    oidc_pending_flows: int  # single sign-ons under way at once (the oldest dropped past it)
    session_days: int  # PROTOCOL.md section 19: a session lasts this long since its last use
    refresh_grace: float  # seconds the refresh cookie just replaced still gets a token
    password_resets_per_hour: int  # reset requests per client address
    password_resets_per_account: int  # reset mails per account
    app_token_max_ttl: int  # PROTOCOL.md section 17: the longest life of the application's token


@dataclass(frozen=True)
class Accounts:
    users: UserService
    sso: SingleSignOn
    sessions: SessionService


def build(
    w: Wiring,
    limits: Limits,
    secret: str,
    token_ttl: int,
    presence: Presence,
    provider: IdentityProvider | None = None,
    app_verifier: AppTokenVerifier | None = None,
) -> Accounts:
    users = UserService(
        w.db,
        PasswordHasher(limits.bcrypt_rounds),
        TokenCodec(secret, token_ttl),
        presence,
        per_hour("sign-ups", limits.register_per_hour, w.budgets),
        per_hour("failed-logins", limits.login_per_hour, w.budgets),
        SharedLimit(
            "account-failures", limits.login_failures_per_account, limits.login_failure_window, w.budgets
        ),
        password_login=limits.password_login,
    )
    w.sink(Stage.IDENTITY, users.known)  # a logout is seen before the transports close sockets
    w.sink(Stage.IDENTITY, users.known_tokens)  # likewise a revoked API token (section 12)
    w.sink(Stage.IDENTITY, users.ended)  # and a signed-out session (section 19)
    w.part("ended sessions", users.ended.load)
    sessions = users.sessions = SessionService(
        w.db, users.tokens, users.ended, limits.session_days, limits.refresh_grace
    )
    # An ended session's row outlives every access token it issued: a node that restarts or missed
    # news reads the ended ones back (``EndedSessions.load``) to keep refusing their tokens.
    kept = max(86400.0, users.tokens.ttl + 3600.0)
    w.prune("sessions", kept, lambda repos, before, limit: repos.sessions.prune(before, limit))
    w.prune("password resets", 0.0, lambda repos, before, limit: repos.sessions.prune_resets(before, limit))
    sso = SingleSignOn(
        w.db,
        users,
        provider,
        limits.password_login,
        per_hour("sso-starts", limits.oidc_starts_per_hour, w.budgets),
        limits.oidc_pending_flows,
    )
    if provider is not None:
        w.part("single sign-on", stop=provider.close)
    if app_verifier is not None:
        accounts = LinkedAccounts(w.db, users)
        users.app_tokens = AppTokens(app_verifier, accounts, limits.app_token_max_ttl)
        w.part("application tokens", stop=app_verifier.close)
    return Accounts(users, sso, sessions)


def build_passwords(
    w: Wiring,
    limits: Limits,
    users: UserService,
    composer: ResetComposer | None,
    written: Callable[[], None],
    roles: Callable[[int], str],
) -> PasswordService:
    """Passwords changed and reset (PROTOCOL.md section 19): built after email, whose outbox the
    reset mail goes through."""
    assert users.sessions is not None, "built by build"
    passwords = PasswordService(
        w.db,
        users,
        users.sessions,
        composer,
        written,
        per_hour("password-resets", limits.password_resets_per_hour, w.budgets),
        per_hour("password-reset-mails", limits.password_resets_per_account, w.budgets),
        roles,
    )
    w.part("password resets", stop=passwords.stop)
    return passwords
