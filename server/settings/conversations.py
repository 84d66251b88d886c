"""Conversations (server/chat/conversations/): the topics everyone joins, budgets, ``@all``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from server.settings.values import CsvList


class ConversationsSettings(BaseModel):
    """The default topics, and how many topics and invites a user may make."""

    default_topics: CsvList = Field(default_factory=lambda: ["lobby"])
    # Abuse limits per user (PROTOCOL.md section 2): a burst of this many, then this many per hour,
    # counted in each process and, with Redis, for the cluster (server/chat/kernel/budgets.py), then
    # ``rate_limited``.
    topics_per_hour: int = Field(default=20, gt=0, description="topics one user may create per hour")
    invites_per_hour: int = Field(default=30, gt=0, description="invites one user may send per hour")
    # Conversations (PROTOCOL.md section 8): ``@all`` in a topic of more members than this is for
    # owners, admins and moderators only.
    all_mention_limit: int = Field(default=50, ge=0, description="members up to which anyone may say @all")
