"""PROTOCOL.md section 10's rank table, as ``authority.check`` answers it: every action for every
standing, without a server or a database (``check`` is a pure function).

This is the full table. The end-to-end tests (``tests/edge/sio/test_moderation.py``) keep only a
few cases per transport, to prove that the events and routes reach ``check``.

Who is a member at all (a non-member, a banned user) is decided before ``check`` by ``access.py``
(``tests/chat/rules/test_access_rules.py``): ``check`` is asked only about members.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.records import MembershipRecord
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.rules.authority import MEMBER, Act, Standing, check, standing_of

OWNER, ADMIN, MODERATOR = Standing("owner"), Standing("admin"), Standing("moderator")
STANDINGS = {"owner": OWNER, "admin": ADMIN, "moderator": MODERATOR, "member": MEMBER}
RANKS = tuple(STANDINGS)  # highest first: the columns of the tables below
Y, N = True, False


def allowed(action: Act, actor: Standing, **context: object) -> bool:
    """True if ``check`` lets it through; a refusal is always ``forbidden``, with a reason."""
    try:
        check(action, actor, **context)  # type: ignore[arg-type]
    except ChatError as refusal:
        assert refusal.code is ErrorCode.FORBIDDEN and refusal.message
        return False
    return True


# Actions on the topic or its messages (no member as target), in a public or private topic that is
# not archived, by an actor who is not muted.
#
#   action              owner admin moderator member   PROTOCOL.md
BY_RANK = [
    (Act.POST,           (Y, Y, Y, Y)),  # section 3: every member sends
    (Act.EDIT,           (Y, Y, Y, Y)),  # section 3: one's own messages (the author is checked elsewhere)
    (Act.REACT,          (Y, Y, Y, Y)),  # section 8: members react
    (Act.PIN,            (Y, Y, Y, N)),  # section 8: owners, admins and moderators pin
    (Act.MENTION_ALL,    (Y, Y, Y, N)),  # section 8: @all above the limit (the caller applies the limit)
    (Act.DELETE_ANY,     (Y, Y, Y, N)),  # section 10: moderators and up delete any message
    (Act.UPDATE,         (Y, Y, N, N)),  # section 10: topic:update is owner, admin
    (Act.ARCHIVE,        (Y, Y, N, N)),  # section 10: owner, admin
    (Act.UNARCHIVE,      (Y, Y, N, N)),  # section 10: owner, admin
    (Act.WEBHOOKS,       (Y, Y, N, N)),  # section 12: the owner and admins manage webhooks
]  # fmt: skip


@pytest.mark.parametrize("kind", ["public", "private"])
@pytest.mark.parametrize(("action", "expected"), BY_RANK, ids=[row[0].name for row in BY_RANK])
def test_who_may_act_on_a_topic_by_rank(kind: str, action: Act, expected: tuple[bool, ...]) -> None:
    answers = tuple(allowed(action, STANDINGS[rank], kind=kind) for rank in RANKS)
    assert answers == expected


# Actions on a member: the actor's rank must be at least the action's lowest and above the target's.
# Rows are the actor, columns the target (owner, admin, moderator, member).
MODERATE_A_MEMBER = {  # kick, ban, unban, mute, unmute: "moderator and up", on lower ranks
    "owner":     (N, Y, Y, Y),
    "admin":     (N, N, Y, Y),
    "moderator": (N, N, N, Y),
    "member":    (N, N, N, N),
}  # fmt: skip
GIVE_ADMIN = {  # topic:role "admin": "owner" only
    "owner":     (N, Y, Y, Y),
    "admin":     (N, N, N, N),
    "moderator": (N, N, N, N),
    "member":    (N, N, N, N),
}  # fmt: skip
GIVE_MODERATOR_OR_MEMBER = {  # topic:role "moderator" or "member": "owner; admin for moderator/member"
    "owner":     (N, Y, Y, Y),
    "admin":     (N, N, Y, Y),
    "moderator": (N, N, N, N),
    "member":    (N, N, N, N),
}  # fmt: skip
ON_A_MEMBER = [
    (Act.KICK, None, MODERATE_A_MEMBER),
    (Act.BAN, None, MODERATE_A_MEMBER),
    (Act.UNBAN, None, MODERATE_A_MEMBER),
    (Act.MUTE, None, MODERATE_A_MEMBER),
    (Act.UNMUTE, None, MODERATE_A_MEMBER),
    (Act.ROLE, "admin", GIVE_ADMIN),
    (Act.ROLE, "moderator", GIVE_MODERATOR_OR_MEMBER),
    (Act.ROLE, "member", GIVE_MODERATOR_OR_MEMBER),
]
CELLS = [
    (action, new_role, actor, target, table[actor][column])
    for action, new_role, table in ON_A_MEMBER
    for actor in RANKS
    for column, target in enumerate(RANKS)
]


@pytest.mark.parametrize(
    ("action", "new_role", "actor", "target", "expected"),
    CELLS,
    ids=[f"{actor}-{a.name}{':' + r if r else ''}-{target}" for a, r, actor, target, _ in CELLS],
)
def test_a_rank_acts_only_on_lower_ranks(
    action: Act, new_role: str | None, actor: str, target: str, expected: bool
) -> None:
    answer = allowed(action, STANDINGS[actor], target=STANDINGS[target], new_role=new_role)
    assert answer is expected


def test_the_table_covers_every_action() -> None:
    covered = {row[0] for row in BY_RANK} | {action for action, _, _ in ON_A_MEMBER}
    assert covered == set(Act)


@pytest.mark.parametrize("action", [Act.KICK, Act.BAN, Act.UNBAN, Act.MUTE, Act.UNMUTE])
def test_a_user_who_is_not_a_member_is_a_target_of_member_rank(action: Act) -> None:
    """Ban and unban may name someone not (or no longer) in the topic: they rank as a member."""
    assert allowed(action, MODERATOR) and allowed(action, MODERATOR, target=MEMBER)
    assert not allowed(action, MEMBER)


@pytest.mark.parametrize("new_role", ["owner", "king", None])
def test_the_roles_to_give_are_admin_moderator_and_member(new_role: str | None) -> None:
    with pytest.raises(ChatError, match="the roles to give are admin, moderator and member"):
        check(Act.ROLE, OWNER, target=MEMBER, new_role=new_role)


def test_a_refusal_says_who_may() -> None:
    with pytest.raises(ChatError, match="only moderators may pin in 'general'"):
        check(Act.PIN, MEMBER, where="'general'")
    with pytest.raises(ChatError, match="only owners and admins may archive in 'general'"):
        check(Act.ARCHIVE, MODERATOR, where="'general'")
    with pytest.raises(ChatError, match="only the owner makes admins in 'general'"):
        check(Act.ROLE, ADMIN, target=MEMBER, new_role="admin", where="'general'")
    with pytest.raises(ChatError, match="a moderator acts only on lower ranks"):
        check(Act.KICK, MODERATOR, target=MODERATOR)


# Muted: "the member still reads but any send, reaction or pin of theirs in the topic is forbidden".
#
#   action              muted member  muted moderator
WHEN_MUTED = [
    (Act.POST,           N,    N),
    (Act.REACT,          N,    N),
    (Act.PIN,            N,    N),  # a muted moderator may not pin either
    (Act.MENTION_ALL,    N,    Y),  # rank only: a muted sender is refused the send itself (POST)
    (Act.EDIT,           Y,    Y),  # an edit is not a send
    (Act.DELETE_ANY,     N,    Y),  # rank, not mute, decides the rest
    (Act.KICK,           N,    Y),
    (Act.MUTE,           N,    Y),
]  # fmt: skip


@pytest.mark.parametrize(("action", "member", "moderator"), WHEN_MUTED, ids=[r[0].name for r in WHEN_MUTED])
def test_a_muted_member_still_reads_but_may_not_send_react_or_pin(
    action: Act, member: bool, moderator: bool
) -> None:
    muted_member = Standing("member", muted=True)
    muted_moderator = Standing("moderator", muted=True)
    assert allowed(action, muted_member) is member
    assert allowed(action, muted_moderator) is moderator


def test_a_muted_member_is_told_so() -> None:
    with pytest.raises(ChatError, match="you are muted in 'general'"):
        check(Act.POST, Standing(muted=True), where="'general'")


def test_a_mute_for_some_minutes_ends_by_itself() -> None:
    now = datetime.now(UTC)
    assert not allowed(Act.POST, Standing(muted=True, muted_until=now + timedelta(minutes=5)))
    assert allowed(Act.POST, Standing(muted=True, muted_until=now - timedelta(seconds=1)))
    naive_past = (now - timedelta(minutes=1)).replace(tzinfo=None)  # as SQLite hands it back
    assert allowed(Act.POST, Standing(muted=True, muted_until=naive_past))
    assert Standing(muted=True).is_muted(now + timedelta(days=3650))  # no end: until unmuted


# Archived: "read-only for everyone (sends, edits, reactions, pins: forbidden)"; the owner and admins
# still unarchive, moderators still delete and moderate.
#
#   action              owner admin moderator member
WHEN_ARCHIVED = [
    (Act.POST,           (N, N, N, N)),
    (Act.EDIT,           (N, N, N, N)),
    (Act.REACT,          (N, N, N, N)),
    (Act.PIN,            (N, N, N, N)),
    (Act.MENTION_ALL,    (Y, Y, Y, N)),  # rank only: the send itself is refused (POST)
    (Act.DELETE_ANY,     (Y, Y, Y, N)),
    (Act.UPDATE,         (Y, Y, N, N)),
    (Act.UNARCHIVE,      (Y, Y, N, N)),
    (Act.WEBHOOKS,       (Y, Y, N, N)),
]  # fmt: skip


@pytest.mark.parametrize(("action", "expected"), WHEN_ARCHIVED, ids=[r[0].name for r in WHEN_ARCHIVED])
def test_an_archived_topic_is_read_only_for_everyone(action: Act, expected: tuple[bool, ...]) -> None:
    answers = tuple(allowed(action, STANDINGS[rank], archived=True) for rank in RANKS)
    assert answers == expected


def test_an_archived_topic_says_so_before_rank_or_mute() -> None:
    with pytest.raises(ChatError, match="'general' is archived: it is read-only"):
        check(Act.POST, Standing(muted=True), archived=True, where="'general'")


# A direct conversation: "no roles or moderation (only blocking)"; its two members send, edit, react
# and pin (section 8: "in a direct conversation, both users").
MODERATION_ACTS = [
    Act.DELETE_ANY,
    Act.ROLE,
    Act.KICK,
    Act.BAN,
    Act.UNBAN,
    Act.MUTE,
    Act.UNMUTE,
    Act.UPDATE,
    Act.ARCHIVE,
    Act.UNARCHIVE,
    Act.WEBHOOKS,
]


@pytest.mark.parametrize("action", [Act.POST, Act.EDIT, Act.REACT, Act.PIN, Act.MENTION_ALL])
def test_both_members_of_a_direct_conversation_send_edit_react_and_pin(action: Act) -> None:
    assert allowed(action, MEMBER, kind="direct")


@pytest.mark.parametrize("action", MODERATION_ACTS)
def test_a_direct_conversation_has_no_roles_or_moderation(action: Act) -> None:
    with pytest.raises(ChatError, match="a direct conversation has no roles or moderation"):
        check(action, OWNER, kind="direct", target=MEMBER, new_role="member")


def test_the_actions_are_the_sections_ones_and_the_moderation_ones_are_refused_in_a_dm() -> None:
    assert set(MODERATION_ACTS) | {Act.POST, Act.EDIT, Act.REACT, Act.PIN, Act.MENTION_ALL} == set(Act)


# standing_of: a membership as the rule reads it.


def membership(
    role: str, muted_at: datetime | None = None, until: datetime | None = None
) -> MembershipRecord:
    joined = datetime(2026, 1, 1, tzinfo=UTC)
    return MembershipRecord(1, 2, role, joined, 0, 0, muted_at=muted_at, muted_until=until)


def test_a_standing_is_the_memberships_role_and_mute() -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    assert standing_of(membership("admin")) == Standing("admin")
    assert standing_of(membership("member", at)) == Standing("member", muted=True)
    assert standing_of(membership("moderator", at, at)) == Standing("moderator", True, at)


def test_an_unknown_role_ranks_as_a_member() -> None:
    assert Standing("guest").rank == MEMBER.rank == 0
    assert not allowed(Act.PIN, Standing("guest"))
