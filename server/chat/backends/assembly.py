"""Backends' part of the composition (PROTOCOL.md section 17): the server keys, their cache of
keys checked lately (a hub sink, so a revocation on any node is heard on every node before the
next request) and each key's rate, counted for the cluster when the cluster's budgets are there."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.accounts.users import UserService
from server.chat.backends.keys import KnownKeys, ServerKeys
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.wiring import Stage, Wiring

KEY_CACHE_AGE = 10.0  # seconds a checked key is trusted without a read (a revocation forgets it at once)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Each server key's rate (PROTOCOL.md section 17)."""

    server_key_rate: float  # requests a second with one key, after its burst
    server_key_burst: int  # requests one key may make at once


@dataclass(frozen=True)
class Backends:
    keys: ServerKeys


def build(w: Wiring, limits: Limits, users: UserService) -> Backends:
    known = KnownKeys(KEY_CACHE_AGE)
    w.sink(Stage.IDENTITY, known)  # a revoked key, forgotten before the next request anywhere
    burst = limits.server_key_burst
    rate = SharedLimit("server-key", burst, burst / limits.server_key_rate, w.budgets)
    return Backends(ServerKeys(w.db, users, known, rate))
