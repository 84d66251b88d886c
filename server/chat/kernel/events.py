"""Domain events and their audiences.

A service builds events inside its transaction and publishes them to the
hub only after the commit. The audience says who should see an event in
domain terms (a topic's members, one user, some users); the transport turns
that into rooms.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.kernel.schemas import (
    MessageOut,
    PreviewOut,
    ProfileOut,
    ReactionOut,
    ThreadSummaryOut,
    TopicOut,
)


@dataclass(frozen=True)
class ToTopic:
    """Every connected member of a topic, except ``exclude_user`` and ``exclude_users`` if given
    (the users a personal rendering of the same event goes to, ``server.chat.kernel.audiences``)."""

    topic_id: int
    exclude_user: int | None = None
    exclude_users: tuple[int, ...] = ()

    def excludes(self, user_id: int) -> bool:
        return user_id == self.exclude_user or (bool(self.exclude_users) and user_id in self.exclude_users)

    @property
    def excluded(self) -> tuple[int, ...]:
        return self.exclude_users if self.exclude_user is None else (self.exclude_user, *self.exclude_users)


@dataclass(frozen=True)
class ToUser:
    """Every socket of one user."""

    user_id: int


@dataclass(frozen=True)
class ToUsers:
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class ToEveryone:
    """Every connected user (of every node), except ``exclude_user`` if given."""

    exclude_user: int | None = None


Audience = ToTopic | ToUser | ToUsers | ToEveryone


@dataclass(frozen=True)
class MessageCreated:
    message: MessageOut
    audience: Audience
    topic_id: int  # the room or the conversation: order per topic comes from ``message.seq``


@dataclass(frozen=True)
class MessageEdited:
    message: MessageOut
    audience: Audience
    topic_id: int = 0  # the room or the conversation (the messenger dialect names conversations by id)


@dataclass(frozen=True)
class MessageDeleted:
    id: int
    topic: str
    audience: Audience
    topic_id: int = 0
    message: MessageOut | None = None  # in a direct conversation, what was deleted (as it was)


@dataclass(frozen=True)
class ReactionsChanged:
    """A message's reactions changed (``reaction:updated``); ``me`` as the audience sees it."""

    topic: str
    id: int
    reactions: tuple[ReactionOut, ...]
    audience: Audience
    topic_id: int = 0


@dataclass(frozen=True)
class ThreadChanged:
    """A reply was added, edited or deleted in a thread (``thread:updated``)."""

    topic: str
    root: int
    summary: ThreadSummaryOut | None
    audience: Audience
    topic_id: int = 0


@dataclass(frozen=True)
class PreviewsChanged:
    """A message's link previews were made or removed (``message:previews``, PROTOCOL.md section 13)."""

    topic: str
    id: int
    previews: tuple[PreviewOut, ...]
    audience: Audience
    topic_id: int = 0


@dataclass(frozen=True)
class PinsChanged:
    """A topic's pinned messages changed (``pins:updated``), newest pin first."""

    topic: str
    pins: tuple[MessageOut, ...]
    audience: Audience
    topic_id: int = 0


@dataclass(frozen=True)
class TopicInvited:
    topic: TopicOut
    by: str
    audience: ToUser


@dataclass(frozen=True)
class TopicCreated:
    """A public topic was created (``topic:created``): its creator's sockets get the Topic as
    the creator sees it, everyone else's as a non-member does. Never for a private topic."""

    topic: TopicOut
    by: str
    audience: ToUser | ToEveryone


@dataclass(frozen=True)
class Typing:
    topic: str
    username: str
    typing: bool
    audience: Audience
    topic_id: int = 0


@dataclass(frozen=True)
class RoomEntered:
    """A member came into (or left) a room: the chat-rooms dialect's ``user_joined``/``user_left``."""

    topic: str
    username: str
    entered: bool
    audience: ToTopic


@dataclass(frozen=True)
class ReadMarked:
    topic: str
    username: str
    seq: int
    audience: Audience


@dataclass(frozen=True)
class PresenceChanged:
    username: str
    online: bool
    last_seen: str | None
    audience: ToUsers
    availability: str | None = None  # PROTOCOL.md section 14: online, away, dnd or offline


@dataclass(frozen=True)
class UserUpdated:
    """A person's profile or status changed (``user:updated``), as this audience may see it."""

    profile: ProfileOut
    audience: ToUsers


@dataclass(frozen=True)
class MembershipChanged:
    """A user joined or left a topic: its open sockets follow (rooms)."""

    user_id: int
    topic_id: int
    joined: bool


@dataclass(frozen=True)
class MemberListChanged:
    """Someone joined or left a topic (``topic:member``, PROTOCOL.md section 4): its online members'
    lists and counts follow at once, on every node. ``MembershipChanged`` moves sockets; this one
    is what the members are told."""

    topic: str
    username: str
    action: str  # "joined" or "left"
    role: str
    audience: ToTopic
    topic_id: int = 0


@dataclass(frozen=True)
class NewsMissed:
    """This node may have missed hub news (a broker outage): what it keeps in memory from the news
    (member sets, names, blocks, token states) is read again. Told to this node's sinks only, never
    carried between nodes (``Hub.tell_here``); the messages themselves are read back by
    ``server.chat.connections.refill``."""


@dataclass(frozen=True)
class MembershipsKnown:
    """The topics a user of this node is a member of now, read from the database after missed news:
    the user's sockets here follow exactly these (``Hub.tell_here`` only)."""

    user_id: int
    topic_ids: frozenset[int]


