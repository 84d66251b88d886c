"""Typing and read marks: small signals between members.

Typing is relayed, never stored, never sent back to the typer, never between
two users one of whom blocked the other (PROTOCOL.md section 10), and expires:
if a typer vanishes without ``typing: false`` the others get it after
``typing_ttl`` seconds. Read marks move ``read_seq`` forward only; other
members get ``read``.

Errors: ``not_found`` (unknown topic or user; a private topic of others),
``forbidden`` (not subscribed to a public topic).
"""

from __future__ import annotations

import asyncio

from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.events import Audience, Event, ReadMarked, RoomEntered, ToTopic, ToUser, Typing
from server.chat.kernel.hub import Hub
from server.chat.kernel.places import Place
from server.chat.kernel.schemas import Target
from server.chat.rules.access import locate, place_of, require_member
from server.chat.rules.blocking import Blocks


class SignalService:
    def __init__(self, db: Database, hub: Hub, typing_ttl: float, blocks: Blocks | None = None) -> None:
        self.db = db
        self.hub = hub
        self.typing_ttl = typing_ttl
        self.blocks = blocks  # typing skips blocked pairs both ways (PROTOCOL.md section 10)
        # (user, topic) -> the expiry timer and where the typing goes, to end it without a query
        self._expiry: dict[tuple[int, int], tuple[asyncio.TimerHandle, Place]] = {}
        self._tasks: set[asyncio.Future[None]] = set()

    async def typing(self, actor: Actor, target: Target, typing: bool) -> None:
        place = await self._member_place(actor, target, "type here")
        if place is None:
            return
        key = (actor.id, place.topic_id)
        running = self._expiry.pop(key, None)
        if running is not None:
            running[0].cancel()
        if typing:
            handle = asyncio.get_running_loop().call_later(self.typing_ttl, self._expire, actor, place)
            self._expiry[key] = (handle, place)
        await self.hub.publish(*await self._typing_events(actor, place, typing))

    async def entered(self, actor: Actor, name: str, entered: bool) -> None:
        """Tell the other members the actor came into (or is leaving) the topic ``name``.

        The chat-rooms dialect's ``user_joined``/``user_left``; relayed, not stored. Raises
        ``not_found`` (no such topic; a private one of others), ``forbidden`` (not a member).
        """
        place = await self._member_place(actor, Target(topic=name), "be in it")
        if place is not None:
            audience = ToTopic(place.topic_id, exclude_user=actor.id)
            await self.hub.publish(RoomEntered(place.name, actor.username, entered, audience))

    async def stopped(self, actor: Actor) -> None:
        """The actor's last socket closed: end every typing it left running."""
        for key in [k for k in self._expiry if k[0] == actor.id]:
            handle, place = self._expiry.pop(key)
            handle.cancel()
            await self.hub.publish(*await self._typing_events(actor, place, False))

    def _expire(self, actor: Actor, place: Place) -> None:
        self._expiry.pop((actor.id, place.topic_id), None)
        task = asyncio.ensure_future(self._publish_typing(actor, place, False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish_typing(self, actor: Actor, place: Place, typing: bool) -> None:
        await self.hub.publish(*await self._typing_events(actor, place, typing))

    async def _typing_events(self, actor: Actor, place: Place, typing: bool) -> list[Event]:
        """To the other members but those the typer blocked or was blocked by."""
        apart = await self.blocks.apart(actor.id) if self.blocks is not None else frozenset[int]()
        if place.direct and place.peer_id in apart:
            return []
        events = _typing_events(actor, place, typing)
        if not apart or place.direct:
            return events
        audience = ToTopic(place.topic_id, exclude_user=actor.id, exclude_users=tuple(sorted(apart)))
        return [Typing(place.name, actor.username, typing, audience, place.topic_id)]

    async def close(self) -> None:
        """Shutdown: stop expiry timers and wait for relays in flight."""
        for handle, _place in self._expiry.values():
            handle.cancel()
        self._expiry.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def read(self, actor: Actor, target: Target, seq: int) -> None:
        async with self.db.write() as repos:
            found = await locate(repos, actor, target)
            if found is None:
                return
            topic, place = found
            await require_member(repos, place, actor, "mark it read")
            seq = min(seq, topic.last_seq)
            if await repos.memberships.advance_read(actor.id, place.topic_id, seq):
                repos.record(*_read_events(actor, place, seq))

    async def _member_place(self, actor: Actor, target: Target, action: str) -> Place | None:
        """The target if the actor is a member; None for a DM that does not exist yet."""
        async with self.db.read() as repos:
            place = await place_of(repos, actor, target)
            if place is not None:
                await require_member(repos, place, actor, action)
            return place


def _others(actor: Actor, place: Place) -> tuple[str, Audience] | None:
    """Topic-wide but not to the actor; for a DM only the other side, which sees ``@actor``."""
    if not place.direct:
        return place.name, ToTopic(place.topic_id, exclude_user=actor.id)
    if place.peer_id is None or place.peer_id == actor.id:
        return None
    return f"@{actor.username}", ToUser(place.peer_id)


def _typing_events(actor: Actor, place: Place, typing: bool) -> list[Event]:
    target = _others(actor, place)
    return [Typing(target[0], actor.username, typing, target[1], place.topic_id)] if target else []


def _read_events(actor: Actor, place: Place, seq: int) -> list[Event]:
    """To the other members and to the reader's own sockets (a second tab clears its unread)."""
    if not place.direct:
        return [ReadMarked(place.name, actor.username, seq, ToTopic(place.topic_id))]
    mine = ReadMarked(place.shown_as, actor.username, seq, ToUser(actor.id))
    target = _others(actor, place)
    return [ReadMarked(target[0], actor.username, seq, target[1]), mine] if target else [mine]
