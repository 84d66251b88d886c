"""Who is behind each socket of this process, and each user's open sockets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from server.chat.ratelimit import TokenBucket
from server.chat.users import Actor


@dataclass
class Connection:
    sid: str
    actor: Actor
    address: str
    bucket: TokenBucket
    topic_rooms: set[int] = field(default_factory=set)


class Connections:
    def __init__(self) -> None:
        self._by_sid: dict[str, Connection] = {}
        self._by_user: defaultdict[int, set[str]] = defaultdict(set)

    def add(self, connection: Connection) -> None:
        self._by_sid[connection.sid] = connection
        self._by_user[connection.actor.id].add(connection.sid)

    def remove(self, sid: str) -> Connection | None:
        connection = self._by_sid.pop(sid, None)
        if connection is not None:
            sids = self._by_user[connection.actor.id]
            sids.discard(sid)
            if not sids:
                del self._by_user[connection.actor.id]
        return connection

    def get(self, sid: str) -> Connection | None:
        return self._by_sid.get(sid)

    def sids_of(self, user_id: int) -> list[str]:
        return list(self._by_user.get(user_id, ()))

    def __len__(self) -> int:
        return len(self._by_sid)
