"""``message:previews`` rendered once per audience: topic-wide, or per side of a direct
conversation (each side names it after the other), like the other events about a message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from db.repositories import Repositories
from server.chat.kernel.actors import Actor
from server.chat.kernel.audiences import views
from server.chat.kernel.events import Event, PreviewsChanged
from server.chat.kernel.places import Place, place_of_topic
from server.chat.kernel.schemas import PreviewOut
from server.chat.rules.access import peer_in


def previews_changed(
    place: Place, sender: Actor, message_id: int, previews: Sequence[dict[str, Any]]
) -> list[Event]:
    shown = tuple(PreviewOut.model_validate(preview) for preview in previews)
    return [
        PreviewsChanged(view.shown_as, message_id, shown, view.audience, place.topic_id)
        for view in views(place, sender, [])
    ]


async def sender_place(repos: Repositories, topic_id: int, sender_id: int) -> tuple[Place, Actor] | None:
    """The message's place as its sender sees it, and the sender (None: the topic is gone)."""
    topic = await repos.topics.by_id(topic_id)
    sender = await repos.users.by_id(sender_id)
    if topic is None or sender is None:
        return None
    peer = await peer_in(repos, topic, sender_id) if topic.kind == "direct" else None
    return place_of_topic(topic, peer), Actor(sender.id, sender.username)
