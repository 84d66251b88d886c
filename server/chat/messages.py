"""Messages: send, edit, delete and history pages.

``send`` runs one transaction: check membership, take the topic's next
``seq``, insert, commit; only then are events published, so an acknowledged
message is durable and order comes from ``seq``. A repeated ``client_id``
from the same sender returns the original message and stores nothing.

Errors: ``not_found`` (topic, user or message), ``forbidden`` (not a member;
editing someone else's message; deleting without being sender or owner),
``invalid`` (a conversation with oneself).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError

from db.models import Message, Topic
from db.repositories import Repositories
from db.uow import Database
from server.chat.access import Place, place_of, require_member, require_readable
from server.chat.errors import forbidden, not_found
from server.chat.events import Audience, Event, MessageCreated, MessageDeleted, MessageEdited, ToTopic, ToUser
from server.chat.hub import Hub
from server.chat.schemas import MessageOut, PageOut, Target
from server.chat.users import Actor
from server.chat.views import message_view


class MessageService:
    def __init__(self, db: Database, hub: Hub) -> None:
        self.db = db
        self.hub = hub
        self.on_stored: list[Callable[[int, int], None]] = []
        # Locks exist only while someone holds or awaits them (weak values).
        self._order_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def send(self, actor: Actor, target: Target, body: str, client_id: str | None = None) -> MessageOut:
        """Store and publish; within this process, live delivery follows ``seq`` per topic."""
        async with self._in_order(actor, target):
            try:
                return await self._send(actor, target, body, client_id)
            except IntegrityError:
                # A concurrent transaction won a race (same client_id, or the first message of a
                # new conversation): the retry finds its row and returns or uses it.
                return await self._send(actor, target, body, client_id)

    def _in_order(self, actor: Actor, target: Target) -> asyncio.Lock:
        """One lock per topic (or conversation), held from taking the ``seq`` to publishing.

        The database already serialises senders of one topic (the write lock on SQLite, the
        row lock of ``UPDATE ... RETURNING`` on PostgreSQL), but the commit of one sender and
        the publish of the next could still swap; holding this lock until the publish keeps
        live events in ``seq`` order without costing throughput.
        """
        if target.user is not None:
            key = "@" + ":".join(sorted((actor.username.lower(), target.user.lower())))
        else:
            key = (target.topic or "").lower()
        lock = self._order_locks.get(key)
        if lock is None:
            lock = self._order_locks[key] = asyncio.Lock()
        return lock

    async def _send(self, actor: Actor, target: Target, body: str, client_id: str | None) -> MessageOut:
        async with self.db.write() as repos:
            if client_id is not None:
                existing = await repos.messages.by_client_id(actor.id, client_id)
                if existing is not None:
                    return await self._view_existing(repos, existing, actor)
            place = await place_of(repos, actor, target, create=True)
            assert place is not None
            await require_member(repos, place.topic, actor, "post")
            seq = await repos.topics.next_seq(place.topic_id)
            place.topic.last_seq = seq
            message = await repos.messages.add(
                Message(
                    topic_id=place.topic_id,
                    seq=seq,
                    sender_id=actor.id,
                    body=body,
                    client_id=client_id,
                    created_at=datetime.now(timezone.utc),
                )
            )
        for stored in self.on_stored:
            stored(place.topic_id, seq)
        events = _fan_out(MessageCreated, message, actor.username, actor.id, place)
        await self.hub.publish(*events)
        return message_view(message, actor.username, place.topic, place.shown_as)

    async def send_legacy(self, actor: Actor, name: str, body: str, client_id: str | None) -> MessageOut:
        """The original ``message`` event: a topic if one has that name, else a user."""
        async with self.db.read() as repos:
            is_topic = await repos.topics.by_name(name) is not None
        target = Target(topic=name) if is_topic else Target(user=name)
        return await self.send(actor, target, body, client_id)

    async def edit(self, actor: Actor, message_id: int, body: str) -> MessageOut:
        async with self.db.write() as repos:
            message, place = await self._locate(repos, actor, message_id)
            if message.sender_id != actor.id:
                raise forbidden("only the sender may edit a message")
            message.body = body
            message.edited_at = datetime.now(timezone.utc)
            repos.session.add(message)
        await self.hub.publish(*_fan_out(MessageEdited, message, actor.username, actor.id, place))
        return message_view(message, actor.username, place.topic, place.shown_as)

    async def delete(self, actor: Actor, message_id: int) -> None:
        async with self.db.write() as repos:
            message, place = await self._locate(repos, actor, message_id)
            if message.sender_id != actor.id and place.topic.owner_id != actor.id:
                raise forbidden("only the sender or the topic owner may delete a message")
            message.deleted_at = datetime.now(timezone.utc)
            repos.session.add(message)
        await self.hub.publish(*_deleted_events(message, actor, place))

    async def history(self, actor: Actor, target: Target, before_seq: int | None, limit: int) -> PageOut:
        """Newest page first (below ``before_seq``), oldest first inside the page."""
        async with self.db.read() as repos:
            place = await place_of(repos, actor, target)
            if place is None:
                return PageOut(messages=[], has_more=False)
            await require_readable(repos, place.topic, actor)
            return await self.page_in(repos, place.topic, place.shown_as, before_seq, limit)

    async def page_in(
        self, repos: Repositories, topic: Topic, shown_as: str, before_seq: int | None, limit: int
    ) -> PageOut:
        rows = await repos.messages.page(topic.id or 0, before_seq, limit + 1)
        has_more = len(rows) > limit
        return PageOut(
            messages=[message_view(m, sender, topic, shown_as) for m, sender in reversed(rows[:limit])],
            has_more=has_more,
        )

    async def _locate(self, repos: Repositories, actor: Actor, message_id: int) -> tuple[Message, Place]:
        message = await repos.messages.by_id(message_id)
        topic = await repos.topics.by_id(message.topic_id) if message else None
        if message is None or topic is None or message.deleted_at is not None:
            raise not_found(f"no message with id {message_id}")
        if topic.kind == "direct":
            if await repos.memberships.get(topic.id or 0, actor.id) is None:
                raise not_found(f"no message with id {message_id}")
            peer_id = await _peer_of(repos, topic, actor.id)
            peer = await repos.users.by_id(peer_id)
            return message, Place(topic=topic, shown_as=f"@{peer.username if peer else '?'}", peer=peer)
        await require_readable(repos, topic, actor)
        return message, Place(topic=topic, shown_as=topic.name)

    async def _view_existing(self, repos: Repositories, message: Message, actor: Actor) -> MessageOut:
        _, place = await self._locate(repos, actor, message.id or 0)
        return message_view(message, actor.username, place.topic, place.shown_as)


async def _peer_of(repos: Repositories, topic: Topic, user_id: int) -> int:
    ids = await repos.memberships.member_ids(topic.id or 0)
    others = [i for i in ids if i != user_id]
    return others[0] if others else user_id


def _fan_out(
    kind: type[MessageCreated] | type[MessageEdited],
    message: Message,
    sender: str,
    sender_id: int,
    place: Place,
) -> list[Event]:
    """One event for a topic room; for a DM one per side, each naming the other.

    A direct conversation always has two distinct members (messaging oneself is ``invalid``).
    """
    if place.topic.kind != "direct" or place.peer is None:
        return [kind(message_view(message, sender, place.topic), ToTopic(place.topic_id))]
    peer = place.peer
    mine = message_view(message, sender, place.topic, f"@{peer.username}")
    theirs = message_view(message, sender, place.topic, f"@{sender}")
    return [kind(mine, ToUser(sender_id)), kind(theirs, ToUser(peer.id or 0))]


def _deleted_events(message: Message, actor: Actor, place: Place) -> list[Event]:
    if place.topic.kind != "direct" or place.peer is None:
        return [MessageDeleted(message.id or 0, place.topic.name, ToTopic(place.topic_id))]
    audiences: list[tuple[str, Audience]] = [
        (place.shown_as, ToUser(actor.id)),
        (f"@{actor.username}", ToUser(place.peer.id or 0)),
    ]
    return [MessageDeleted(message.id or 0, name, audience) for name, audience in audiences]
