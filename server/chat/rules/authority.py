"""Who may do what in a topic: the one authorisation function of PROTOCOL.md section 10.

``check(action, standing, ...)`` answers "may this actor do this action (to this target) here",
from the actor's rank, mute and the topic's archive state, and raises ``forbidden`` with the
reason otherwise. The services ask it for every ranked action, whichever event, REST route or
gateway led there: the send path (``messages.py``, from the directory's memory: archive and mute,
and ``@all`` in a big topic), reactions, pins, edits, deletions and the moderation actions
(``moderation.py``). Who is a member at all (private topics, direct conversations, bans) is
``access.py``'s and the services' question, asked before this one; blocking is ``blocking.py``'s.
One rank rule is still outside: incoming hooks (``hooks.py``, ``MANAGERS``) check owner or admin
themselves.
The full table is tested as a pure function in ``tests/chat/rules/test_authority_table.py``.

Ranks: owner > admin > moderator > member, and a rank acts only on lower ranks. A direct
conversation has no roles and no moderation (its two members may pin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from db.records import MembershipRecord
from db.times import utc
from server.chat.kernel.errors import forbidden

RANKS = {"member": 0, "moderator": 1, "admin": 2, "owner": 3}


class Act(StrEnum):
    POST = "post"
    EDIT = "edit"
    REACT = "react"
    PIN = "pin"
    DELETE_ANY = "delete any message"
    ROLE = "role"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    MUTE = "mute"
    UNMUTE = "unmute"
    UPDATE = "update"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    WEBHOOKS = "manage webhooks"  # PROTOCOL.md section 12
    MENTION_ALL = "mention @all"  # in a topic above PARLEY_ALL_MENTION_LIMIT members (section 8)


# The lowest rank that may act at all; the actions on a member also need a rank above theirs.
LOWEST_RANK = {
    Act.PIN: 1,
    Act.MENTION_ALL: 1,
    Act.DELETE_ANY: 1,
    Act.KICK: 1,
    Act.BAN: 1,
    Act.UNBAN: 1,
    Act.MUTE: 1,
    Act.UNMUTE: 1,
    Act.ROLE: 2,
    Act.UPDATE: 2,
    Act.ARCHIVE: 2,
    Act.UNARCHIVE: 2,
    Act.WEBHOOKS: 2,
}
ON_A_MEMBER = frozenset({Act.ROLE, Act.KICK, Act.BAN, Act.UNBAN, Act.MUTE, Act.UNMUTE})
READ_ONLY_WHEN_ARCHIVED = frozenset({Act.POST, Act.EDIT, Act.REACT, Act.PIN})
SILENCED_WHEN_MUTED = frozenset({Act.POST, Act.REACT, Act.PIN})
MODERATION = frozenset(LOWEST_RANK) - {Act.PIN, Act.MENTION_ALL}


@dataclass(frozen=True, slots=True)
class Standing:
    """An actor's place in a topic: its role and, if muted, until when (None: until unmuted)."""

    role: str = "member"
    muted: bool = False
    muted_until: datetime | None = None

    def is_muted(self, now: datetime | None = None) -> bool:
        """A mute whose time has passed has ended by itself (checked at use)."""
        if not self.muted:
            return False
        return self.muted_until is None or utc(self.muted_until) > (now or datetime.now(UTC))

    @property
    def rank(self) -> int:
        return RANKS.get(self.role, 0)


MEMBER = Standing()


def standing_of(membership: MembershipRecord) -> Standing:
    """A membership's role and mute, as the rule reads them."""
    return Standing(membership.role, membership.muted_at is not None, membership.muted_until)


def check(
    action: Act,
    actor: Standing,
    *,
    kind: str = "public",
    archived: bool = False,
    target: Standing | None = None,
    new_role: str | None = None,
    where: str = "this topic",
) -> None:
    """Raise ``forbidden`` unless ``actor`` may do ``action`` (to ``target``, giving ``new_role``)."""
    if kind == "direct":
        if action in MODERATION:
            raise forbidden("a direct conversation has no roles or moderation")
        return
    if archived and action in READ_ONLY_WHEN_ARCHIVED:
        raise forbidden(f"{where} is archived: it is read-only")
    if action in SILENCED_WHEN_MUTED and actor.is_muted():
        raise forbidden(f"you are muted in {where}")
    lowest = LOWEST_RANK.get(action, 0)
    if actor.rank < lowest:
        needed = {1: "moderators", 2: "owners and admins"}[lowest]
        raise forbidden(f"only {needed} may {action.value} in {where}")
    if action is Act.ROLE:
        if new_role not in ("admin", "moderator", "member"):
            raise forbidden("the roles to give are admin, moderator and member")
        if new_role == "admin" and actor.role != "owner":
            raise forbidden(f"only the owner makes admins in {where}")
    if action in ON_A_MEMBER and actor.rank <= (target or MEMBER).rank:
        raise forbidden(f"a {actor.role} acts only on lower ranks")
