"""Publish and broadcast (PROTOCOL.md section 17): a backend's messages, through the one send path.

A message goes through ``MessageService.send`` exactly as a member's ``message:send`` does:
``seq``, history, offline delivery, mentions, webhooks, push, search and ``client_id``
idempotency (a retry answers the stored message and stores nothing new) come with it. Without
``as`` it is sent by the key's bot, made a member of a topic it is not in yet (as an incoming
hook's bot is); with ``as`` (the ``as_user`` scope) by that user, who must be able to send there
(``forbidden``, ``not_found`` as for their own send). A broadcast finds every topic before it
sends anything: one missing topic (``not_found``) or one the bot is banned from (``forbidden``)
stores nothing. Each call that stores a message writes an audit row naming ``key:<label>``: a
publish's goes with the message in its send batch (``PublishAudit``, a send hook, told which sends
are the API's by their ``KeyedActor``), so a key's stream of messages costs no transaction more
than members' sends; a broadcast writes one row for all its messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from db.audit.records import AuditRow
from db.records import TopicRecord
from db.repositories import Repositories
from db.sends import Rows, Stored
from db.uow import Database
from server.chat.audit.log import AuditService
from server.chat.backends.keys import ServerKey, ServerKeys
from server.chat.backends.users import live_user
from server.chat.conversations.messages import MessageService
from server.chat.conversations.writer import Pending
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import forbidden
from server.chat.kernel.events import MembershipChanged
from server.chat.kernel.schemas import MessageOut, Target
from server.chat.rules.access import named_topic


@dataclass(frozen=True)
class KeyedActor(Actor):
    """A sender acting for a server key: the send is the API's, and its audit row goes with it."""

    key: ServerKey | None = None
    target: str = ""  # the topic's name or ``@user``, as the row names it
    topic: str | None = None


class PublishAudit:
    """The send hook that writes a publish's audit row in its message's send batch (nothing for
    any other send: one type check)."""

    def rows(self, pending: Pending) -> Rows | None:
        actor = pending.actor
        if not isinstance(actor, KeyedActor) or actor.key is None:
            return None
        doer = actor.key.doer

        def row(stored: Stored) -> Sequence[AuditRow]:
            details = {"message_id": stored.id, "seq": stored.seq, "as": actor.username}
            text = orjson.dumps(details).decode()
            return (
                AuditRow(
                    pending.created_at, doer.id, doer.name, "server.publish", actor.target, actor.topic, text
                ),
            )

        return row

    def committed(self) -> None:
        """Nothing to wake: the row is written."""


class Publisher:
    def __init__(self, db: Database, keys: ServerKeys, messages: MessageService, audit: AuditService) -> None:
        self.db = db
        self.keys = keys
        self.messages = messages
        self.audit = audit

    async def publish(
        self,
        key: ServerKey,
        target: Target,
        body: str,
        as_user: str | None = None,
        client_id: str | None = None,
    ) -> MessageOut:
        """One message into a topic or to a user (``target.user``), as the key's bot or ``as_user``."""
        if as_user is not None:
            self.keys.require(key, "as_user")
            sender = await live_user(self.db, as_user)
        else:
            sender = key.bot
            if target.topic is not None and not await self._seated(target.topic, sender):
                async with self.db.write() as repos:
                    await _seat(repos, await named_topic(repos, target.topic), sender)
        keyed = KeyedActor(
            sender.id, sender.username, sender.bot, key=key, target=target.describe(), topic=target.topic
        )
        return await self.messages.send(keyed, target, body, client_id)

    async def _seated(self, name: str, bot: Actor) -> bool:
        """Whether the bot is a member of the topic already: from the directory's memory, so that
        a key's steady stream of messages costs no write before each send."""
        place = await self.messages.directory.topic(name)
        return (
            place is not None
            and place.kind != "direct"
            and await self.messages.directory.is_member(place.topic_id, bot.id)
        )

    async def broadcast(self, key: ServerKey, topics: list[str], body: str) -> list[MessageOut]:
        """The same body in each topic, as the key's bot, answered in the order of ``topics``."""
        bot = key.bot
        async with self.db.write() as repos:
            found = [await named_topic(repos, name) for name in topics]
            for topic in found:
                await _seat(repos, topic, bot)
        sent = await asyncio.gather(
            *(self.messages.send(bot, Target(topic=topic.name), body) for topic in found)
        )
        details = {"topics": [topic.name for topic in found], "message_ids": [message.id for message in sent]}
        await self.audit.record(key.doer, "server.broadcast", None, None, details)
        return list(sent)


async def _seat(repos: Repositories, topic: TopicRecord, bot: Actor) -> None:
    """The key's bot, a member of ``topic`` (its sockets, on every node, follow); ``forbidden`` if
    it is banned there."""
    if await repos.memberships.get(topic.id, bot.id) is not None:
        return
    if await repos.bans.active(topic.id, bot.id):
        raise forbidden(f"{bot.username!r} is banned from {topic.name!r}")
    await repos.memberships.add(topic, bot.id, "member", datetime.now(UTC))
    repos.record(MembershipChanged(bot.id, topic.id, joined=True))
