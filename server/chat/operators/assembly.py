"""The operators' part of the composition: the services of ``parley user|topic|stats`` and the
Admin UI, a server's heartbeat row and its housekeeping."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.accounts.security import PasswordHasher
from server.chat.kernel.limits import Limits
from server.chat.kernel.wiring import Wiring
from server.chat.operators.accounts import AccountService
from server.chat.operators.housekeeping import Housekeeping, Retention
from server.chat.operators.nodes import NodeService
from server.chat.operators.topic_admin import TopicAdminService
from server.chat.presence.service import PresenceService


@dataclass(frozen=True)
class Operators:
    accounts: AccountService
    nodes: NodeService
    topic_admin: TopicAdminService
    housekeeping: Housekeeping


def build(
    w: Wiring, limits: Limits, hasher: PasswordHasher, presence: PresenceService, default_topics: list[str]
) -> Operators:
    nodes = NodeService(w.db, presence, limits.presence_ttl)
    w.part("node heartbeat", nodes.start, nodes.stop, serving=True)  # a row for parley stats
    retention = Retention(
        outbox=limits.webhook_outbox_retention,
        log=limits.webhook_log_retention,
        audit=limits.audit_retention_days * 86400.0,  # PROTOCOL.md section 16
    )
    housekeeping = Housekeeping(w.db, retention)
    w.part("housekeeping", housekeeping.start, housekeeping.stop, serving=True)  # old rows pruned
    return Operators(
        AccountService(w.db, hasher), nodes, TopicAdminService(w.db, nodes, default_topics), housekeeping
    )
