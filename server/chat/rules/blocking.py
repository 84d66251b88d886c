"""Blocking (PROTOCOL.md section 10): who blocked whom, in memory, and the service that changes it.

When A blocks B, B's direct messages and invites to A are refused ("cannot message this user"),
no new direct conversation between them starts, typing and presence stop between them both ways,
and in shared topics B's messages reach A with ``blocked: true`` and count in none of A's unread
or mention counts. The send path asks ``Blocks.blockers_of(sender)`` on every send, so the pairs
are kept in memory: loaded per user on first use (both directions in one query), then kept exact by
``BlockChanged``, which ``Blocks`` hears on every node as a hub sink of its own, after the commit
(the rules' assembly attaches it at the send path's stage, as the directory's member sets are kept
exact by ``MembershipChanged``). A send from someone nobody blocked costs one dict
lookup. A load that races with a change is read again (a generation counter says so). While no one
has blocked anyone (most servers, most of the time) no user is loaded at all: the first load finds
the table empty, and a ``BlockChanged`` that blocks ends that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import invalid, not_found
from server.chat.kernel.events import BlockChanged, Event, MessageCreated, NewsMissed
from server.chat.kernel.schemas import Empty
from server.chat.rules.schemas import BlocksOut

MAX_USERS = 50_000  # users whose pairs are kept; a full cache starts over (each can be read again)
NOBODY: frozenset[int] = frozenset()


def blocked_viewers(blockers: set[int], members: Iterable[int]) -> tuple[int, ...]:
    """Who sees a sender's message as ``blocked: true``: the ``members`` (of a topic, or a direct
    conversation's other side) among ``blockers``, those who blocked the sender; sorted."""
    return tuple(sorted(blockers.intersection(members))) if blockers else ()


class Blocks:
    """Both directions per loaded user: whom they blocked, and who blocked them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._blocked: dict[int, set[int]] = {}  # user -> the users they blocked
        self._blockers: dict[int, set[int]] = {}  # user -> the users who blocked them
        self._generation = 0
        # True: the table was empty when read and no block was committed since; False: it holds
        # (or held) a block, so a load reads the user's pairs without probing; None: not read yet.
        self._nobody: bool | None = None

    async def deliver(self, event: Event) -> None:
        """Hub sink: follow committed blocks; after missed news, read every user's pairs again."""
        if isinstance(event, MessageCreated):  # most events; neither kind below
            return
        if isinstance(event, BlockChanged):
            self.apply(event)
        elif isinstance(event, NewsMissed):
            self.forget_all()

    def apply(self, event: BlockChanged) -> None:
        """A block or unblock committed (on any node): loaded users follow it."""
        self._generation += 1
        if event.blocked:
            self._nobody = False
        blocked = self._blocked.get(event.user_id)
        blockers = self._blockers.get(event.blocked_id)
        if event.blocked:
            if blocked is not None:
                blocked.add(event.blocked_id)
            if blockers is not None:
                blockers.add(event.user_id)
        else:
            if blocked is not None:
                blocked.discard(event.blocked_id)
            if blockers is not None:
                blockers.discard(event.user_id)

    def forget_all(self) -> None:
        """Missed news: every user's pairs are read again on next use."""
        self._generation += 1
        self._blocked.clear()
        self._blockers.clear()
        self._nobody = None

    async def blockers_of(self, user_id: int) -> set[int]:
        """Who blocked ``user_id`` (do not change the set handed back)."""
        found = self._blockers.get(user_id)
        if found is None:
            if self._nobody or await self._load(user_id):
                return set()
            found = self._blockers.get(user_id, set())
        return found

    def known_blockers(self, user_id: int) -> set[int] | None:
        """``blockers_of`` when memory can answer (nobody blocked anyone, or the user is loaded),
        else None: the send path asks this first and awaits a load only on a miss."""
        if self._nobody:
            return set()
        return self._blockers.get(user_id)

    async def blocked_by(self, user_id: int) -> set[int]:
        """Whom ``user_id`` blocked (do not change the set handed back)."""
        found = self._blocked.get(user_id)
        if found is None:
            if self._nobody or await self._load(user_id):
                return set()
            found = self._blocked.get(user_id, set())
        return found

    async def blocks(self, user_id: int, other_id: int) -> bool:
        """``user_id`` blocked ``other_id``."""
        return other_id in await self.blocked_by(user_id)

    async def between(self, user_id: int, other_id: int) -> bool:
        """Either of the two blocked the other."""
        return other_id in await self.blocked_by(user_id) or other_id in await self.blockers_of(user_id)

    async def apart(self, user_id: int) -> frozenset[int]:
        """Everyone ``user_id`` blocked or was blocked by: typing and presence skip them both ways."""
        blocked, blockers = await self.blocked_by(user_id), await self.blockers_of(user_id)
        return frozenset(blocked | blockers) if blocked or blockers else NOBODY

    async def _load(self, user_id: int) -> bool:
        """Load the user's pairs; True (nothing loaded) when no one has blocked anyone."""
        while True:
            generation = self._generation
            async with self.db.read() as repos:
                nobody = self._nobody is None and await repos.blocks.none_at_all()
                pairs = [] if nobody else await repos.blocks.involving(user_id)
            if generation == self._generation:
                break
        if nobody:
            self._nobody = True
            return True
        self._nobody = False  # a block exists: later loads skip the probe
        if len(self._blocked) >= MAX_USERS:
            self._blocked.clear()
            self._blockers.clear()
        self._blocked[user_id] = {b for a, b in pairs if a == user_id}
        self._blockers[user_id] = {a for a, b in pairs if b == user_id}
        return False


class BlockService:
    """``user:block``, ``user:unblock``, ``user:blocks`` and their REST twins."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def block(self, actor: Actor, username: str) -> Empty:
        """Idempotent; ``not_found`` for an unknown user, ``invalid`` for oneself."""
        await self._change(actor, username, True)
        return Empty()

    async def unblock(self, actor: Actor, username: str) -> Empty:
        """Idempotent (unblocking someone not blocked is a no-op); ``not_found`` for an unknown user."""
        await self._change(actor, username, False)
        return Empty()

    async def list(self, actor: Actor) -> BlocksOut:
        async with self.db.read() as repos:
            return BlocksOut(users=await repos.blocks.names_blocked_by(actor.id))

    async def _change(self, actor: Actor, username: str, blocked: bool) -> None:
        async with self.db.write() as repos:
            user = await repos.users.by_name(username)
            if user is None or user.deleted_at is not None:
                raise not_found(f"no user named {username!r}")
            if user.id == actor.id:
                raise invalid("one cannot block oneself")
            if blocked:
                changed = await repos.blocks.add(actor.id, user.id, datetime.now(UTC))
            else:
                changed = await repos.blocks.remove(actor.id, user.id)
            if changed:
                repos.record(BlockChanged(actor.id, user.id, blocked))
