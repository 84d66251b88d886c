"""Repositories: queries and row changes, never a commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.audit import AuditRepository
from db.repositories.bans import BanRepository
from db.repositories.bots import BotRepository
from db.repositories.erasure import ErasureRepository
from db.repositories.exports import ExportRepository
from db.repositories.files import FileRepository
from db.repositories.hooks import HookRepository
from db.repositories.mail import MailRepository
from db.repositories.memberships import MembershipRepository
from db.repositories.messages import MessageRepository
from db.repositories.names import NameRepository
from db.repositories.nodes import NodeRepository
from db.repositories.notifications import NotificationRepository
from db.repositories.people import PeopleRepository
from db.repositories.previews import PreviewRepository
from db.repositories.push import PushRepository
from db.repositories.reactions import ReactionRepository
from db.repositories.recovery import RecoveryRepository
from db.repositories.relay import RelayRepository
from db.repositories.retention import RetentionRepository
from db.repositories.safety import BlockRepository, ReportRepository
from db.repositories.sso import SsoRepository
from db.repositories.topics import TopicRepository
from db.repositories.transcripts import TranscriptRepository
from db.repositories.users import UserRepository
from db.repositories.webhooks import WebhookRepository


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
        self.notifications = NotificationRepository(session)  # PROTOCOL.md section 15
        self.mail = MailRepository(session)  # section 15: email verification, digests, the mail outbox
        self.push = PushRepository(session)  # PROTOCOL.md section 15: Web Push
        self.exports = ExportRepository(session)  # PROTOCOL.md section 16: a user's export
        self.audit = AuditRepository(session)  # PROTOCOL.md section 16: the audit log
        self.erasure = ErasureRepository(session)  # PROTOCOL.md section 16: an account's erasure
        self.retention = RetentionRepository(session)  # PROTOCOL.md section 16
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
