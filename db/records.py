"""What the repositories hand out: frozen values, not ORM rows, gathered from the capabilities
(``db/<capability>/records.py``).

A stored row always has its id, so every id here is an ``int`` (the tables' ``int | None`` is
only true of a row not yet inserted). The domain reads these and never changes them: a change
goes through a repository method, in a transaction (``db/uow.py``). Code inside ``db/`` imports
them from their capability; so may the domain (``db/<capability>/records.py`` holds no ORM), and a
new capability's records need no line here: these names are the ones existing code imports.
"""

from __future__ import annotations

from db.accounts.records import Credentials, SignInFlow, UserRecord
from db.audit.records import AuditRecord
from db.connections.records import RecoveryRecord
from db.conversations.records import (
    PLAIN,
    PLAIN_BOT,
    BacklogEntry,
    Extras,
    MembershipRecord,
    MessageRecord,
    Quote,
    ReactionState,
    ThreadSummary,
    TopicRecord,
    links_only,
)
from db.files.records import FileRecord
from db.integrations.records import (
    BotTokenRecord,
    DeliveryAttempt,
    DueDelivery,
    HookRecord,
    OutboxRow,
    WebhookRecord,
)
from db.moderation.records import ReportRecord
from db.notifications.records import NotifyJobRow
from db.operators.records import NodeRecord

__all__ = [
    "PLAIN",
    "PLAIN_BOT",
    "AuditRecord",
    "BacklogEntry",
    "BotTokenRecord",
    "Credentials",
    "DeliveryAttempt",
    "DueDelivery",
    "Extras",
    "FileRecord",
    "HookRecord",
    "MembershipRecord",
    "MessageRecord",
    "NodeRecord",
    "NotifyJobRow",
    "OutboxRow",
    "Quote",
    "ReactionState",
    "RecoveryRecord",
    "ReportRecord",
    "SignInFlow",
    "ThreadSummary",
    "TopicRecord",
    "UserRecord",
    "WebhookRecord",
    "links_only",
]
