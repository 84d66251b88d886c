"""The connections' part of the composition: sessions over delivery, recovery and signals, and
the refill of what the hub missed."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.accounts.users import UserService
from server.chat.connections.delivery import DeliveryService
from server.chat.connections.recovery import RecoveryService
from server.chat.connections.refill import Refill
from server.chat.connections.sessions import SessionService
from server.chat.connections.signals import SignalService
from server.chat.kernel.gate import Gate
from server.chat.kernel.wiring import Stage, Wiring
from server.chat.presence.service import PresenceService
from server.chat.rules.blocking import Blocks


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Sockets, backlogs, recovery and the cursors' flushes."""

    backlog_per_topic: int
    typing_ttl: float
    cursor_flush_interval: float
    max_connections_per_user: int
    connect_concurrency: int  # connection set-ups (and backlog reads) run at once
    recovery_window: float
    recovery_margin: float


@dataclass(frozen=True)
class Connections:
    sessions: SessionService
    delivery: DeliveryService
    recovery: RecoveryService
    signals: SignalService


def build(
    w: Wiring, limits: Limits, users: UserService, presence: PresenceService, blocks: Blocks
) -> Connections:
    delivery = DeliveryService(w.db, limits.backlog_per_topic, limits.cursor_flush_interval)
    w.sink(Stage.SESSIONS, delivery)  # every node's stored messages bound the cursors here
    signals = SignalService(w.db, w.hub, limits.typing_ttl, blocks=blocks)
    recovery = RecoveryService(w.db, limits.recovery_window, limits.recovery_margin, limits.backlog_per_topic)
    sessions = SessionService(
        w.db,
        users,
        presence,
        delivery,
        signals,
        recovery,
        limits.max_connections_per_user,
        w.budgets,
        Gate(limits.connect_concurrency),
    )
    w.sink(Stage.SESSIONS, sessions)  # a revocation reaches opens under way
    # What the hub missed (a broker outage) is read back from the database; after the caches
    # forgot what they knew, the memberships of the users here are read and told to the
    # transports (PROTOCOL.md section 4, "Several nodes").
    refill = Refill(w.db, blocks, w.hub, sessions.token_versions, sessions.credentials)
    w.hub.missed = refill
    w.sink(Stage.REFILL, refill)
    w.part("typing", stop=signals.close)
    w.part("delivery cursors", delivery.start, delivery.stop)
    w.part("recovery", recovery.start, recovery.stop)
    return Connections(sessions, delivery, recovery, signals)
