"""Who sees which rendering of a message-shaped event: once per audience, never once per socket.

A Message's reactions carry ``me`` as seen by whoever receives it (PROTOCOL.md section 8). Members
who reacted with the same set of emoji see the same object, and everyone who reacted with none
sees ``me: false`` throughout: so the members of a topic fall into a few groups (one group per
distinct set of reactions, plus everyone else), each rendered once and sent to its users. Members
who blocked the sender (PROTOCOL.md section 10) are grouped apart the same way, ``blocked: true``. A direct
conversation is rendered per side anyway (each side names it after the other).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from db.records import ReactionState
from server.chat.kernel.actors import Actor
from server.chat.kernel.events import Audience, ToTopic, ToUser, ToUsers
from server.chat.kernel.places import Place

BLOCKED = (-1, "")  # the group key's mark of a member who blocked the sender (no reaction has it)


@dataclass(frozen=True, slots=True)
class View:
    audience: Audience
    viewer: int | None  # whose ``me`` to render (None: nobody's, all false)
    shown_as: str  # the topic's name as this audience sees it
    blocked: bool = False  # this audience blocked the sender (PROTOCOL.md section 10)


def views(
    place: Place,
    actor: Actor,
    reactions: Iterable[tuple[ReactionState, ...]],
    members: Collection[int] | None = None,
    blockers: Collection[int] = (),
) -> list[View]:
    """The audiences of an event about messages with these ``reactions`` in ``place`` (as ``actor``
    resolved it), each with the viewer to render it for. ``members``: the topic's current members,
    so that a reaction left by someone who has gone reaches them no more. ``blockers``: members who
    blocked the message's sender, a group of their own (``blocked: true``)."""
    if place.direct and place.peer_id is not None:
        return [
            View(ToUser(actor.id), actor.id, place.shown_as),
            View(ToUser(place.peer_id), place.peer_id, f"@{actor.username}", place.peer_id in blockers),
        ]
    keys: dict[int, set[tuple[int, str]]] = {}
    for index, states in enumerate(reactions):
        for state in states:
            for user_id, _ in state.users:
                if members is None or user_id in members:
                    keys.setdefault(user_id, set()).add((index, state.emoji))
    for user_id in blockers:
        keys.setdefault(user_id, set()).add(BLOCKED)
    if not keys:
        return [View(ToTopic(place.topic_id), None, place.name)]
    groups: dict[frozenset[tuple[int, str]], list[int]] = {}
    for user_id, mine in keys.items():
        groups.setdefault(frozenset(mine), []).append(user_id)
    everyone_else = View(ToTopic(place.topic_id, exclude_users=tuple(keys)), None, place.name)
    return [
        everyone_else,
        *(View(ToUsers(tuple(users)), users[0], place.name, BLOCKED in key) for key, users in groups.items()),
    ]
