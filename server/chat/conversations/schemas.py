"""DTOs of conversations (PROTOCOL.md sections 3 and 8): topics and their members, sending, editing
and deleting messages, history and threads, reactions, pins, a topic's notification level, and
direct conversations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, Field, StringConstraints, ValidationInfo, field_validator

from server.chat.kernel.schemas import (
    MAX_STORED_INT,
    NAME_CHARS,
    TOPIC_ALIASES,
    Availability,
    AvatarOut,
    ClientId,
    Emoji,
    In,
    MessageOut,
    Out,
    ReactionOut,
    RowId,
    TopicName,
    TopicOut,
    ToTarget,
    Username,
    WithTarget,
    check_body,
)


class TopicRefIn(In):
    topic: TopicName = Field(validation_alias=TOPIC_ALIASES)


MEMBERS_MATCHED = 20  # members a ``topic:members`` with a ``query`` and no ``limit`` answers at most


class MembersIn(TopicRefIn):
    """``topic:members``: every member, or with ``query`` (Parley's addition) those with a word of
    their username or display name starting with it, as ``users:search`` finds people: what the
    page's ``@`` completion asks in a topic too large to list whole (#lobby holds every account)."""

    query: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] | None = None


class TopicCreateIn(In):
    name: TopicName = Field(validation_alias=AliasChoices("name", "topic_name", "topic"))
    private: bool = Field(default=False, validation_alias=AliasChoices("private", "is_private"))


class InviteIn(In):
    topic: TopicName = Field(validation_alias=TOPIC_ALIASES)
    username: Username


def _distinct(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("must not name a file twice")
    return value


FileId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
FileIds = Annotated[list[FileId], Field(min_length=1, max_length=10), AfterValidator(_distinct)]
"""1-10 distinct file ids (PROTOCOL.md section 11)."""


class SendIn(ToTarget):
    # ``files`` before ``body``: the body's rule reads it (a message with files may have no body).
    files: FileIds | None = None  # attach these uploads (PROTOCOL.md section 11)
    body: str = Field(default="", validate_default=True)
    client_id: ClientId | None = None
    reply_to: RowId | None = None  # quote this message of the conversation
    thread: RowId | None = None  # reply in the thread of this root message

    @field_validator("body")
    @classmethod
    def _body_rule(cls, value: str, info: ValidationInfo) -> str:
        """The body rule (``check_body``), except that a message with files may have no body."""
        if value == "" and info.data.get("files"):
            return value
        return check_body(value)

    @property
    def file_ids(self) -> tuple[str, ...]:
        return tuple(self.files or ())


class LegacyMessageIn(In):
    """The original protocol's ``message`` event: a topic or a user name."""

    topic_name: Annotated[str, StringConstraints(pattern=rf"^{NAME_CHARS}{{1,64}}$")] = Field(
        validation_alias=AliasChoices("topic_name", "topic")
    )
    content: str = Field(validation_alias=AliasChoices("content", "body"))
    client_id: ClientId | None = None

    _content = field_validator("content")(check_body)


class EditIn(In):
    id: RowId
    body: str

    _body = field_validator("body")(check_body)


class DeleteIn(In):
    id: RowId


class HistoryIn(WithTarget):
    before_seq: Annotated[int, Field(ge=1, le=MAX_STORED_INT)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class ReactionIn(In):
    id: RowId
    emoji: Emoji


class ThreadHistoryIn(In):
    root: RowId
    before_id: RowId | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


NotifyLevel = Literal["all", "mentions", "none"]


class NotifyIn(WithTarget):
    """``{"topic"}`` or, for a direct conversation, ``{"with": username}``."""

    level: NotifyLevel


class PinsIn(WithTarget):
    """``{"topic"}`` or, for a direct conversation, ``{"with": username}``."""


# Results ----------------------------------------------------------------


class ReactionsOut(Out):
    id: int
    reactions: list[ReactionOut]


class PinsOut(Out):
    pins: list[MessageOut]


class PinnedOut(Out):
    topic: str
    pins: list[MessageOut]


Role = Literal["owner", "admin", "moderator", "member"]


class MemberOut(Out):
    username: str
    role: Role
    online: bool
    # PROTOCOL.md section 14; ``availability`` only as the presence rule lets the viewer see it
    display_name: str = ""
    avatar: AvatarOut | None = None
    availability: Availability | None = None
    # Parley's additions: a mute (told to every member by its system message anyway) and, for a
    # viewer who is a member, the member's read mark (told live by ``read``): a page rebuilds its
    # "Seen by" marks and its Mute or Unmute offer from the list, after a reload too.
    muted: bool = False
    muted_until: str | None = None
    read_seq: int | None = None


class MembersOut(Out):
    members: list[MemberOut]


class TopicsOut(Out):
    topics: list[TopicOut]


class SubscribedOut(Out):
    topic: TopicOut
    history: list[MessageOut]


class InvitedOut(Out):
    topic: TopicOut


class PageOut(Out):
    messages: list[MessageOut]
    has_more: bool


class ConversationOut(Out):
    """A direct conversation as one of its members sees it: its id, the other member, and the newest
    message that is not deleted (None before the first)."""

    id: int
    peer: str
    last_message: MessageOut | None
