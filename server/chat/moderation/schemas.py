"""DTOs of moderation (PROTOCOL.md section 10): a topic's moderators' actions on its members and
on the topic, a user's report of a message, and the reports an operator reads (the Admin UI's
Reports page)."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from server.chat.kernel.schemas import TOPIC_ALIASES, In, Out, RowId, TopicName, Username, check_text

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(check_text)]
Minutes = Annotated[int, Field(ge=1, le=10 * 365 * 24 * 60)]  # at most ten years
Description = Annotated[str, StringConstraints(max_length=500), AfterValidator(check_text)]
# PROTOCOL.md section 16: days a topic's messages are kept (at most the server's, checked by the service).
RetentionDays = Annotated[int, Field(ge=1, le=100 * 366)]


class MemberActionIn(In):
    """``topic:kick``, ``topic:unban``, ``topic:unmute`` (and the base of the others)."""

    topic: TopicName = Field(validation_alias=TOPIC_ALIASES)
    username: Username
    reason: Reason | None = None


class BanIn(MemberActionIn):
    minutes: Minutes | None = None


class MuteIn(MemberActionIn):
    minutes: Minutes | None = None


class RoleIn(In):
    topic: TopicName = Field(validation_alias=TOPIC_ALIASES)
    username: Username
    role: Literal["admin", "moderator", "member"]


class TopicUpdateIn(In):
    topic: TopicName = Field(validation_alias=TOPIC_ALIASES)
    name: TopicName | None = None
    description: Description | None = None
    retention_days: RetentionDays | None = None  # null: the server's setting; absent: unchanged

    def retention(self) -> int | Unchanged | None:
        """The retention asked for: ``UNCHANGED`` when the field was not sent at all."""
        return self.retention_days if "retention_days" in self.model_fields_set else UNCHANGED


class Unchanged(enum.Enum):
    """A field not sent (where null means something: back to the server's setting)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


MAX_REPORT_REASON = 500
ReportReason = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_REPORT_REASON), AfterValidator(check_text)
]


class ReportIn(In):
    id: RowId
    reason: ReportReason


# The reports an operator reads ----------------------------------------------


class BanOut(Out):
    """A ban in force (Parley's ``topic:bans``): who, by whom, why, since and until when (None: no end)."""

    username: str
    by: str | None
    reason: str | None
    at: str
    until: str | None


class BansOut(Out):
    bans: list[BanOut]


class ReportedMessageOut(BaseModel):
    """The reported message as the operator sees it (None fields: its topic was deleted)."""

    id: int
    topic: str | None  # a direct conversation: ``@sender/@reporter``
    kind: Literal["public", "private", "direct"] | None
    seq: int | None
    sender: str | None
    excerpt: str  # the first 100 characters of its body; "" once deleted
    deleted: bool
    link: str | None  # the REST page holding just this message, for a reader of it


class ReportOut(BaseModel):
    id: int
    created_at: str
    reporter: str | None
    reason: str
    message: ReportedMessageOut


class ReportsOut(BaseModel):
    reports: list[ReportOut]  # newest first
