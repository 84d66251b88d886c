"""One realtime connection's state, whatever its transport: who, what it follows, its catch-up.

A connection is *opening* until the registry has it, then *catching up* until its welcome (the
backlog, a recovery replay, a channel's history) is written: live events for it meanwhile are
held here and released after the welcome, in arrival order (PROTOCOL.md section 4, "Order on
one connection"). A held ``message`` the welcome already sent (its ``seq`` at or below the
last one the welcome sent for its topic) is dropped on release: this is the one place that
rule lives. Then it is *live*, until a close is decided (*closing*).

No I/O: the transport writes what ``release`` returns and carries out the ``Close`` decisions
that ``hold`` and ``close`` return. A connection that cannot keep up with its catch-up (more
than ``max_held`` live events held) is cut as a slow consumer: its client reconnects and
catches up from the backlog.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.kernel.schemas import MessageOut

MAX_HELD = 10_000  # live events held per catching-up connection (``Settings.max_held_events``)


class State(enum.Enum):
    OPENING = "opening"
    CATCHING_UP = "catching_up"
    LIVE = "live"
    CLOSING = "closing"


@dataclass(frozen=True)
class Close:
    """A decision to close a connection: a WebSocket close code and reason (the gateways send
    them as they are; Socket.IO ends the Engine.IO session)."""

    code: int
    reason: str


SLOW_CONSUMER = Close(1013, "slow_consumer")  # "try again later": it reconnects and gets the backlog
REVOKED = Close(4401, "token_revoked")  # a logout (``SessionsRevoked``)
EXPIRED = Close(4401, "token_expired")  # its token expired unreplaced (``server.edge.realtime.expiry``)


class Connection:
    """``key``: unique in the process (a Socket.IO sid). ``writer``: its transport's writer (the
    sink hands it what to write). ``follows``: the topics whose topic-wide events reach it;
    ``follows_memberships``: joins and leaves them as the user does elsewhere. ``pid``: its
    recovery session, if any. ``peer``: the transport's own object for it, if it has one.
    ``expires_at``: when its token expires (None: never), moved on by ``auth:refresh``."""

    __slots__ = (
        "_held",
        "_sent",
        "actor",
        "bucket",
        "expires_at",
        "follows",
        "follows_memberships",
        "key",
        "max_held",
        "peer",
        "pid",
        "state",
        "writer",
    )

    def __init__(
        self,
        key: str,
        actor: Actor,
        writer: Writer,
        bucket: TokenBucket | None = None,
        follows: Iterable[int] = (),
        pid: str | None = None,
        follows_memberships: bool = True,
        max_held: int = MAX_HELD,
        peer: Any = None,
        expires_at: datetime | None = None,
    ) -> None:
        self.key = key
        self.actor = actor
        self.writer = writer
        self.bucket = bucket
        self.follows = set(follows)
        self.pid = pid
        self.follows_memberships = follows_memberships
        self.max_held = max_held
        self.peer = peer
        self.expires_at = expires_at
        self.state = State.OPENING
        self._held: list[ev.Event] = []
        self._sent: dict[str, int] = {}  # topic -> the last seq the welcome sent

    def __repr__(self) -> str:
        return f"<Connection {self.key} of user {self.actor.id} {self.state.value}>"

    @property
    def user_id(self) -> int:
        return self.actor.id

    @property
    def catching_up(self) -> bool:
        return self.state is State.CATCHING_UP

    @property
    def closing(self) -> bool:
        return self.state is State.CLOSING

    @property
    def held(self) -> int:
        """How many live events wait for the welcome."""
        return len(self._held)

    def opened(self, catch_up: bool = True) -> None:
        """Registered: live events for it are held from now on (``catch_up``), or written at once."""
        if self.state is State.OPENING:
            self.state = State.CATCHING_UP if catch_up else State.LIVE

    def reaches(self, audience: ev.Audience) -> bool:
        """Whether an event for ``audience`` is for this connection."""
        user_id = self.actor.id
        if isinstance(audience, ev.ToTopic):
            return audience.topic_id in self.follows and not audience.excludes(user_id)
        if isinstance(audience, ev.ToUser):
            return audience.user_id == user_id
        if isinstance(audience, ev.ToEveryone):
            return user_id != audience.exclude_user
        return user_id in audience.user_ids

    def hold(self, event: ev.Event) -> Close | None:
        """Keep a live event until the welcome is written; past ``max_held`` the connection is cut."""
        if self.state is not State.CATCHING_UP:
            return None
        self._held.append(event)
        if len(self._held) > self.max_held:
            return self.close(SLOW_CONSUMER)
        return None

    def welcome(self, messages: Iterable[MessageOut]) -> Iterator[MessageOut]:
        """The welcome (a backlog, a replay, a channel's history), in order, for the transport to
        write one at a time; each handed out counts as sent: a held copy of it (or of an older one
        of its topic) is not released. Stop early if the connection goes."""
        sent = self._sent
        for message in messages:
            sent[message.topic] = message.seq
            yield message

    def release(self) -> list[ev.Event]:
        """What was held so far, oldest first, but what the welcome already sent; later events are
        held anew. With nothing held the catch-up ends (live): call until it has, writing what each
        call returns (the ends needs no await between the last look and the end)."""
        if self.state is not State.CATCHING_UP:
            return []
        held, self._held = self._held, []
        if not held:
            self.state = State.LIVE
            self._sent.clear()
            return []
        sent = self._sent
        if not sent:
            return held
        return [event for event in held if not _sent_before(event, sent)]

    def close(self, decision: Close) -> Close | None:
        """Decide to close; None if it is closing already (the first decision stands)."""
        if self.state is State.CLOSING:
            return None
        self.state = State.CLOSING
        self._held.clear()
        return decision


def _sent_before(event: ev.Event, sent: dict[str, int]) -> bool:
    """A held ``message`` the welcome already covered (``seq`` at or below the last one it sent)."""
    return isinstance(event, ev.MessageCreated) and event.message.seq <= sent.get(event.message.topic, 0)


class Writer(Protocol):
    """A transport's side of the sink (centrifuge's ``Transport{Write, WriteMany, Close}``)."""

    rooms: bool
    """True: it reaches an audience itself (Socket.IO rooms), and ``write_many`` gets only the
    connections it must treat apart; False: ``write_many`` gets every connection to write."""

    async def write_many(
        self, event: ev.Event, audience: ev.Audience, connections: list[Connection], held: list[Connection]
    ) -> None:
        """Write a live event to ``connections`` (its own, live, addressed one by one); a writer
        with rooms also to the rest of ``audience`` but ``held`` (its connections that hold it)."""
        ...

    async def write(self, connection: Connection, event: ev.Event) -> None:
        """Write one event held during the catch-up to its connection, as it would have been live."""
        ...

    async def close(self, connection: Connection, decision: Close) -> None:
        """Carry out a close decided here (a slow consumer, a logout) or by ``Expiry`` (an expired token)."""
        ...

    async def moved(self, connection: Connection, topic_id: int, joined: bool) -> None:
        """The connection now follows (or no longer follows) a topic (the registry has it)."""
        ...

    async def expiring(self, connection: Connection) -> None:
        """Tell the connection that its token expires soon (at ``connection.expires_at``): Socket.IO's
        ``auth:expiring``; a dialect with no such frame writes nothing."""
        ...
