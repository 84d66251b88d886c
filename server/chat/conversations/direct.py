"""Direct conversations by id: what a client that names a conversation by a number needs.

The messenger dialect (PROTOCOL.md 7.2) names a direct conversation by its
``ConversationId``, which is the id of its topic. Opening, finding and
listing go through ``access`` like every other way in, so the rules stay in
one place. Errors: ``not_found`` (an unknown user; a conversation id that is
unknown, names a topic that is not a direct conversation, or a conversation
of others: one answer for all three), ``invalid`` (a conversation with
oneself).
"""

from __future__ import annotations

from db.conversations.messages import Row
from db.records import TopicRecord
from db.uow import Database
from server.chat.conversations.schemas import ConversationOut
from server.chat.conversations.topic_views import direct_peers
from server.chat.kernel.actors import Actor
from server.chat.kernel.views import message_view
from server.chat.rules.access import direct_by_id, open_direct


class ConversationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(self, actor: Actor, username: str) -> int:
        """The id of the direct conversation with ``username``, created if missing (idempotent).

        Raises ``not_found`` (unknown user) or ``invalid`` (oneself).
        """
        return (await open_direct(self.db, actor, username)).topic.id

    async def peer(self, actor: Actor, conversation_id: int) -> str:
        """The other member's username of a conversation the actor is in.

        Raises ``not_found``, worded alike for an unknown id, a topic that is not a direct
        conversation and a conversation of others.
        """
        async with self.db.read() as repos:
            place = await direct_by_id(repos, actor, conversation_id)
        assert place.peer_name is not None
        return place.peer_name

    async def mine(self, actor: Actor) -> list[ConversationOut]:
        """The actor's direct conversations, oldest first, each with its newest live message.

        A fixed number of queries, whatever the count. Raises nothing.
        """
        async with self.db.read() as repos:
            topics = [topic for topic, _ in await repos.memberships.of_user(actor.id)]
            directs = [topic for topic in topics if topic.kind == "direct"]
            peers = await direct_peers(repos, actor.id, directs)
            latest = await repos.messages.latest(topic.id for topic in directs)
        return [_conversation(topic, peers[topic.id], latest.get(topic.id)) for topic in directs]


def _conversation(topic: TopicRecord, peer: str, last: Row | None) -> ConversationOut:
    message = message_view(last[0], last[1], topic.kind, f"@{peer}") if last else None
    return ConversationOut(id=topic.id, peer=peer, last_message=message)
