"""Every table, gathered from the capabilities that own them (``db/<capability>/tables.py``).

Importing this module fills ``SQLModel.metadata`` with every table (what Alembic's ``env.py`` and
the migration tests compare with the migrations): it imports each ``db/*/tables.py`` it finds, so
a new capability's tables module is registered by existing, with no line here. The names below
are re-exported for the tests and tools that import tables from one place; code inside ``db/``
imports a table from its capability, and a new capability's tables need not be added here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from db.accounts.tables import WORD, Identity, LoginCode, OidcFlow, User, UserWord
from db.audit.tables import AuditEntry
from db.connections.tables import RecoverySession
from db.conversations.tables import Membership, Mention, Message, Pin, Reaction, Topic
from db.echo.tables import EchoTranscript
from db.exports.tables import Export
from db.files.tables import File
from db.integrations.tables import BotToken, Hook, Webhook, WebhookDelivery, WebhookOutbox
from db.kernel.tables import Relay
from db.moderation.tables import Report
from db.notifications.tables import (
    EmailPending,
    MailOutbox,
    NotificationPrefs,
    NotifyJob,
    PushOutbox,
    PushSubscription,
)
from db.operators.tables import ErasureJob, Node
from db.previews.tables import LinkPreview, MessagePreviewImage, PreviewImage, PreviewJob
from db.rules.tables import Ban, Block

__all__ = [
    "WORD",
    "AuditEntry",
    "Ban",
    "Block",
    "BotToken",
    "EchoTranscript",
    "EmailPending",
    "ErasureJob",
    "Export",
    "File",
    "Hook",
    "Identity",
    "LinkPreview",
    "LoginCode",
    "MailOutbox",
    "Membership",
    "Mention",
    "Message",
    "MessagePreviewImage",
    "Node",
    "NotificationPrefs",
    "NotifyJob",
    "OidcFlow",
    "Pin",
    "PreviewImage",
    "PreviewJob",
    "PushOutbox",
    "PushSubscription",
    "Reaction",
    "RecoverySession",
    "Relay",
    "Report",
    "Topic",
    "User",
    "UserWord",
    "Webhook",
    "WebhookDelivery",
    "WebhookOutbox",
]


def _import_every_tables_module() -> None:
    """Import ``db/<capability>/tables.py`` of every capability, in name order (each defines its
    tables on ``SQLModel.metadata`` when imported)."""
    for path in sorted(Path(__file__).parent.glob("*/tables.py")):
        importlib.import_module(f"db.{path.parent.name}.tables")


_import_every_tables_module()
