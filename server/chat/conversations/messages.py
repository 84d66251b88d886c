"""Messages: send, edit, delete and history pages.

``send`` checks the target and membership against the in-memory directory
and hands the message to the group-commit writer (``writer.py``): stored in
one transaction with the others queued, published after the commit in
``seq`` order, acknowledged after that. A repeated ``client_id`` from the
same sender returns the original message and stores nothing.

A send may quote a message (``reply_to``), go to a thread (``thread``) and
mention members (PROTOCOL.md section 8): the quote, the root and the
mentions are resolved in the writer's queue order with the target, stored
in the send's transaction, and each thread a batch replied in is announced
(``thread:updated``) once the batch is answered.

Errors: ``not_found`` (topic, user or message, and any private topic or
message in one the actor is not a member of, worded as for a missing one;
a ``reply_to`` that is not a live message of the conversation),
``forbidden`` (not subscribed to a public topic; editing someone else's
message; deleting without being sender or owner; ``@all`` in a big topic
by a plain member; a direct message to someone who blocked the sender, or a
new conversation between two users one of whom blocked the other: "cannot
message this user", PROTOCOL.md section 10), ``invalid`` (a conversation with
oneself; a ``thread`` that is not a root of the conversation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from db.records import PLAIN, PLAIN_BOT, Extras, MessageRecord, Quote, links_only
from db.repositories import Repositories
from db.uow import Database
from server.chat.conversations import mentions
from server.chat.conversations.directory import Directory
from server.chat.conversations.links import links_of
from server.chat.conversations.message_events import deleted, edited, pins_changed, thread_changed
from server.chat.conversations.schemas import PageOut
from server.chat.conversations.writer import Destination, Publish, SendHook, Writer
from server.chat.files.service import FileService
from server.chat.kernel.actors import CLI, Actor, Doer
from server.chat.kernel.errors import ChatError, cannot_message, forbidden, invalid, no_message
from server.chat.kernel.facts import Acted
from server.chat.kernel.places import Place, place_of_topic
from server.chat.kernel.schemas import MessageOut, Target
from server.chat.kernel.views import direct_name, message_view
from server.chat.rules.access import (
    locate_message,
    not_member,
    open_direct,
    peer_in,
    place_of,
    require_readable,
)
from server.chat.rules.authority import MEMBER, RANKS, Act, Standing, check, standing_of
from server.chat.rules.blocking import blocked_viewers
from server.chat.rules.workspace import Roles

EXCERPT_CHARS = 100  # a quote shows the first 100 characters of the quoted body


class MessageService:
    """Sends go through ``writer``, which calls back into this service from its own task (its
    ``SendSide``: the ``destination`` closure each send queues, ``original``, ``threads_changed``);
    ``publish`` is the hub's, for the events of what the writer commits."""

    def __init__(
        self,
        db: Database,
        directory: Directory,
        publish: Publish,
        all_mention_limit: int = 50,
        files: FileService | None = None,
        send_hooks: Sequence[SendHook] = (),
    ) -> None:
        self.db = db
        self.directory = directory
        self.publish = publish
        self.all_mention_limit = all_mention_limit
        self.files = files
        self.writer = Writer(db, self, publish, send_hooks)

    async def send(
        self,
        actor: Actor,
        target: Target,
        body: str,
        client_id: str | None = None,
        reply_to: int | None = None,
        thread: int | None = None,
        files: tuple[str, ...] = (),
    ) -> MessageOut:
        """Store (group commit) and publish; live delivery follows ``seq`` per topic.

        Authorisation comes from the directory, not a query per send. Raises ``not_found``
        (also a private topic of others), ``forbidden`` (not subscribed to a public topic) or
        ``invalid`` (a conversation with oneself; ``files`` that are not the actor's unattached
        uploads, PROTOCOL.md section 11).
        """

        async def destination() -> Destination | MessageOut:
            place = await self._place(actor, target, client_id)
            if isinstance(place, MessageOut):
                return place
            found = await self._destination(actor, place, body, reply_to, thread)
            if files:
                found = await self._with_files(actor, found, files)
            return found

        return await self.writer.submit(actor, destination, body, client_id)

    async def send_legacy(self, actor: Actor, name: str, body: str, client_id: str | None) -> MessageOut:
        """The original ``message`` event: a topic the actor can see if one has that name, else a user.

        A private topic of others is not seen, so the answer never tells it exists.
        """

        async def destination() -> Destination | MessageOut:
            topic = await self.directory.topic(name)
            is_topic = topic is not None and (
                topic.kind == "public" or await self.directory.is_member(topic.topic_id, actor.id)
            )
            target = Target(topic=name) if is_topic else Target(user=name)
            place = await self._place(actor, target, client_id)
            if isinstance(place, MessageOut):
                return place
            return await self._destination(actor, place, body, None, None)

        return await self.writer.submit(actor, destination, body, client_id)

    async def _place(self, actor: Actor, target: Target, client_id: str | None) -> Place | MessageOut:
        """Resolve (inside the writer, in queue order); the first message of a conversation opens it."""
        place = await self._resolve(actor, target)
        if place is not None:
            return place
        if client_id is not None and (original := await self.original(actor, client_id)) is not None:
            return original  # a resend towards someone new opens nothing
        # First message of a conversation: create it (a concurrent first message may win).
        return (await open_direct(self.db, actor, target.user or "")).place

    async def _destination(
        self, actor: Actor, place: Place, body: str, reply_to: int | None, thread: int | None
    ) -> Destination:
        """What the message carries: its quote, its thread, whom it mentions, what it links to."""
        links = links_of(body)
        if reply_to is None and thread is None and "@" not in body:  # most sends: no quote, no mention
            if self.directory.blocks.known_blockers(actor.id) == set():  # nobody blocked the sender
                blockers: tuple[int, ...] = ()
            else:
                blockers = await self._blockers(actor, place)
            # A bot's (a backend's publish) is marked here, sharing PLAIN_BOT: the writer's own
            # marking copies the destination and its extras, and the copy is rendered the slow way.
            extras = links_only(links, actor.bot) if links else PLAIN_BOT if actor.bot else PLAIN
            return Destination(place, extras, blockers=blockers)
        quote = None
        if reply_to is not None or thread is not None:
            async with self.db.read() as repos:
                if reply_to is not None:
                    quote = await _quote(repos, place, reply_to)
                if thread is not None:
                    await _require_root(repos, place, thread)
        found = await mentions.find(self.directory, place.topic_id, actor.id, body)
        if found.everyone:
            await self._may_mention_everyone(actor, place)
        blockers = await self._blockers(actor, place)
        if quote is None and thread is None and not found.names and not found.everyone and not links:
            return Destination(place, blockers=blockers)
        extras = Extras(
            reply_to=quote,
            thread_root_id=thread,
            mentions=found.names,
            mentions_all=found.everyone,
            links=links,
        )
        return Destination(place, extras, found.user_ids, blockers=blockers)

    async def _with_files(self, actor: Actor, found: Destination, files: tuple[str, ...]) -> Destination:
        """The destination carrying ``files`` (their File objects kept on the message)."""
        if self.files is None:
            raise invalid("this server keeps no files")
        objects = await self.files.attachable(actor, files)
        return replace(found, extras=replace(found.extras, files=objects), files=files)

    async def _blockers(self, actor: Actor, place: Place) -> tuple[int, ...]:
        """The members of a topic (or the other side of a DM) who blocked ``actor`` (one dict lookup
        when nobody did)."""
        blockers = await self.directory.blocks.blockers_of(actor.id)
        if not blockers:
            return ()
        if place.direct:
            return blocked_viewers(blockers, () if place.peer_id is None else (place.peer_id,))
        return blocked_viewers(blockers, await self.directory.members(place.topic_id))

    async def _may_mention_everyone(self, actor: Actor, place: Place) -> None:
        if place.direct or len(await self.directory.members(place.topic_id)) <= self.all_mention_limit:
            return
        async with self.db.read() as repos:
            membership = await repos.memberships.get(place.topic_id, actor.id)
        # The topic's creator keeps the owner's rank here even after leaving and subscribing again.
        if place.owner_id == actor.id:
            standing = Standing("owner")
        else:
            standing = MEMBER if membership is None else standing_of(membership)
        standing = self.directory.roles.standing(standing, actor.id, place.kind)  # section 19
        try:
            check(Act.MENTION_ALL, standing, kind=place.kind)
        except ChatError:
            raise forbidden(
                f"only owners, admins and moderators may mention @all in a topic of more than "
                f"{self.all_mention_limit} members"
            ) from None

    async def _resolve(self, actor: Actor, target: Target) -> Place | None:
        """The place to send to; None for a direct conversation that does not exist yet."""
        if target.user is None:
            topic = await self.directory.named_topic(target.topic or "")
            if not await self.directory.is_member(topic.topic_id, actor.id):
                raise not_member(topic.name, topic.kind, "post")
            muted = self.directory.known_muted(topic.topic_id, actor.id)
            if muted is None:
                muted = await self.directory.muted(topic.topic_id, actor.id)
            if topic.archived or muted:
                check(
                    Act.POST,
                    Standing(muted=not topic.archived),
                    archived=topic.archived,
                    where=repr(topic.name),
                )
            return topic
        peer = await self.directory.user(target.user)
        if peer.id == actor.id:
            raise invalid("a direct conversation needs another user")
        name = direct_name(actor.id, peer.id)
        conversation = await self.directory.topic(name)
        blocks = self.directory.blocks
        if await blocks.blocks(peer.id, actor.id):
            raise cannot_message()
        if conversation is None and await blocks.blocks(actor.id, peer.id):
            raise cannot_message()  # no new conversation either way
        if conversation is None:
            return None
        return Place(conversation.topic_id, name, "direct", peer.id, peer.username)

    async def original(self, actor: Actor, client_id: str) -> MessageOut | None:
        """The message a repeated ``client_id`` stands for, if there is one (the writer asks it)."""
        async with self.db.read() as repos:
            existing = await repos.messages.by_client_id(actor.id, client_id)
            if existing is None:
                return None
            _, place = await locate_message(repos, actor, existing.id)
            return message_view(existing, actor.username, place.kind, place.shown_as, actor.id)

    async def threads_changed(self, roots: list[tuple[Place, Actor, int]]) -> None:
        """``thread:updated`` for the roots a batch replied to (their summaries as stored now):
        the writer tells it once the batch is answered; a read, so the events go to the hub here."""
        async with self.db.read() as repos:
            events = [
                event
                for place, actor, root in roots
                for event in thread_changed(place, actor, root, await repos.messages.thread_summary(root))
            ]
        await self.publish(*events)

    async def edit(self, actor: Actor, message_id: int, body: str) -> MessageOut:
        """A new body; what it mentions, the quotes of it and its thread's summary follow."""
        async with self.db.write() as repos:
            message, place = await locate_message(repos, actor, message_id, lock=True)
            if message.sender_id != actor.id or message.extras.type == "system":
                raise forbidden("only the sender may edit a message")
            check(Act.EDIT, MEMBER, kind=place.kind, archived=place.archived, where=repr(place.name))
            found = await mentions.find(self.directory, place.topic_id, actor.id, body)
            if found.everyone and not message.extras.mentions_all:
                await self._may_mention_everyone(actor, place)
            message = await repos.messages.edit(message, body, datetime.now(UTC))
            if (links := links_of(body)) != message.extras.links:
                message = await repos.messages.set_links(message, links)
            if (found.names, found.everyone) != (message.extras.mentions, message.extras.mentions_all):
                message = await repos.messages.set_mentions(
                    message, found.names, found.everyone, found.user_ids
                )
            await repos.messages.requote(message.id, Quote(message.id, actor.username, body[:EXCERPT_CHARS]))
            members = await self.directory.members(place.topic_id)
            blockers = await self._blockers(actor, place)
            repos.record(*edited(message, actor, place, members, blockers))
            if (root := message.extras.thread_root_id) is not None:
                repos.record(*thread_changed(place, actor, root, await repos.messages.thread_summary(root)))
        return message_view(message, actor.username, place.kind, place.shown_as, actor.id)

    async def delete(self, actor: Actor, message_id: int) -> None:
        """A tombstone: its mentions, reactions and pin go; quotes of it show an empty excerpt."""
        async with self.db.write() as repos:
            message, place = await locate_message(repos, actor, message_id, lock=True)
            if message.sender_id != actor.id:
                await _may_delete_any(repos, place, actor, self.directory.roles)
            sender = actor if message.sender_id == actor.id else await _sender(repos, message)
            freed = await self._tombstone(repos, message, place, sender, actor)
            if sender.id != actor.id:  # a moderator's deletion: audited (PROTOCOL.md section 16)
                details = {"sender": sender.username, "seq": message.seq}
                repos.note(Acted(Doer.of(actor), "message.delete", str(message.id), place.name, details))
        await self._release(freed)

    async def remove(self, message_id: int, by: Doer = CLI) -> bool:
        """The operator's deletion (a report acted on, the Admin UI): as if its sender deleted it.
        False when it was deleted already; ``not_found`` when there is no such message. ``by``:
        who the audit row names."""
        async with self.db.write() as repos:
            message = await repos.messages.by_id(message_id, lock=True)
            if message is None:
                raise no_message(message_id)
            if message.deleted_at is not None:
                return False
            sender = await _sender(repos, message)
            topic = await repos.topics.by_id(message.topic_id)
            if topic is None:
                raise no_message(message_id)
            peer = await peer_in(repos, topic, sender.id) if topic.kind == "direct" else None
            place = place_of_topic(topic, peer)
            freed = await self._tombstone(repos, message, place, sender, sender)
            details = {"sender": sender.username, "seq": message.seq}
            repos.note(Acted(by, "message.remove", str(message.id), place.name, details))
        await self._release(freed)
        return True

    async def erase_sent(self, sender_id: int, limit: int) -> int:
        """An erasure's batch (PROTOCOL.md section 16): up to ``limit`` messages of ``sender_id``
        become tombstones as if deleted (told to their topics, quotes, threads and pins follow)
        and keep no body, links or mentions. The number handled; 0 once every one is."""
        sender = Actor(sender_id, ERASED_NAME)
        freed: list[str] = []
        async with self.db.write() as repos:
            ids = await repos.erasure.sent(sender_id, limit)
            topics: dict[int, Place | None] = {}
            for message_id in ids:
                message = await repos.messages.by_id(message_id, lock=True)
                if message is None or message.deleted_at is not None:
                    continue  # deleted before: only its stored body goes (below)
                if message.topic_id not in topics:
                    topics[message.topic_id] = await place_for(repos, message.topic_id, sender_id)
                place = topics[message.topic_id]
                if place is None:
                    continue
                freed += await self._tombstone(repos, message, place, sender, sender)
            await repos.erasure.blank(ids, datetime.now(UTC))
        await self._release(freed)
        return len(ids)

    async def _release(self, sha256s: list[str]) -> None:
        """After the commit: the blobs of a deleted message's files that no file uses any more."""
        if sha256s and self.files is not None:
            await self.files.release(sha256s)

    async def _tombstone(
        self, repos: Repositories, message: MessageRecord, place: Place, sender: Actor, actor: Actor
    ) -> list[str]:
        """Delete ``message`` (sent by ``sender``) on ``actor``'s behalf and record what changed;
        its files' rows go too (the hashes returned, for their blobs once committed)."""
        message = await repos.messages.mark_deleted(message, datetime.now(UTC))
        freed = await repos.files.forget_message(message.id) if message.extras.files else []
        was_pinned = await repos.messages.forget_extras(message)
        await repos.messages.requote(message.id, Quote(message.id, sender.username, ""))
        repos.record(*deleted(message, sender.username, actor, place))
        if (root := message.extras.thread_root_id) is not None:
            await repos.messages.refresh_thread(root)
            repos.record(*thread_changed(place, actor, root, await repos.messages.thread_summary(root)))
        if was_pinned:
            members = await self.directory.members(place.topic_id)
            repos.record(*pins_changed(place, actor, await repos.messages.pinned(place.topic_id), members))
        return freed

    async def history(self, actor: Actor, target: Target, before_seq: int | None, limit: int) -> PageOut:
        """Newest page first (below ``before_seq``), oldest first inside the page."""
        blocked = await self.directory.blocks.blocked_by(actor.id)  # before: see ``page_in``
        async with self.db.read() as repos:
            place = await place_of(repos, actor, target)
            if place is None:
                return PageOut(messages=[], has_more=False)
            await require_readable(repos, place, actor)
            return await self.page_in(repos, place, before_seq, limit, actor.id, blocked)

    @staticmethod
    async def page_in(
        repos: Repositories, place: Place, before_seq: int | None, limit: int, viewer: int, blocked: set[int]
    ) -> PageOut:
        """A page of ``place`` as ``viewer`` sees it, ``blocked`` being whom the viewer blocked.

        The caller holds ``repos``' connection: what ``blocked`` needs is read before, never from
        in here. A block list not yet loaded reads on a connection of its own, and sixteen
        subscribes at once, each holding its connection while it waited for a second, held the
        whole pool (5 + 10) until its 30 s wait ran out (tests/edge/sio/test_reconnect_storm.py
        on PostgreSQL, after a restart, in CI)."""
        rows = await repos.messages.page(place.topic_id, before_seq, limit + 1)
        has_more = len(rows) > limit
        return PageOut(
            messages=[
                message_view(m, sender, place.kind, place.shown_as, viewer, m.sender_id in blocked)
                for m, sender in reversed(rows[:limit])
            ],
            has_more=has_more,
        )

    async def thread_history(self, actor: Actor, root: int, before_id: int | None, limit: int) -> PageOut:
        """A thread's replies: newest page first (below ``before_id``), oldest first inside."""
        async with self.db.read() as repos:
            message, place = await locate_message(repos, actor, root)
            if message.extras.thread_root_id is not None:
                raise invalid(f"message {root} is a reply in thread {message.extras.thread_root_id}")
            rows = await repos.messages.thread_page(root, before_id, limit + 1)
        blocked = await self.directory.blocks.blocked_by(actor.id)
        return PageOut(
            messages=[
                message_view(m, sender, place.kind, place.shown_as, actor.id, m.sender_id in blocked)
                for m, sender in reversed(rows[:limit])
            ],
            has_more=len(rows) > limit,
        )


