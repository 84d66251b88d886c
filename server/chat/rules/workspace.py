"""Who administers the workspace (PROTOCOL.md section 19): the three roles and what they allow.

Every account has a workspace role: ``owner``, ``admin`` or ``member``. Owners and admins of the
workspace act as a topic's ``admin`` (section 10) in every public topic, the default topics among
them, whatever their membership there says; private topics and direct conversations stay their
members' own (``in_topic``). Only an owner makes or unmakes owners and admins, and the last
owner cannot stop being one (``check_role_change``).

``Roles`` is the memory each node keeps of who holds a role above member: few accounts, read
once at start, then kept exact by ``RoleChanged`` from the hub on every node, so that a demotion
counts at once everywhere, for sockets opened before it too (a socket's ``Actor`` is fixed at
connect; its role is asked here at every use). A node that missed news reads them again.
"""

from __future__ import annotations

from dataclasses import replace

from db.uow import Database
from server.chat.kernel.errors import forbidden
from server.chat.kernel.events import Event, NewsMissed, RoleChanged
from server.chat.rules.authority import RANKS, Standing

OWNER, ADMIN, MEMBER = "owner", "admin", "member"
ROLES = (OWNER, ADMIN, MEMBER)
NOT_AN_ADMIN = "only the workspace's owners and admins may do this"


def administers(role: str) -> bool:
    """Owners and admins administer the workspace."""
    return role in (OWNER, ADMIN)


def in_topic(standing: Standing, role: str, kind: str) -> Standing:
    """``standing`` in a topic of ``kind``, raised to ``admin`` for a workspace owner or admin in
    a public topic (a mute stays: it silences whoever holds it)."""
    if kind == "public" and administers(role) and standing.rank < RANKS[ADMIN]:
        return replace(standing, role=ADMIN)
    return standing


def require_admin(role: str) -> None:
    """``forbidden`` unless ``role`` administers the workspace."""
    if not administers(role):
        raise forbidden(NOT_AN_ADMIN)


def check_role_change(actor_role: str, current: str, new: str, owners: int) -> None:
    """May an actor of ``actor_role`` move an account from ``current`` to ``new``, with ``owners``
    owners in the workspace? ``forbidden`` with the reason otherwise; ``ValueError`` for a role
    that does not exist (the edge's validation answers ``invalid`` before this)."""
    if new not in ROLES:
        raise ValueError(f"no workspace role {new!r}")
    if actor_role != OWNER and (administers(new) or administers(current)):
        raise forbidden("only an owner makes or unmakes owners and admins")
    if current == OWNER and new != OWNER and owners <= 1:
        raise forbidden("the last owner cannot stop being one: make another owner first")


class Roles:
    """Who holds a role above member, on this node (a hub sink: ``RoleChanged``, ``NewsMissed``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._above: dict[int, str] = {}
        self._loading: list[list[RoleChanged]] = []  # per read under way, the changes told since

    def of(self, user_id: int) -> str:
        return self._above.get(user_id, MEMBER)

    def acts_in(self, user_id: int, kind: str) -> bool:
        """Does ``user_id`` act as an admin in a topic of ``kind`` without being its member?"""
        return kind == "public" and administers(self.of(user_id))

    def standing(self, standing: Standing, user_id: int, kind: str) -> Standing:
        """``user_id``'s ``standing`` in a topic of ``kind``, as ``in_topic`` raises it (one dict
        lookup, and only in a public topic)."""
        if kind != "public" or not self._above:
            return standing
        return in_topic(standing, self.of(user_id), kind)

    def owners(self) -> int:
        return sum(1 for role in self._above.values() if role == OWNER)

    async def load(self) -> None:
        """Read who holds a role above member. A change told while the read runs is at least as
        fresh as what it saw, and is laid over it: an admin demoted meanwhile must not stay one
        here until the next missed news."""
        told: list[RoleChanged] = []
        self._loading.append(told)
        try:
            async with self.db.read() as repos:
                above = await repos.users.privileged()
        finally:
            self._loading.remove(told)
        self._above = above
        for change in told:
            self.set(change.user_id, change.role)

    def set(self, user_id: int, role: str) -> None:
        if role == MEMBER:
            self._above.pop(user_id, None)
        else:
            self._above[user_id] = role

    async def deliver(self, event: Event) -> None:
        if isinstance(event, RoleChanged):
            self.set(event.user_id, event.role)
            for told in self._loading:
                told.append(event)
        elif isinstance(event, NewsMissed):  # a change may have been missed: read them again
            await self.load()
