"""Calls' part of the composition (PROTOCOL.md section 18): the service, its commit handler (a
member removed from a conversation leaves its call) and, on a server, the sweep that frees the
seats of sockets and nodes gone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from server.chat.calls.service import CallService
from server.chat.conversations.messages import MessageService
from server.chat.kernel.wiring import Wiring


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Calls (PROTOCOL.md section 18)."""

    call_max_peers: int  # participants of one call
    ice_servers: list[str]  # STUN/TURN URLs handed to every join
    turn_secret: SecretStr | None  # coturn's static-auth-secret (None: no TURN credentials)
    turn_ttl: int  # seconds a TURN credential is valid


def build(
    w: Wiring,
    limits: Limits,
    messages: MessageService,
    node: Callable[[], str],
    grace: float,
    node_ttl: float,
) -> CallService:
    secret = limits.turn_secret.get_secret_value() if limits.turn_secret is not None else None
    calls = CallService(
        w.db,
        w.hub,
        messages,
        node=node,
        max_peers=limits.call_max_peers,
        ice_urls=limits.ice_servers,
        turn_secret=secret or None,
        turn_ttl=limits.turn_ttl,
        grace=grace,
        node_ttl=node_ttl,
    )
    w.before_commit(calls.removed)
    w.part("calls", None, calls.stop)  # the seats' grace timers
    w.part("calls sweep", calls.start, serving=True)
    return calls
