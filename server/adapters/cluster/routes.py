"""Where each event goes on the hub: the one place that decides (``route``).

A node subscribes to the channel of every topic its local sockets follow and of every user
connected to it (``server.adapters.cluster.redis_hub``), so it reads what its sockets are for,
not the whole cluster's traffic. Per event class:

- ``AUDIENCE``: the event's audience says where. A topic's news (``ToTopic``: messages, edits,
  deletions, reactions, threads, previews, pins, typing, read marks, ``topic:member``, room
  entries, calls) goes on that topic's channel; one user's (``ToUser``: invitations, removals,
  a direct conversation's renderings, calls) on that user's; a few users' (``ToUsers``: presence,
  profiles) on each of theirs, up to ``FEW`` users, and past that on the broadcast channel (one
  publish, not hundreds); everyone's (``ToEveryone``) on the broadcast channel.
- ``USER``: for one socket of a user (``CallSignalled``): that user's channel.
- ``EVERY_NODE``: what every node's caches must follow whatever its sockets: memberships (the
  directory's member sets, and the sockets of the user move), revocations (logouts, tokens,
  signed-out sessions, roles), mutes, blocks, renames, deletions, webhooks, the outbox's wake-up.
  They are rare; the broadcast channel also carries every node's heartbeat.
- ``HERE``: told to this node's sinks only, never published (``codec.HERE_ONLY``).

A class missing here goes on the broadcast channel (every node hears it, as before the routing):
a new event is never lost, only not yet routed; ``tests/adapters/cluster/test_routes.py`` fails
until it is given its place.
"""

from __future__ import annotations

from typing import Final

from server.chat.kernel import events as ev

EVERYONE: Final = "hub"
"""The broadcast channel's key: ``{channel}:hub``, the channel of the hub before the routing."""
FEW = 16
"""At most this many users' channels for one ``ToUsers`` event; past it, the broadcast channel."""

AUDIENCE = "audience"
USER = "user"
EVERY_NODE = "every node"
HERE = "here"

RULES: dict[type, str] = {
    ev.MessageCreated: AUDIENCE,
    ev.MessageEdited: AUDIENCE,
    ev.MessageDeleted: AUDIENCE,
    ev.ReactionsChanged: AUDIENCE,
    ev.ThreadChanged: AUDIENCE,
    ev.PreviewsChanged: AUDIENCE,
    ev.PinsChanged: AUDIENCE,
    ev.Typing: AUDIENCE,
    ev.RoomEntered: AUDIENCE,
    ev.ReadMarked: AUDIENCE,
    ev.MemberListChanged: AUDIENCE,
    ev.PresenceChanged: AUDIENCE,
    ev.UserUpdated: AUDIENCE,
    ev.TopicInvited: AUDIENCE,
    ev.TopicCreated: AUDIENCE,
    ev.TopicRemoved: AUDIENCE,
    ev.EmojiChanged: AUDIENCE,
    ev.AppEvent: AUDIENCE,
    ev.CallStarted: AUDIENCE,
    ev.CallJoined: AUDIENCE,
    ev.CallLeft: AUDIENCE,
    ev.CallEnded: AUDIENCE,
    ev.CallSignalled: USER,
    ev.MembershipChanged: EVERY_NODE,
    ev.SessionsRevoked: EVERY_NODE,
    ev.SessionEnded: EVERY_NODE,
    ev.RoleChanged: EVERY_NODE,
    ev.TokenRevoked: EVERY_NODE,
    ev.TopicRenamed: EVERY_NODE,  # name caches; its audience's sockets hear it there too
    ev.TopicDeleted: EVERY_NODE,  # name and member caches
    ev.MuteChanged: EVERY_NODE,
    ev.TopicUpdated: EVERY_NODE,
    ev.UserDeleted: EVERY_NODE,
    ev.BlockChanged: EVERY_NODE,
    ev.WebhooksChanged: EVERY_NODE,
    ev.OutboxWritten: EVERY_NODE,  # any node's delivery worker may take the rows
    ev.NewsMissed: HERE,
    ev.MembershipsKnown: HERE,
}


def topic_key(topic_id: int) -> str:
    return f"t:{topic_id}"


def user_key(user_id: int) -> str:
    return f"u:{user_id}"


def route(event: ev.Event) -> tuple[str, ...]:
    """The keys of the channels ``event`` goes on (``EVERYONE`` for the broadcast channel, a
    ``topic_key`` or ``user_key``); none for what is told here only."""
    rule = RULES.get(type(event), EVERY_NODE)
    if rule is AUDIENCE:
        return of_audience(getattr(event, "audience", None))
    if rule is USER and isinstance(event, ev.CallSignalled):
        return (user_key(event.user_id),)
    if rule is HERE:
        return ()
    return (EVERYONE,)


def of_audience(audience: ev.Audience | None) -> tuple[str, ...]:
    if isinstance(audience, ev.ToTopic):
        return (topic_key(audience.topic_id),)
    if isinstance(audience, ev.ToUser):
        return (user_key(audience.user_id),)
    if isinstance(audience, ev.ToUsers) and len(audience.user_ids) <= FEW:
        return tuple(dict.fromkeys(user_key(user_id) for user_id in audience.user_ids))
    return (EVERYONE,)
