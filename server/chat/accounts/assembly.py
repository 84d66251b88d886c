"""The accounts' part of the composition: users, and the caches of who is logged in."""

from __future__ import annotations

from server.chat.accounts.security import PasswordHasher, TokenCodec
from server.chat.accounts.users import Presence, UserService
from server.chat.kernel.budgets import SharedLimit, per_hour
from server.chat.kernel.limits import Limits
from server.chat.kernel.wiring import Stage, Wiring


def build(w: Wiring, limits: Limits, secret: str, token_ttl: int, presence: Presence) -> UserService:
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
    )
    w.sink(Stage.IDENTITY, users.known)  # a logout is seen before the transports close sockets
    w.sink(Stage.IDENTITY, users.known_tokens)  # likewise a revoked API token (section 12)
    return users
