"""Sessions: what connecting and disconnecting mean, for every transport.

A transport (Socket.IO now, the compatibility gateways later) calls ``open``
with the token it found, turns the returned ``Session`` into its own
subscriptions (rooms), sends the ``backlog`` and, when the connection ends,
calls ``close``. No sids, no sockets: a ``Session`` names the actor and the
topics whose live events it should follow; direct conversations reach the
user through the user's own address, so they are not listed.

A connection that asks for recovery (``Recovery``) gets a pid (``Session.pid``);
one that resumes a pid gets a replay instead of the backlog (``server.chat.recovery``).

Errors: ``unauthorized``, ``token_expired``, ``token_revoked``, ``rate_limited``
(the user already has ``max_per_user`` connections open in this process) from ``open``.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.uow import Database
from server.chat.delivery import DeliveryService
from server.chat.errors import ChatError, ErrorCode
from server.chat.presence import PresenceService
from server.chat.recovery import Granted, Recovery, RecoveryService
from server.chat.schemas import MessageOut
from server.chat.signals import SignalService
from server.chat.users import Actor, UserService


@dataclass(frozen=True)
class Session:
    """An authenticated connection: who, the topics (not DMs) whose live events it follows, and
    its recovery session: its ``pid`` (None: not asked, or recovery is off) and, when it resumed
    one, the offset (``after_id``) its replay starts after."""

    actor: Actor
    topic_ids: tuple[int, ...]
    recovery: Granted | None = None

    @property
    def pid(self) -> str | None:
        return self.recovery.pid if self.recovery is not None else None

    @property
    def recovered(self) -> bool:
        return self.recovery is not None and self.recovery.after_id is not None


class SessionService:
    def __init__(
        self,
        db: Database,
        users: UserService,
        presence: PresenceService,
        delivery: DeliveryService,
        signals: SignalService,
        recovery: RecoveryService,
        max_per_user: int = 50,
    ) -> None:
        self.db = db
        self.users = users
        self.presence = presence
        self.delivery = delivery
        self.signals = signals
        self.recovery = recovery
        self.max_per_user = max_per_user
        self._open: dict[int, int] = {}  # user id -> connections open here (opened, not yet closed)

    def connections(self, user_id: int) -> int:
        return self._open.get(user_id, 0)

    async def open(self, token: str | None, recovery: Recovery | None = None) -> Session:
        """Authenticate, load the user's memberships once, and count the connection as online.

        With ``recovery``, the session gets a pid: the one asked for if it can be resumed.
        """
        actor = await self.users.authenticate(token)
        self._count(actor.id)  # no await since the check: concurrent opens cannot both slip in
        try:
            topics = await self.db.reads.topics_of(actor.id)
            topic_ids = tuple(topic_id for topic_id, kind in topics if kind != "direct")
            granted = await self.recovery.grant(actor.id, recovery) if recovery is not None else None
            await self.presence.socket_opened(actor.id, actor.username)
        except BaseException:
            self._uncount(actor.id)
            raise
        if granted is not None:
            self.recovery.opened(granted.pid)
        return Session(actor, topic_ids, granted)

    def _count(self, user_id: int) -> None:
        count = self._open.get(user_id, 0)
        if count >= self.max_per_user:
            message = f"too many open connections for this user (at most {self.max_per_user}); close one"
            raise ChatError(ErrorCode.RATE_LIMITED, message)
        self._open[user_id] = count + 1

    def _uncount(self, user_id: int) -> None:
        count = self._open.get(user_id, 0) - 1
        if count > 0:
            self._open[user_id] = count
        else:
            self._open.pop(user_id, None)

    async def backlog(self, session: Session) -> list[MessageOut]:
        """What the user has not acknowledged, oldest first per topic (capped per topic); for a
        resumed recovery session, the replay after its offset instead.

        Send it only once the transport follows the session's topics: anything stored
        later then arrives live, and the transport holds it until the backlog is out.
        """
        if session.recovery is not None and session.recovery.after_id is not None:
            return await self.recovery.replay(session.actor.id, session.recovery.after_id)
        return await self.delivery.backlog(session.actor.id)

    async def close(self, actor: Actor, pid: str | None = None) -> None:
        """A connection ended: presence, then (last connection) typing; cursors are flushed;
        the recovery window of its ``pid`` starts."""
        self._uncount(actor.id)
        try:
            if await self.presence.socket_closed(actor.id, actor.username):
                await self.signals.stopped(actor)
            await self.delivery.flush()
        finally:
            if pid is not None:
                await self.recovery.closed(pid)
