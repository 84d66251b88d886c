"""The accounts' part of the composition: users, the caches of who is logged in, and single
sign-on (PROTOCOL.md section 14) over the provider port it is handed (none: off)."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.accounts.security import PasswordHasher, TokenCodec
from server.chat.accounts.sso import IdentityProvider, SingleSignOn
from server.chat.accounts.users import Presence, UserService
from server.chat.kernel.budgets import SharedLimit, per_hour
from server.chat.kernel.limits import Limits
from server.chat.kernel.wiring import Stage, Wiring


@dataclass(frozen=True)
class Accounts:
    users: UserService
    sso: SingleSignOn


def build(
    w: Wiring,
    limits: Limits,
    secret: str,
    token_ttl: int,
    presence: Presence,
    provider: IdentityProvider | None = None,
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
    return Accounts(users, sso)
