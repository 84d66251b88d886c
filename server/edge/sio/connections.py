"""Who is behind each socket of this process, and each user's open sockets.

A new socket is *catching up* from the moment it joins its rooms until its
backlog has been sent: events addressed to it meanwhile are held on the
connection (``held``) instead of being emitted, and the welcome step sends
them after the backlog (PROTOCOL.md section 4, "Order on one connection").

A recovery socket (one with a ``pid``) gets each live ``message`` with its
offset; the sockets with a pid are indexed by topic and by user, so the sink
finds them in O(recovery sockets), and in O(1) when a topic has none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.chat.ratelimit import TokenBucket
from server.chat.users import Actor

Held = tuple[str, dict[str, Any]]
"""An event name and its payload, as the sink would have emitted it."""


@dataclass
class Connection:
    sid: str
    actor: Actor
    bucket: TokenBucket
    topic_rooms: set[int] = field(default_factory=set)
    held: list[Held] = field(default_factory=list)
    pid: str | None = None  # connection-state recovery session, if the socket asked for one

    def take_held(self) -> list[Held]:
        """Everything held so far, oldest first; later events start a new list."""
        taken, self.held = self.held, []
        return taken


class Connections:
    def __init__(self) -> None:
        self._by_sid: dict[str, Connection] = {}
        self._by_user: defaultdict[int, set[str]] = defaultdict(set)
        self._catching_up: dict[str, Connection] = {}
        self._recovery_by_topic: defaultdict[int, set[str]] = defaultdict(set)
        self._recovery_by_user: defaultdict[int, set[str]] = defaultdict(set)

    def add(self, connection: Connection) -> None:
        """Register a new socket; it is catching up until ``caught_up``."""
        self._by_sid[connection.sid] = connection
        self._by_user[connection.actor.id].add(connection.sid)
        self._catching_up[connection.sid] = connection
        if connection.pid is not None:
            self._recovery_by_user[connection.actor.id].add(connection.sid)
            for topic_id in connection.topic_rooms:
                self._recovery_by_topic[topic_id].add(connection.sid)

    def follow(self, connection: Connection, topic_id: int) -> None:
        """The socket now follows a topic's live events."""
        connection.topic_rooms.add(topic_id)
        if connection.pid is not None:
            self._recovery_by_topic[topic_id].add(connection.sid)

    def unfollow(self, connection: Connection, topic_id: int) -> None:
        connection.topic_rooms.discard(topic_id)
        if connection.pid is not None:
            _discard(self._recovery_by_topic, topic_id, connection.sid)

    def caught_up(self, connection: Connection) -> bool:
        """End the catch-up if nothing is held (else False: send those first)."""
        if connection.held:
            return False
        self._catching_up.pop(connection.sid, None)
        return True

    def catching_up(self) -> Iterable[Connection]:
        return self._catching_up.values()

    def remove(self, sid: str) -> Connection | None:
        connection = self._by_sid.pop(sid, None)
        self._catching_up.pop(sid, None)
        if connection is not None:
            _discard(self._by_user, connection.actor.id, sid)
            if connection.pid is not None:
                _discard(self._recovery_by_user, connection.actor.id, sid)
                for topic_id in connection.topic_rooms:
                    _discard(self._recovery_by_topic, topic_id, sid)
        return connection

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def sids_of(self, user_id: int) -> list[str]:
        return list(self._by_user.get(user_id, ()))

    def recovery_sids_of_topic(self, topic_id: int) -> list[str]:
        """The sockets with a pid that follow the topic."""
        sids = self._recovery_by_topic.get(topic_id)
        return list(sids) if sids else []

    def recovery_sids_of_user(self, user_id: int) -> list[str]:
        sids = self._recovery_by_user.get(user_id)
        return list(sids) if sids else []

    def __len__(self) -> int:
        return len(self._by_sid)


def _discard(index: defaultdict[int, set[str]], key: int, sid: str) -> None:
    sids = index.get(key)
    if sids is not None:
        sids.discard(sid)
        if not sids:
            del index[key]
