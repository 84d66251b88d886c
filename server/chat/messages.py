"""Messages: send, edit, delete and history pages.

``send`` checks the target and membership against the in-memory directory
and hands the message to the group-commit writer (``writer.py``): stored in
one transaction with the others queued, published after the commit in
``seq`` order, acknowledged after that. A repeated ``client_id`` from the
same sender returns the original message and stores nothing.

Errors: ``not_found`` (topic, user or message, and any private topic or
message in one the actor is not a member of, worded as for a missing one),
``forbidden`` (not subscribed to a public topic; editing someone else's
message; deleting without being sender or owner), ``invalid`` (a
conversation with oneself).
"""

from __future__ import annotations

from datetime import UTC, datetime

from db.records import MessageRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.access import not_member, open_direct, peer_in, place_of, require_readable
from server.chat.directory import Directory
from server.chat.errors import forbidden, invalid, no_message
from server.chat.events import Audience, Event, MessageDeleted, MessageEdited, ToTopic, ToUser
from server.chat.places import Place, place_of_topic
from server.chat.schemas import MessageOut, PageOut, Target
from server.chat.users import Actor
from server.chat.views import direct_name, message_view
from server.chat.writer import Writer


class MessageService:
    def __init__(self, db: Database, directory: Directory) -> None:
        self.db = db
        self.directory = directory
        self.writer = Writer(db, self._original)

    async def send(self, actor: Actor, target: Target, body: str, client_id: str | None = None) -> MessageOut:
        """Store (group commit) and publish; live delivery follows ``seq`` per topic.

        Authorisation comes from the directory, not a query per send. Raises ``not_found``
        (also a private topic of others), ``forbidden`` (not subscribed to a public topic) or
        ``invalid`` (a conversation with oneself).
        """
        return await self.writer.submit(actor, lambda: self._place(actor, target, client_id), body, client_id)

    async def send_legacy(self, actor: Actor, name: str, body: str, client_id: str | None) -> MessageOut:
        """The original ``message`` event: a topic the actor can see if one has that name, else a user.

        A private topic of others is not seen, so the answer never tells it exists.
        """

        async def place() -> Place | MessageOut:
            topic = await self.directory.topic(name)
            is_topic = topic is not None and (
                topic.kind == "public" or await self.directory.is_member(topic.topic_id, actor.id)
            )
            target = Target(topic=name) if is_topic else Target(user=name)
            return await self._place(actor, target, client_id)

        return await self.writer.submit(actor, place, body, client_id)

    async def _place(self, actor: Actor, target: Target, client_id: str | None) -> Place | MessageOut:
        """Resolve (inside the writer, in queue order); the first message of a conversation opens it."""
        place = await self._resolve(actor, target)
        if place is not None:
            return place
        if client_id is not None and (original := await self._original(actor, client_id)) is not None:
            return original  # a resend towards someone new opens nothing
        # First message of a conversation: create it (a concurrent first message may win).
        return (await open_direct(self.db, actor, target.user or "")).place

    async def _resolve(self, actor: Actor, target: Target) -> Place | None:
        """The place to send to; None for a direct conversation that does not exist yet."""
        if target.user is None:
            topic = await self.directory.named_topic(target.topic or "")
            if not await self.directory.is_member(topic.topic_id, actor.id):
                raise not_member(topic.name, topic.kind, "post")
            return topic
        peer = await self.directory.user(target.user)
        if peer.id == actor.id:
            raise invalid("a direct conversation needs another user")
        name = direct_name(actor.id, peer.id)
        conversation = await self.directory.topic(name)
        if conversation is None:
            return None
        return Place(conversation.topic_id, name, "direct", peer.id, peer.username)

    async def _original(self, actor: Actor, client_id: str) -> MessageOut | None:
        """The message a repeated ``client_id`` stands for, if there is one."""
        async with self.db.read() as repos:
            existing = await repos.messages.by_client_id(actor.id, client_id)
            return None if existing is None else await self._view_existing(repos, existing, actor)

    async def edit(self, actor: Actor, message_id: int, body: str) -> MessageOut:
        async with self.db.write() as repos:
            message, place = await self._locate(repos, actor, message_id)
            if message.sender_id != actor.id:
                raise forbidden("only the sender may edit a message")
            message = await repos.messages.edit(message, body, datetime.now(UTC))
            repos.record(*_edited_events(message, actor.username, actor.id, place))
        return message_view(message, actor.username, place.kind, place.shown_as)

    async def delete(self, actor: Actor, message_id: int) -> None:
        async with self.db.write() as repos:
            message, place = await self._locate(repos, actor, message_id)
            if message.sender_id != actor.id and place.owner_id != actor.id:
                raise forbidden("only the sender or the topic owner may delete a message")
            message = await repos.messages.mark_deleted(message, datetime.now(UTC))
            repos.record(*_deleted_events(message, actor, place))

    async def history(self, actor: Actor, target: Target, before_seq: int | None, limit: int) -> PageOut:
        """Newest page first (below ``before_seq``), oldest first inside the page."""
        async with self.db.read() as repos:
            place = await place_of(repos, actor, target)
            if place is None:
                return PageOut(messages=[], has_more=False)
            await require_readable(repos, place, actor)
            return await self.page_in(repos, place, before_seq, limit)

    async def page_in(self, repos: Repositories, place: Place, before_seq: int | None, limit: int) -> PageOut:
        rows = await repos.messages.page(place.topic_id, before_seq, limit + 1)
        has_more = len(rows) > limit
        return PageOut(
            messages=[
                message_view(m, sender, place.kind, place.shown_as) for m, sender in reversed(rows[:limit])
            ],
            has_more=has_more,
        )

    async def _locate(
        self, repos: Repositories, actor: Actor, message_id: int
    ) -> tuple[MessageRecord, Place]:
        message = await repos.messages.by_id(message_id)
        topic = await repos.topics.by_id(message.topic_id) if message else None
        if message is None or topic is None or message.deleted_at is not None:
            raise no_message(message_id)
        if topic.kind != "public" and await repos.memberships.get(topic.id, actor.id) is None:
            raise no_message(message_id)
        if topic.kind == "direct":
            peer = await peer_in(repos, topic, actor.id)
            if peer is None:  # a row removed by hand: no one to tell
                return message, Place(topic.id, topic.name, topic.kind, None, "?", topic.owner_id)
            return message, place_of_topic(topic, peer)
        return message, place_of_topic(topic)

    async def _view_existing(self, repos: Repositories, message: MessageRecord, actor: Actor) -> MessageOut:
        _, place = await self._locate(repos, actor, message.id)
        return message_view(message, actor.username, place.kind, place.shown_as)


