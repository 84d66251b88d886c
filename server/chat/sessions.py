"""Sessions: what connecting and disconnecting mean, for every transport.

A transport (Socket.IO now, the compatibility gateways later) calls ``open``
with the token it found, turns the returned ``Session`` into its own
subscriptions (rooms), sends the ``backlog`` and, when the connection ends,
calls ``close``. No sids, no sockets: a ``Session`` names the actor and the
topics whose live events it should follow; direct conversations reach the
user through the user's own address, so they are not listed.

Errors: ``unauthorized``, ``token_expired``, ``token_revoked``, ``rate_limited``
(the user already has ``max_per_user`` connections open in this process) from ``open``.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.uow import Database
from server.chat.delivery import DeliveryService
from server.chat.errors import ChatError, ErrorCode
from server.chat.presence import PresenceService
from server.chat.schemas import MessageOut
from server.chat.signals import SignalService
from server.chat.users import Actor, UserService


@dataclass(frozen=True)
class Session:
    """An authenticated connection: who, and the topics (not DMs) whose live events it follows."""

    actor: Actor
    topic_ids: tuple[int, ...]


class SessionService:
    def __init__(
        self,
        db: Database,
        users: UserService,
        presence: PresenceService,
        delivery: DeliveryService,
        signals: SignalService,
        max_per_user: int = 50,
    ) -> None:
        self.db = db
        self.users = users
        self.presence = presence
        self.delivery = delivery
        self.signals = signals
        self.max_per_user = max_per_user
        self._open: dict[int, int] = {}  # user id -> connections open here (opened, not yet closed)

    def connections(self, user_id: int) -> int:
        return self._open.get(user_id, 0)

    async def open(self, token: str | None) -> Session:
        """Authenticate, load the user's memberships once, and count the connection as online."""
        actor = await self.users.authenticate(token)
        self._count(actor.id)  # no await since the check: concurrent opens cannot both slip in
        try:
            topics = await self.db.reads.topics_of(actor.id)
            topic_ids = tuple(topic_id for topic_id, kind in topics if kind != "direct")
            await self.presence.socket_opened(actor.id, actor.username)
        except BaseException:
            self._uncount(actor.id)
            raise
        return Session(actor, topic_ids)

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
        """What the user has not acknowledged, oldest first per topic (capped per topic).

        Send it only once the transport follows the session's topics: anything stored
        later then arrives live, and the transport holds it until the backlog is out.
        """
        return await self.delivery.backlog(session.actor.id)

    async def close(self, actor: Actor) -> None:
        """A connection ended: presence, then (last connection) typing; cursors are flushed."""
        self._uncount(actor.id)
        if await self.presence.socket_closed(actor.id, actor.username):
            await self.signals.stopped(actor)
        await self.delivery.flush()
