"""The conversations' part of the composition: the send path's directory, messages and their
writer, topics, direct conversations, reactions and pins.

``send_hooks`` is the port the later builds register on: each ``SendHook`` writes rows with a new
message in its send batch's transaction, or hears of its commit (the outgoing webhooks' outbox, the
notifications' jobs, the link previews' queue). The writer holds this list, not a copy: a hook
registered by a later build is asked from the first send on. The writer publishes what it commits
straight to the hub (``w.hub.publish``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.chat.accounts.users import UserService
from server.chat.conversations.direct import ConversationService
from server.chat.conversations.directory import Directory
from server.chat.conversations.member_news import MemberNews
from server.chat.conversations.messages import MessageService
from server.chat.conversations.pins import PinService
from server.chat.conversations.reactions import ReactionService
from server.chat.conversations.topics import TopicService
from server.chat.conversations.writer import SendHook
from server.chat.files.service import FileService
from server.chat.kernel.budgets import per_hour
from server.chat.kernel.wiring import Stage, Wiring
from server.chat.people.service import PeopleService
from server.chat.presence.service import PresenceService
from server.chat.rules.blocking import Blocks
from server.chat.rules.workspace import Roles


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What one user may do per hour, and who may say ``@all``."""

    topics_per_hour: int  # topics one user creates
    invites_per_hour: int  # invites one user sends
    all_mention_limit: int  # members up to which anyone may say ``@all``


@dataclass(frozen=True)
class Conversations:
    directory: Directory
    messages: MessageService
    topics: TopicService
    direct: ConversationService
    reactions: ReactionService
    pins: PinService
    send_hooks: list[SendHook] = field(default_factory=list)


def build(
    w: Wiring,
    limits: Limits,
    blocks: Blocks,
    presence: PresenceService,
    users: UserService,
    files: FileService | None,
    default_topics: list[str],
    public_topic: str | None = None,
    people: PeopleService | None = None,
    *,
    roles: Roles,
) -> Conversations:
    """``default_topics``: the public topics every new account joins, made at the start;
    ``public_topic``: the echo chat's channel (PROTOCOL.md 7.3), made when a server starts;
    ``roles``: the workspace's (section 19), which the directory holds for every ranked check."""
    directory = Directory(w.db, blocks, roles)
    w.sink(Stage.SEND_PATH, directory)  # first: the send path sees a change before clients do
    w.before_commit(MemberNews())  # a membership change -> topic:member to the topic's members
    send_hooks: list[SendHook] = []
    messages = MessageService(w.db, directory, w.hub.publish, limits.all_mention_limit, files, send_hooks)
    topics = TopicService(
        w.db,
        presence,
        messages,
        per_hour("topics", limits.topics_per_hour, w.budgets),
        per_hour("invites", limits.invites_per_hour, w.budgets),
        people,
    )

    async def join_defaults(user_id: int) -> None:
        await topics.join(user_id, default_topics)

    async def ensure_topics() -> None:
        for name in default_topics:
            await topics.ensure_public(name)

    async def ensure_public() -> None:
        if public_topic is not None:
            await topics.ensure_public(public_topic)

    users.on_registered.append(join_defaults)
    w.part("default topics", ensure_topics)
    w.part("the public topic", ensure_public, serving=True)
    w.part("send batches", stop=messages.writer.drain)  # stopped first of these: no send in flight
    return Conversations(
        directory,
        messages,
        topics,
        ConversationService(w.db),
        ReactionService(w.db, directory),
        PinService(w.db, directory, messages),
        send_hooks,
    )
