"""Presence for the whole cluster (PROTOCOL.md section 17): who of a topic is online, and a user's
presence with their sockets, as every node knows it.

Online is the presence registry's answer (``PresenceService.online_among``: a user with a socket
on any live node, the grace period after the last one closes included, and not one whose node
died once its heartbeat is older than the presence TTL): one set query for a topic's members,
however many. A user's sockets are counted by every node (``SocketsOf``, asked through
``server.chat.kernel.gather``) and summed. Availability and ``last_seen`` are the profile's
(PROTOCOL.md section 14), shown in full: the application's backend is not a member who could be
refused them.

Errors: ``not_found`` (no such topic or user).
"""

from __future__ import annotations

import asyncio
from itertools import compress

from db.uow import Database
from server.chat.backends.live_schemas import TopicPresenceOut, UserPresenceOut
from server.chat.kernel.errors import no_topic, not_found
from server.chat.kernel.gather import Answer, Gather, SocketsOf
from server.chat.kernel.views import iso
from server.chat.people.views import availability_of
from server.chat.presence.service import PresenceService

COUNT_WITHIN = 1.0  # seconds the nodes have to count a user's sockets


class ServerPresence:
    def __init__(self, db: Database, presence: PresenceService, gather: Gather) -> None:
        self.db = db
        self.presence = presence
        self.gather = gather

    async def topic(self, name: str) -> TopicPresenceOut:
        """The topic's members with a socket on any node, by name (case aside)."""
        found = await self.db.reads.topic_members(name)
        if found is None or found[0] == "direct":
            raise no_topic(name)
        _kind, ids, usernames = found
        online = await self.presence.online_among(ids)
        names = sorted(compress(usernames, [user_id in online for user_id in ids]), key=str.lower)
        return TopicPresenceOut(online=names, count=len(names))

    async def user(self, name: str) -> UserPresenceOut:
        async with self.db.read() as repos:
            user = await repos.users.by_name(name)
        if user is None:
            raise not_found(f"no user named {name!r}")
        online, answers = await asyncio.gather(
            self.presence.is_online(user.id), self.gather.ask(SocketsOf(user.id), COUNT_WITHIN)
        )
        return UserPresenceOut(
            online=online,
            sockets=sum(_sockets(answer) for answer in answers),
            availability=availability_of(user, online),
            last_seen=iso(user.last_seen_at),
        )


def _sockets(answer: Answer) -> int:
    value = answer.get("sockets")
    return value if isinstance(value, int) and value >= 0 else 0


async def sockets_here(presence: PresenceService, question: SocketsOf) -> Answer:
    """This node's answer to ``SocketsOf``: the user's sockets it holds."""
    return {"sockets": presence.sockets_here(question.user_id)}
