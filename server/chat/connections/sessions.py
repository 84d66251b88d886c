"""Sessions: what connecting and disconnecting mean, for every transport.

Every realtime transport (Socket.IO and each gateway dialect) calls ``open``
with the token it found, turns the returned ``Session`` into its own
subscriptions (rooms), sends the ``backlog`` and, when the connection ends,
calls ``close``. No sids, no sockets: a ``Session`` names the actor and the
topics whose live events it should follow; direct conversations reach the
user through the user's own address, so they are not listed.

A connection that asks for recovery (``Recovery``) gets a pid (``Session.pid``);
one that resumes a pid gets a replay instead of the backlog (``server.chat.connections.recovery``).

Revocation: a logout (``SessionsRevoked``, from any node through the hub) closes the sockets
the transports have registered. A connection is registered only after its set-up (memberships,
presence, recovery), which awaits the database: a revocation in between would miss it. So every
open is *admitted*: from before its token check until the transport registers it, it notes the
users revoked meanwhile (this service is a hub sink, attached before the transports), and is let
in only once its token passes again after the last revocation of its user. A transport that
registers right after ``open`` returns (no await between) lets ``open`` admit it; one that awaits
more set-up first opens with ``admit=False`` and calls ``admit`` right before registering. The
joins and leaves of the user told in the same window are laid over the topics the set-up read
(``moves``): the session ``admit`` returns follows them.

Set-ups are bounded: ``open`` (token check, reads, presence) and ``backlog`` each run inside a
turn of one ``Gate`` (``PARLEY_CONNECT_CONCURRENCY`` turns), the backlog reads of connections
already let in before new opens. A reconnect storm queues here, first come, first served, instead
of in the database pool with every set-up's memory held meanwhile; an open whose client left while
it waited (the transport's ``present`` says so) does no work and raises ``Gone``.

Errors: ``unauthorized``, ``token_expired``, ``token_revoked``, ``rate_limited``
(the user already has ``max_per_user`` connections open in this process) from ``open`` and
``admit``.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from db.connections.records import Opening
from db.records import Credentials
from db.uow import Database
from server.chat.accounts.users import UserService
from server.chat.connections.delivery import DeliveryService
from server.chat.connections.moves import Moves, laid_over, note
from server.chat.connections.recovery import Granted, Recovery, RecoveryService
from server.chat.connections.signals import SignalService
from server.chat.kernel.actors import Actor
from server.chat.kernel.batching import Batched
from server.chat.kernel.budgets import Budgets
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.events import Event, MembershipChanged, SessionEnded, SessionsRevoked, TokenRevoked
from server.chat.kernel.gate import Gate
from server.chat.kernel.schemas import MessageOut
from server.chat.presence.service import PresenceService


class Gone(Exception):
    """The client left while its open waited for a turn: nothing was done for it."""


@dataclass(eq=False)
class Admission:
    """A connection between its token check and its registration: its token, the users whose
    sessions were revoked meanwhile and the membership moves told meanwhile (any user's: the token
    names its user only once checked)."""

    token: str | None = field(repr=False)
    revoked: set[int] = field(default_factory=set)
    moves: Moves = field(default_factory=dict)


@dataclass(frozen=True)
class Session:
    """An authenticated connection: who, the topics (not DMs) whose live events it follows, and
    its recovery session: its ``pid`` (None: not asked, or recovery is off) and, when it resumed
    one, the offset (``after_id``) its replay starts after."""

    actor: Actor
    topic_ids: tuple[int, ...]
    recovery: Granted | None = None
    admission: Admission = field(default_factory=lambda: Admission(None), repr=False, compare=False)
    expires_at: datetime | None = None  # when its token expires (the transport closes it then)

    @property
    def pid(self) -> str | None:
        return self.recovery.pid if self.recovery is not None else None

    @property
    def recovered(self) -> bool:
        return self.recovery is not None and self.recovery.after_id is not None


OPENINGS = 500  # users a batched opening read names at most
Credential = tuple[int, str | None, str | None]
"""A connection's user id, bot token id and session id (``Actor``), as ``Refill`` checks them."""


def no_opening() -> Opening:
    """A user the opening read did not find (deleted since the token was made)."""
    return Opening(None, [], None)


