"""Members and topics, server-side (PROTOCOL.md section 17): a backend puts a user into a topic or
takes them out when its own state changes, and makes topics.

An add is an invite without an inviter's membership (public or private topic alike), a removal a
kick without a rank (``TopicService.add_member``, ``ModerationService.remove_member``): the user's
sockets on every node join or leave the room at once, and the user and the topic's members get
the events of an invite or a kick, signed by the key's bot. A topic is made for ``owner`` (a user)
or for the key's bot. Each change writes an audit row naming ``key:<label>``.
"""

from __future__ import annotations

from db.uow import Database
from server.chat.backends.keys import ServerKey
from server.chat.backends.schemas import MemberSetOut
from server.chat.backends.users import live_user
from server.chat.conversations.topics import TopicService
from server.chat.kernel.facts import Acted
from server.chat.kernel.schemas import TopicOut
from server.chat.moderation.service import ModerationService


class ServerMembers:
    def __init__(self, db: Database, topics: TopicService, moderation: ModerationService) -> None:
        self.db = db
        self.topics = topics
        self.moderation = moderation

    async def add(self, key: ServerKey, topic: str, username: str, role: str = "member") -> MemberSetOut:
        acted = Acted(key.doer, "server.member.add", username, topic, {"role": role})
        view, added = await self.topics.add_member(key.bot, topic, username, role, (acted,))
        return MemberSetOut(topic=view, username=username, added=added)

    async def remove(self, key: ServerKey, topic: str, username: str) -> bool:
        acted = Acted(key.doer, "server.member.remove", username, topic)
        return await self.moderation.remove_member(key.bot, topic, username, (acted,))

    async def create_topic(self, key: ServerKey, name: str, private: bool, owner: str | None) -> TopicOut:
        """A topic owned by ``owner`` (``not_found``: no such user) or by the key's bot."""
        creator = key.bot if owner is None else await live_user(self.db, owner)
        details = {"private": private, "owner": creator.username}
        acted = Acted(key.doer, "server.topic.create", name, name, details)
        return await self.topics.create_for(creator, name, private, (acted,))