async def _quote(repos: Repositories, place: Place, message_id: int) -> Quote:
    quoted = await repos.messages.by_id(message_id)
    if quoted is None or quoted.topic_id != place.topic_id or quoted.deleted_at is not None:
        raise no_message(message_id)
    return Quote(quoted.id, (await _sender(repos, quoted)).username, quoted.body[:EXCERPT_CHARS])


async def _require_root(repos: Repositories, place: Place, message_id: int) -> None:
    root = await repos.messages.by_id(message_id)
    if (
        root is None
        or root.topic_id != place.topic_id
        or root.deleted_at is not None
        or root.extras.thread_root_id is not None
        or root.extras.type == "system"
    ):
        raise invalid(
            f"'thread' must be a message of this conversation that is not itself a thread reply "
            f"(message {message_id} is not)"
        )


async def _may_delete_any(repos: Repositories, place: Place, actor: Actor, roles: Roles) -> None:
    """Someone else's message: moderators and up of its topic (never in a direct conversation),
    and the workspace's owners and admins in a public topic (PROTOCOL.md section 19)."""
    membership = None if place.direct else await repos.memberships.get(place.topic_id, actor.id)
    standing = MEMBER if membership is None else standing_of(membership)
    if place.direct or roles.standing(standing, actor.id, place.kind).rank < RANKS["moderator"]:
        raise forbidden("only the sender, or a moderator of the topic, may delete a message")


async def _sender(repos: Repositories, message: MessageRecord) -> Actor:
    user = await repos.users.by_id(message.sender_id)
    return Actor(message.sender_id, user.username if user is not None else "?")


ERASED_NAME = "[deleted]"  # who an erased account's messages show as sent by (PROTOCOL.md section 16)


async def place_for(repos: Repositories, topic_id: int, sender_id: int) -> Place | None:
    """Where a message of ``sender_id`` lives, as its sender sees it (None: the topic is gone)."""
    topic = await repos.topics.by_id(topic_id)
    if topic is None:
        return None
    peer = await peer_in(repos, topic, sender_id) if topic.kind == "direct" else None
    return place_of_topic(topic, peer)
