"""The one per-process registry of realtime connections, of every transport.

Indexed by key (a Socket.IO sid, a gateway socket's key), by user (logout, membership moves,
the per-user count), and the catching-up connections (the sink holds their
live events). Topic followers are indexed only for the connections the sink addresses one by
one: every connection of a writer without rooms (the gateways' queues) and every recovery
connection (each live ``message`` carries its offset). A Socket.IO connection without a pid
is reached through its transport's rooms, at no cost per recipient here.

With an ``Expiry``, registering a connection starts its token's clock and removing it stops it
(``server.edge.realtime.expiry``), for every transport alike.

``count(user)`` is the one count of a user's registered connections in the edge (the two
transports kept one each). The chat services still count for themselves (see ``count``).

With an ``Interest`` (the hub, ``server.chat.kernel.hub.Hub.want``), every topic a registered
connection follows and every user with a connection here is wanted, once per connection, and
dropped when it goes: a hub across nodes then reads only the news of this node's sockets.
A transport awaits ``heard`` before it reads a connection's backlog.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Protocol, TypeVar

from server.chat.kernel import events as ev
from server.edge.realtime.connection import Connection
from server.edge.realtime.expiry import Expiry

K = TypeVar("K", int, str)


class Interest(Protocol):
    """The news this node's connections want (the hub's ``want``/``drop``/``ready``)."""

    def want(
        self, topics: Iterable[int] = (), users: Iterable[int] = (), read_back: bool = False
    ) -> None: ...

    def drop(self, topics: Iterable[int] = (), users: Iterable[int] = ()) -> None: ...

    async def ready(self) -> None: ...


class Registry:
    def __init__(self, expiry: Expiry | None = None, interest: Interest | None = None) -> None:
        self.expiry = expiry  # the token clocks of the connections registered here
        self.interest = interest  # the hub: which topics' and users' news this node reads
        self._by_key: dict[str, Connection] = {}
        self._by_user: dict[int, set[Connection]] = {}
        self._catching_up: dict[str, Connection] = {}
        self._one_by_one: set[Connection] = set()  # addressed one by one (see the module's docstring)
        self._by_topic: dict[int, set[Connection]] = {}  # of those, the followers of each topic

    # Membership ----------------------------------------------------------------

    def add(self, connection: Connection, catch_up: bool = True) -> None:
        """Register a new connection; with ``catch_up`` its live events are held until ``release``
        says it is live."""
        connection.opened(catch_up)
        self._by_key[connection.key] = connection
        self._by_user.setdefault(connection.user_id, set()).add(connection)
        if connection.catching_up:
            self._catching_up[connection.key] = connection
        if connection.pid is not None or not connection.writer.rooms:
            self._one_by_one.add(connection)
            for topic_id in connection.follows:
                self._by_topic.setdefault(topic_id, set()).add(connection)
        if self.expiry is not None:
            self.expiry.watch(connection)
        if self.interest is not None:
            self.interest.want(connection.follows, (connection.user_id,))

    def remove(self, connection: Connection) -> bool:
        """Forget a connection; False if it was not (or no longer) registered."""
        if self._by_key.get(connection.key) is not connection:
            return False
        del self._by_key[connection.key]
        if self.expiry is not None:
            self.expiry.forget(connection)
        self._catching_up.pop(connection.key, None)
        _discard(self._by_user, connection.user_id, connection)
        if connection in self._one_by_one:
            self._one_by_one.discard(connection)
            for topic_id in connection.follows:
                _discard(self._by_topic, topic_id, connection)
        if self.interest is not None:
            self.interest.drop(connection.follows, (connection.user_id,))
        return True

    async def heard(self) -> None:
        """Once the news of every connection registered so far is heard (the hub subscribed):
        a backlog read after it misses nothing stored later."""
        if self.interest is not None:
            await self.interest.ready()

    def follow(self, connection: Connection, topic_id: int) -> None:
        """The connection now follows a topic's live events (a membership, while it is open)."""
        if self.interest is not None and topic_id not in connection.follows and self.registered(connection):
            self.interest.want((topic_id,), read_back=True)
        connection.follows.add(topic_id)
        if connection in self._one_by_one:
            self._by_topic.setdefault(topic_id, set()).add(connection)

    def unfollow(self, connection: Connection, topic_id: int) -> None:
        if self.interest is not None and topic_id in connection.follows and self.registered(connection):
            self.interest.drop((topic_id,))
        connection.follows.discard(topic_id)
        if connection in self._one_by_one:
            _discard(self._by_topic, topic_id, connection)

    def release(self, connection: Connection) -> list[ev.Event]:
        """``Connection.release``, and the registry's note of the end of its catch-up."""
        events = connection.release()
        if not connection.catching_up:
            self._catching_up.pop(connection.key, None)
        return events

    # Lookups -------------------------------------------------------------------

    def registered(self, connection: Connection) -> bool:
        return self._by_key.get(connection.key) is connection

    def get(self, key: str) -> Connection | None:
        return self._by_key.get(key)

    def of_user(self, user_id: int) -> list[Connection]:
        return list(self._by_user.get(user_id, ()))

    def count(self, user_id: int) -> int:
        """The user's registered connections in this process, of every transport.

        ``SessionService`` keeps its own count for ``max_connections_per_user``: it must count a
        connection from its token check on, through the set-up awaits before any transport
        registers it (else concurrent opens slip past the limit). ``PresenceService`` counts
        the sockets that make a user online (not the echo ones), with awaits of its own at
        open; ``RecoveryService`` counts the pids of its open sockets, to mark them as seen.
        """
        connections = self._by_user.get(user_id)
        return len(connections) if connections else 0

    def catching_up(self) -> Collection[Connection]:
        """The connections whose live events are held (a view: add or remove none while iterating)."""
        return self._catching_up.values()

    def reach(self, audience: ev.Audience) -> list[Connection]:
        """The connections addressed one by one that an event for ``audience`` is for."""
        if isinstance(audience, ev.ToTopic):
            found = self._by_topic.get(audience.topic_id)
            if not found:
                return []
            if audience.exclude_user is None and not audience.exclude_users:
                return list(found)
            return [c for c in found if not audience.excludes(c.actor.id)]
        if isinstance(audience, ev.ToUser):
            return self._one_by_one_of(audience.user_id)
        if isinstance(audience, ev.ToUsers):
            return [c for user_id in audience.user_ids for c in self._one_by_one_of(user_id)]
        return [c for c in self._one_by_one if c.actor.id != audience.exclude_user]

    def _one_by_one_of(self, user_id: int) -> list[Connection]:
        found = self._by_user.get(user_id)
        return [c for c in found if c in self._one_by_one] if found else []

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_key.values()))


def _discard(index: dict[K, set[Connection]], key: K, connection: Connection) -> None:
    found = index.get(key)
    if found is not None:
        found.discard(connection)
        if not found:
            del index[key]