class OpeningRead:
    """A connect's one read of its user (``HotReads.openings``, shared with the connects of the same
    moment through ``read``): made for the token's check when the user's credentials are not in
    memory, and then what the set-up takes its memberships and availability from; made after the
    check when they were. Three round trips per connect before, and one per connect until a storm's
    connects shared theirs."""

    def __init__(self, read: Callable[[int], Awaitable[Opening]]) -> None:
        self.read = read
        self.made: Opening | None = None

    async def credentials(self, user_id: int) -> Credentials | None:
        self.made = await self.read(user_id)
        return self.made.credentials

    async def opening(self, user_id: int) -> Opening:
        made = self.made
        if made is not None and made.credentials is not None and made.credentials.id == user_id:
            return made
        return await self.read(user_id)


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
        budgets: Budgets | None = None,
        setups: Gate | None = None,
    ) -> None:
        self.db = db
        self.users = users
        self.presence = presence
        self.delivery = delivery
        self.signals = signals
        self.recovery = recovery
        self.max_per_user = max_per_user
        self.budgets = budgets  # several nodes: the sockets per user are counted for the cluster too
        self.setups = setups if setups is not None else Gate(10)  # opens and backlog reads at once
        self._open: dict[int, int] = {}  # user id -> connections open here (opened, not yet closed)
        # user id -> the oldest token version among them: after missed news (a broker outage), a
        # user whose stored version moved past it logged out meanwhile (``Refill``)
        self._versions: dict[int, int] = {}
        # (user id, API token id, session id) of the connections here that opened with a bot's token
        # or a session's, counted: after missed news, one revoked or signed out meanwhile closes
        self._credentials: dict[Credential, int] = {}
        # Opens not yet registered by their transport; weak: one that never is (its transport
        # failed) is dropped with its Session.
        self._admitting: weakref.WeakSet[Admission] = weakref.WeakSet()
        # The opening reads of the connects set up at one moment: one statement for them all
        self.openings: Batched[int, Opening] = Batched(self._read_openings, no_opening, OPENINGS)

    async def _read_openings(self, user_ids: list[int]) -> dict[int, Opening]:
        return await self.db.reads.openings(user_ids)

    def connections(self, user_id: int) -> int:
        return self._open.get(user_id, 0)

    async def open(
        self,
        token: str | None,
        recovery: Recovery | None = None,
        admit: bool = True,
        present: Callable[[], bool] | None = None,
    ) -> Session:
        """Authenticate, load the user's memberships once, and count the connection as online,
        in a turn of the set-up gate (``Gone``, having done nothing, when ``present()`` says the
        client left while it waited for one).

        With ``recovery``, the session gets a pid: the one asked for if it can be resumed.
        ``admit``: the transport registers the connection as soon as this returns; with
        False it calls ``admit`` before it does (see the module's docstring).
        """
        async with self.setups.turn():
            if present is not None and not present():
                raise Gone
            session = await self._set_up(token, recovery)
        if admit:
            return await self.admit(session)
        return session

    async def _set_up(self, token: str | None, recovery: Recovery | None) -> Session:
        admission = Admission(token)
        self._admitting.add(admission)  # before the check: no revocation can slip past
        read = OpeningRead(self.openings.get)
        actor, claims = await self.users.verify(token, read.credentials)
        await self.take_socket(actor.id)
        self._versions[actor.id] = min(claims.version, self._versions.get(actor.id, claims.version))
        self._hold(actor)
        try:
            opening = await read.opening(actor.id)
            topic_ids = tuple(topic_id for topic_id, kind in opening.topics if kind != "direct")
            granted = await self.recovery.grant(actor.id, recovery) if recovery is not None else None
            shares = any(kind != "public" for _, kind in opening.topics)  # see ``HotReads.partners``
            await self.presence.socket_opened(actor.id, actor.username, shares, opening.availability)
        except BaseException:
            self._let_go(actor)
            await self.release_socket(actor.id)
            raise
        if granted is not None:
            self.recovery.opened(granted.pid)
        return Session(actor, topic_ids, granted, admission, claims.expires_at)

    async def admit(self, session: Session) -> Session:
        """Let the connection in, unless its user's sessions were revoked since its token was
        checked and the token no longer passes (then the session is closed and the error raised).
        The session to register: its topics with the user's joins and leaves told since the set-up
        began laid over them. Register the connection right after this returns, with no await
        between."""
        admission = session.admission
        try:
            while session.actor.id in admission.revoked:  # rare: a revocation during set-up
                admission.revoked.discard(session.actor.id)
                await self.users.authenticate(admission.token)
        except BaseException:
            self._admitting.discard(admission)
            await self.close(session.actor, session.pid)
            raise
        self._admitting.discard(admission)
        moves = admission.moves.get(session.actor.id)
        return replace(session, topic_ids=laid_over(session.topic_ids, moves)) if moves else session

    async def deliver(self, event: Event) -> None:
        """A hub sink: a revocation (a logout, a revoked API token, a signed-out session) and a
        membership move reach the opens not yet registered (see ``admit``)."""
        if isinstance(event, MembershipChanged):
            for admission in self._admitting:
                note(admission.moves, event)
        elif isinstance(event, SessionsRevoked | TokenRevoked | SessionEnded):
            for admission in list(self._admitting):
                admission.revoked.add(event.user_id)

    def count_socket(self, user_id: int) -> None:
        """The local half of ``take_socket``."""
        count = self._open.get(user_id, 0)
        if count >= self.max_per_user:
            raise ChatError(ErrorCode.RATE_LIMITED, self._too_many())
        self._open[user_id] = count + 1

    async def take_socket(self, user_id: int) -> None:
        """Take one of the user's sockets (every namespace and dialect shares the count), or
        ``rate_limited`` past ``max_per_user``: in this process (no await before the local count:
        concurrent opens cannot both slip in), and with several nodes on every live node too (the
        local count stands alone while the cluster cannot answer)."""
        self.count_socket(user_id)
        if self.budgets is None:
            return
        try:
            counted = await self.budgets.socket_opened(user_id, self.max_per_user)
        except BaseException:
            self.uncount_socket(user_id)
            raise
        if counted is False:
            self.uncount_socket(user_id)
            raise ChatError(ErrorCode.RATE_LIMITED, self._too_many())

    async def release_socket(self, user_id: int) -> None:
        self.uncount_socket(user_id)
        if self.budgets is not None:
            await self.budgets.socket_closed(user_id)

    def _too_many(self) -> str:
        return f"too many open connections for this user (at most {self.max_per_user}); close one"

    def uncount_socket(self, user_id: int) -> None:
        count = self._open.get(user_id, 0) - 1
        if count > 0:
            self._open[user_id] = count
        else:
            self._open.pop(user_id, None)
            self._versions.pop(user_id, None)

    def token_versions(self) -> dict[int, int]:
        """The oldest token version each user with connections here opened one with."""
        return dict(self._versions)

    def credentials(self) -> list[Credential]:
        """The bots' tokens and the sessions the connections here opened with (``Refill``)."""
        return list(self._credentials)

    def _hold(self, actor: Actor) -> None:
        if actor.token_id is None and actor.session_id is None:
            return
        key = (actor.id, actor.token_id, actor.session_id)
        self._credentials[key] = self._credentials.get(key, 0) + 1

    def _let_go(self, actor: Actor) -> None:
        key = (actor.id, actor.token_id, actor.session_id)
        count = self._credentials.get(key, 0) - 1
        if count > 0:
            self._credentials[key] = count
        else:
            self._credentials.pop(key, None)

    async def backlog(self, session: Session) -> list[MessageOut]:
        """What the user has not acknowledged, oldest first per topic (capped per topic); for a
        resumed recovery session, the replay after its offset instead.

        Send it only once the transport follows the session's topics: anything stored
        later then arrives live, and the transport holds it until the backlog is out.
        """
        async with self.setups.turn(urgent=True):  # before new opens: finish who was let in
            if session.recovery is not None and session.recovery.after_id is not None:
                return await self.recovery.replay(session.actor.id, session.recovery.after_id)
            return await self.delivery.backlog(session.actor.id)

    async def close(self, actor: Actor, pid: str | None = None) -> None:
        """A connection ended: presence, then (last connection) typing; cursors are flushed;
        the recovery window of its ``pid`` starts."""
        self._let_go(actor)
        await self.release_socket(actor.id)
        try:
            if await self.presence.socket_closed(actor.id, actor.username):
                await self.signals.stopped(actor)
            await self.delivery.flush()
        finally:
            if pid is not None:
                await self.recovery.closed(pid)
