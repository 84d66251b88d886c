"""The Admin UI's room labels: ``topic:{id}`` and ``user:{id}`` (``sink.py``) by name.

A room is named by ids so that a rename moves nothing; an operator reads names. Topic names and
usernames cannot hold ``:``, so a label never reads as another room's id form by accident of syntax.
"""

from __future__ import annotations

from server.chat.service import Chat
from server.edge.engine.admin import RoomNames

KINDS = ("topic", "user")


def room_names(chat: Chat) -> RoomNames:
    """The ``room_names`` of ``AdminUI`` over the chat's topics and users."""

    async def names(rooms: list[str]) -> dict[str, str]:
        ids: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
        for room in rooms:
            kind, _, number = room.partition(":")
            if kind in ids and number.isdigit():
                ids[kind][room] = int(number)
        if not any(ids.values()):
            return {}
        topics, users = await chat.topic_admin.names(ids["topic"].values(), ids["user"].values())
        found = {"topic": topics, "user": users}
        return {
            room: f"{kind}:{found[kind][number]}"
            for kind, rooms_of_kind in ids.items()
            for room, number in rooms_of_kind.items()
            if number in found[kind]
        }

    return names
