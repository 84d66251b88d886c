"""Moderation's part of the composition: actions on members and topics, and reports."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.conversations.messages import MessageService
from server.chat.conversations.topic_counts import TopicCounts
from server.chat.kernel.wiring import Wiring
from server.chat.moderation.reports import ReportService
from server.chat.moderation.service import ModerationService


@dataclass(frozen=True)
class Moderation:
    moderation: ModerationService
    reports: ReportService


def build(
    w: Wiring, messages: MessageService, counts: TopicCounts, retention_cap: int | None = None
) -> Moderation:
    moderation = ModerationService(w.db, messages, counts, retention_cap)
    return Moderation(moderation, ReportService(w.db))
