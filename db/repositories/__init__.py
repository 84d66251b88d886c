"""Repositories: queries and row changes, never a commit.

``Repositories`` binds every capability's repositories (``db/<capability>/``) to one session; a
new repository gets an import and an attribute here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.accounts.sessions import SessionRepository
from db.accounts.sso import SsoRepository
from db.accounts.users import UserRepository
from db.audit.repository import AuditRepository
from db.calls.repository import CallRepository
from db.connections.recovery import RecoveryRepository
from db.conversations.memberships import MembershipRepository
from db.conversations.messages import MessageRepository
from db.conversations.names import NameRepository
from db.conversations.reactions import ReactionRepository
from db.conversations.topics import TopicRepository
from db.echo.transcripts import TranscriptRepository
from db.emoji.repository import EmojiRepository
from db.exports.repository import ExportRepository
from db.files.repository import FileRepository
from db.integrations.bots import BotRepository
from db.integrations.hooks import HookRepository
from db.integrations.webhooks import WebhookRepository
from db.kernel.relay import RelayRepository
from db.moderation.reports import ReportRepository
from db.notifications.mail import MailRepository
from db.notifications.push import PushRepository
from db.notifications.repository import NotificationRepository
from db.operators.erasure import ErasureRepository
from db.operators.nodes import NodeRepository
from db.people.repository import PeopleRepository
from db.previews.repository import PreviewRepository
from db.retention.repository import RetentionRepository
from db.rules.bans import BanRepository
from db.rules.blocks import BlockRepository
from db.workspace.repository import WorkspaceRepository


class Repositories:
    """Every repository bound to one session (one transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.topics = TopicRepository(session)
        self.memberships = MembershipRepository(session)
        self.messages = MessageRepository(session)
        self.names = NameRepository(session)
        self.transcripts = TranscriptRepository(session)
        self.recovery = RecoveryRepository(session)
        self.relay = RelayRepository(session)
        self.nodes = NodeRepository(session)
        self.reactions = ReactionRepository(session)
        self.bans = BanRepository(session)
        self.blocks = BlockRepository(session)
        self.reports = ReportRepository(session)
        self.webhooks = WebhookRepository(session)
        self.bots = BotRepository(session)
        self.hooks = HookRepository(session)
        self.files = FileRepository(session)  # PROTOCOL.md section 11
        self.previews = PreviewRepository(session)  # PROTOCOL.md section 13
        self.people = PeopleRepository(session)  # PROTOCOL.md section 14
        self.sso = SsoRepository(session)  # PROTOCOL.md section 14: single sign-on
        self.sessions = SessionRepository(session)  # PROTOCOL.md section 19: sessions, password resets
        self.notifications = NotificationRepository(session)  # PROTOCOL.md section 15
        self.mail = MailRepository(session)  # section 15: email verification, digests, the mail outbox
        self.push = PushRepository(session)  # PROTOCOL.md section 15: Web Push
        self.exports = ExportRepository(session)  # PROTOCOL.md section 16: a user's export
        self.audit = AuditRepository(session)  # PROTOCOL.md section 16: the audit log
        self.erasure = ErasureRepository(session)  # PROTOCOL.md section 16: an account's erasure
        self.retention = RetentionRepository(session)  # PROTOCOL.md section 16
        self.workspace = WorkspaceRepository(session)  # PROTOCOL.md section 19: settings, invites
        self.emoji = EmojiRepository(session)  # PROTOCOL.md section 13: custom emoji
        self.calls = CallRepository(session)  # PROTOCOL.md section 18: calls and their seats
        self.events: list[Any] = []
        self.facts: list[Any] = []

    def record(self, *events: Any) -> None:
        """Domain events to publish once this transaction has committed (never before)."""
        self.events.extend(events)

    def note(self, *facts: Any) -> None:
        """What happened in this transaction, for the unit of work's commit handlers only
        (``Database.before_commit``): never published. A fact carries what a handler needs that
        the published event does not (a kick's action and names, the reaction's message)."""
        self.facts.extend(facts)


__all__ = ["Repositories"]
