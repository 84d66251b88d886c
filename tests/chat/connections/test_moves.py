"""Membership moves laid over a read of memberships (server.chat.connections.moves): in the order
told, a join added after what was read, a leave taken out, the read's order kept."""

from __future__ import annotations

from server.chat.connections.moves import Moves, laid_over, note
from server.chat.kernel.events import MembershipChanged


def test_a_join_is_added_and_a_leave_taken_out_in_the_order_told() -> None:
    moves: Moves = {}
    for move in (
        MembershipChanged(1, 7, joined=True),
        MembershipChanged(2, 3, joined=False),
        MembershipChanged(1, 3, joined=False),
        MembershipChanged(1, 7, joined=False),
        MembershipChanged(1, 9, joined=True),
    ):
        note(moves, move)

    assert laid_over((5, 3, 1), moves[1]) == (5, 1, 9)
    assert laid_over((5, 3, 1), moves[2]) == (5, 1)
    assert laid_over((5, 3), ()) == (5, 3)


def test_a_join_of_a_topic_already_read_keeps_its_place() -> None:
    assert laid_over((4, 2), [MembershipChanged(1, 4, joined=True)]) == (4, 2)
