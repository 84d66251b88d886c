"""Events about existing messages (edits, deletions, reactions, threads, pins), rendered once per
audience (``server.chat.kernel.audiences``): each receiver gets the topic's name and the reactions' ``me``
as it sees them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from db.records import MessageRecord, ReactionState, ThreadSummary
from server.chat.kernel.actors import Actor
from server.chat.kernel.audiences import views
from server.chat.kernel.events import (
    Audience,
    Event,
    MessageDeleted,
    MessageEdited,
    PinsChanged,
    ReactionsChanged,
    ThreadChanged,
    ToTopic,
    ToUser,
)
from server.chat.kernel.places import Place
from server.chat.kernel.views import message_view, reactions_view, summary_view

Row = tuple[MessageRecord, str]  # a message and its sender's name


def edited(
    message: MessageRecord,
    actor: Actor,
    place: Place,
    members: Collection[int],
    blockers: Collection[int] = (),
) -> list[Event]:
    """``message:edited`` (only its sender edits a message); ``blockers``: the members who blocked
    the sender, who see it ``blocked``."""
    return [
        MessageEdited(
            message_view(message, actor.username, place.kind, view.shown_as, view.viewer, view.blocked),
            view.audience,
            place.topic_id,
        )
        for view in views(place, actor, [message.extras.reactions], members, blockers)
    ]


def deleted(message: MessageRecord, sender: str, actor: Actor, place: Place) -> list[Event]:
    """Topic-wide, or per side of a DM; a DM's events carry the message (only its sender deletes it)."""
    if not place.direct or place.peer_id is None:
        return [MessageDeleted(message.id, place.name, ToTopic(place.topic_id), place.topic_id)]
    audiences: list[tuple[str, Audience]] = [
        (place.shown_as, ToUser(actor.id)),
        (f"@{actor.username}", ToUser(place.peer_id)),
    ]
    return [
        MessageDeleted(
            message.id, name, audience, place.topic_id, message_view(message, sender, place.kind, name)
        )
        for name, audience in audiences
    ]


def thread_changed(place: Place, actor: Actor, root: int, summary: ThreadSummary | None) -> list[Event]:
    shown = summary_view(summary)
    return [
        ThreadChanged(view.shown_as, root, shown, view.audience, place.topic_id)
        for view in views(place, actor, [])
    ]


def reactions_changed(
    place: Place,
    actor: Actor,
    message_id: int,
    reactions: tuple[ReactionState, ...],
    members: Collection[int],
) -> list[Event]:
    return [
        ReactionsChanged(
            view.shown_as,
            message_id,
            tuple(reactions_view(reactions, view.viewer)),
            view.audience,
            place.topic_id,
        )
        for view in views(place, actor, [reactions], members)
    ]


def pins_changed(place: Place, actor: Actor, pins: Sequence[Row], members: Collection[int]) -> list[Event]:
    return [
        PinsChanged(
            view.shown_as,
            tuple(message_view(m, sender, place.kind, view.shown_as, view.viewer) for m, sender in pins),
            view.audience,
            place.topic_id,
        )
        for view in views(place, actor, [m.extras.reactions for m, _ in pins], members)
    ]
