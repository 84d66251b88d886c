"""Membership moves laid over a read of memberships.

Two places read a user's topics and then act on them a moment later: a connection's set-up
(``sessions``: the socket follows them once registered) and the read-back after missed news
(``refill``: the sockets here are moved to match). A join or a leave told in between
(``MembershipChanged``, this node's or news from another) is at least as fresh as the read, and a
socket that is not registered yet (or whose topics the read is about to set) misses it otherwise:
it would not follow a topic its user just joined, or would go on following one they just left (a
kick). So each records the moves told meanwhile and lays them over what it read, in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from server.chat.kernel.events import MembershipChanged

Moves = dict[int, list[MembershipChanged]]
"""The moves told since a read began, by user, in the order told."""


def note(moves: Moves, move: MembershipChanged) -> None:
    moves.setdefault(move.user_id, []).append(move)


def laid_over(topic_ids: Iterable[int], moves: Iterable[MembershipChanged]) -> tuple[int, ...]:
    """``topic_ids`` as read, with ``moves`` applied in order (the read's order kept, joins last)."""
    follows = dict.fromkeys(topic_ids)
    for move in moves:
        if move.joined:
            follows[move.topic_id] = None
        else:
            follows.pop(move.topic_id, None)
    return tuple(follows)