def _edited_events(message: MessageRecord, sender: str, sender_id: int, place: Place) -> list[Event]:
    """One event for a topic room; for a DM one per side, each naming the other.

    A direct conversation always has two distinct members (messaging oneself is ``invalid``).
    """
    if not place.direct or place.peer_id is None:
        view = message_view(message, sender, place.kind, place.name)
        return [MessageEdited(view, ToTopic(place.topic_id), place.topic_id)]
    mine = message_view(message, sender, place.kind, place.shown_as)
    theirs = message_view(message, sender, place.kind, f"@{sender}")
    return [
        MessageEdited(mine, ToUser(sender_id), place.topic_id),
        MessageEdited(theirs, ToUser(place.peer_id), place.topic_id),
    ]


def _deleted_events(message: MessageRecord, actor: Actor, place: Place) -> list[Event]:
    """Topic-wide, or per side of a DM; a DM's events carry the message (only its sender deletes it)."""
    if not place.direct or place.peer_id is None:
        return [MessageDeleted(message.id, place.name, ToTopic(place.topic_id), place.topic_id)]
    audiences: list[tuple[str, Audience]] = [
        (place.shown_as, ToUser(actor.id)),
        (f"@{actor.username}", ToUser(place.peer_id)),
    ]
    return [
        MessageDeleted(
            message.id,
            name,
            audience,
            place.topic_id,
            message_view(message, actor.username, place.kind, name),
        )
        for name, audience in audiences
    ]