@dataclass(frozen=True)
class SessionsRevoked:
    """The user logged out (or an operator disabled, deleted or re-passworded them): every open
    socket of theirs must close."""

    user_id: int


@dataclass(frozen=True)
class SessionEnded:
    """One session of the user was signed out (PROTOCOL.md section 19): tokens carrying its ``sid``
    are refused on every node, and the sockets that connected with them close."""

    user_id: int
    session_id: str


@dataclass(frozen=True)
class RoleChanged:
    """A user's workspace role changed (PROTOCOL.md section 19): every node's ``Roles`` takes it
    at once, before any service acts."""

    user_id: int
    role: str


@dataclass(frozen=True)
class TokenRevoked:
    """A bot's API token was revoked (PROTOCOL.md section 12): every socket that connected with it,
    on every node, must close; token caches forget it."""

    user_id: int
    token_id: str


@dataclass(frozen=True)
class TopicRenamed:
    """An operator renamed a topic: its members see the new name, name caches forget the old one."""

    topic_id: int
    old_name: str
    name: str
    audience: ToTopic


@dataclass(frozen=True)
class TopicDeleted:
    """An operator deleted a topic: its members are told, name and member caches forget it."""

    topic_id: int
    name: str
    audience: ToTopic


@dataclass(frozen=True)
class TopicRemoved:
    """A member was kicked or banned (``topic:removed``): told on every socket of theirs; a ban
    with until when (None: until unbanned), so that the page can say it."""

    topic: str
    reason: str | None
    audience: ToUser
    banned: bool = False
    until: str | None = None


@dataclass(frozen=True)
class MuteChanged:
    """A member was muted (until ``until``, ISO 8601; None: until unmuted) or unmuted: every
    node's directory, which the send path asks, follows."""

    topic_id: int
    user_id: int
    muted: bool
    until: str | None = None


@dataclass(frozen=True)
class TopicUpdated:
    """A topic's archive state or description changed: name caches read it again."""

    topic_id: int
    name: str


@dataclass(frozen=True)
class UserDeleted:
    """An operator deleted an account: name caches forget ``username`` (free to register again)."""

    user_id: int
    username: str


@dataclass(frozen=True)
class BlockChanged:
    """``user_id`` blocked (or unblocked) ``blocked_id``: every node's block cache follows
    (``server.chat.rules.blocking``); nobody is told."""

    user_id: int
    blocked_id: int
    blocked: bool


@dataclass(frozen=True)
class WebhooksChanged:
    """A topic's outgoing webhooks were registered or removed: every node's ``WebhookMap`` reads
    them again (``server.chat.integrations.webhooks``); nobody is told."""

    topic_id: int


@dataclass(frozen=True)
class EmojiEntry:
    """One custom emoji as listed (PROTOCOL.md section 13)."""

    name: str
    url: str
    by: str | None
    created_at: str


@dataclass(frozen=True)
class EmojiChanged:
    """The custom emoji changed (one added or removed): ``emoji:updated`` with the whole list."""

    emoji: tuple[EmojiEntry, ...]
    audience: ToEveryone


@dataclass(frozen=True)
class CallInfo:
    """A call as a member sees it (PROTOCOL.md section 18): ``topic`` for a topic's, ``with_`` (the
    other member, as the receiver sees it) for a direct conversation's."""

    id: int
    media: str
    started_by: str
    started_at: str
    participants: tuple[str, ...]
    topic: str | None = None
    with_: str | None = None


@dataclass(frozen=True)
class CallStarted:
    """``call:started`` to the conversation's members."""

    call: CallInfo
    audience: ToTopic | ToUser


@dataclass(frozen=True)
class CallJoined:
    """``call:joined``: ``username`` takes part as ``peer`` now."""

    call_id: int
    username: str
    peer: str
    audience: Audience


@dataclass(frozen=True)
class CallLeft:
    """``call:left``: ``username`` (as ``peer``) is out of the call."""

    call_id: int
    username: str
    peer: str
    audience: Audience


@dataclass(frozen=True)
class CallEnded:
    """``call:ended``: the last participant left."""

    call_id: int
    duration_s: int
    audience: Audience


@dataclass(frozen=True)
class CallSignalled:
    """``call:signal`` for one socket (``sid``, of ``user_id``): only the node that holds it writes
    it. ``data`` is the client's JSON as text, carried as it came and never stored. No audience:
    the hub sink hands it to that one connection."""

    call_id: int
    sender: str  # the sender's peer
    data: str
    sid: str
    user_id: int


@dataclass(frozen=True)
class OutboxWritten:
    """Outbox rows of a reaction or membership change were committed: the delivery workers start
    at once instead of at their next poll (any node may deliver a row)."""

    topic_id: int


Event = (
    MessageCreated
    | EmojiChanged
    | NewsMissed
    | MembershipsKnown
    | MessageEdited
    | MessageDeleted
    | ReactionsChanged
    | ThreadChanged
    | PinsChanged
    | PreviewsChanged
    | UserUpdated
    | TopicInvited
    | TopicCreated
    | Typing
    | RoomEntered
    | ReadMarked
    | PresenceChanged
    | MembershipChanged
    | MemberListChanged
    | SessionsRevoked
    | SessionEnded
    | RoleChanged
    | TokenRevoked
    | TopicRenamed
    | TopicDeleted
    | TopicRemoved
    | MuteChanged
    | TopicUpdated
    | UserDeleted
    | BlockChanged
    | WebhooksChanged
    | OutboxWritten
    | CallStarted
    | CallJoined
    | CallLeft
    | CallEnded
    | CallSignalled
)
