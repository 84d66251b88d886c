"""What the realtime runtime's tests feed it: users, messages, events, and a transport writer
that records what the sink decides (a transport of its own, like the gateways' queue writer:
no sockets)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import MessageOut
from server.edge.realtime.connection import Close, Connection

ALICE = Actor(1, "alice")
BOB = Actor(2, "bob")
LOBBY = 10
NEWS = 11


def message(seq: int, topic: str = "lobby", sender: str = "bob") -> MessageOut:
    return MessageOut(
        id=1000 + seq,
        topic=topic,
        kind="public",
        seq=seq,
        sender=sender,
        body=f"m{seq}",
        created_at="2026-11-23T00:00:00Z",
        edited_at=None,
        client_id=None,
    )


def created(
    seq: int, topic_id: int = LOBBY, topic: str = "lobby", exclude: int | None = None
) -> ev.MessageCreated:
    return ev.MessageCreated(message(seq, topic), ev.ToTopic(topic_id, exclude), topic_id)


def typing(user: Actor = BOB, topic_id: int = LOBBY) -> ev.Typing:
    return ev.Typing("lobby", user.username, True, ev.ToTopic(topic_id, user.id), topic_id)


@dataclass
class Recorder:
    """A transport writer that writes nothing: it records what it was asked to write, per key."""

    rooms: bool = False
    written: list[tuple[str, ev.Event]] = field(default_factory=list)
    audiences: list[tuple[ev.Event, list[str], list[str]]] = field(default_factory=list)
    closed: list[tuple[str, Close]] = field(default_factory=list)
    moves: list[tuple[str, int, bool]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # the keys told their token expires soon
    # Every notice and close as it happens, to await: ("expiring" | "close", key).
    happened: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)

    async def write_many(
        self, event: ev.Event, audience: ev.Audience, connections: list[Connection], held: list[Connection]
    ) -> None:
        self.audiences.append((event, sorted(c.key for c in connections), sorted(c.key for c in held)))
        self.written.extend((c.key, event) for c in connections)

    async def write(self, connection: Connection, event: ev.Event) -> None:
        self.written.append((connection.key, event))

    async def close(self, connection: Connection, decision: Close) -> None:
        self.closed.append((connection.key, decision))
        self.happened.put_nowait(("close", connection.key))

    async def moved(self, connection: Connection, topic_id: int, joined: bool) -> None:
        self.moves.append((connection.key, topic_id, joined))

    async def expiring(self, connection: Connection) -> None:
        self.notices.append(connection.key)
        self.happened.put_nowait(("expiring", connection.key))

    def to(self, key: str) -> list[ev.Event]:
        return [event for k, event in self.written if k == key]
