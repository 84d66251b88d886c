"""What a node missed on the hub, read back from the database (PROTOCOL.md section 4, "Several nodes").

The database is the source of every message and the hub only carries the news. A node that lost
its hub channel for a while, or that waited in vain for a missing ``seq``, asks this for the
messages it may have missed and hands them to its sinks through its ``SeqGate``, which drops what
its sockets already had: so a broker outage costs latency, never a message, and no client has to
reconnect for it. The messages are rendered as the writer publishes them (one rendering for a
topic's members, one marked ``blocked`` for those who blocked the sender, one per side of a direct
conversation; ``server.chat.kernel.audiences``), in their current form (an edit made meanwhile shows, a
deleted one is left out), as a backlog is.

It also tells which topics the node's connected users belong to now, so that their sockets follow
the memberships changed while the news did not arrive. A join or a leave told while that read
runs is laid over it (``moves``): a read that began before a join must not take the socket out of
the topic again (it would miss every message of it), nor one that began before a leave put it
back in (it would read on in a topic its user left).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from db.records import MessageRecord, TopicRecord, UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.connections.moves import Moves, laid_over, note
from server.chat.connections.sessions import Credential
from server.chat.kernel.actors import Actor
from server.chat.kernel.audiences import views
from server.chat.kernel.events import (
    Event,
    MembershipChanged,
    MembershipsKnown,
    MessageCreated,
    NewsMissed,
    SessionEnded,
    SessionsRevoked,
    TokenRevoked,
)
from server.chat.kernel.hub import Hub, TopicNews
from server.chat.kernel.places import place_of_topic
from server.chat.kernel.views import message_view
from server.chat.rules.blocking import Blocks, blocked_viewers

MOST = 100_000  # messages one refill reads at most (the newest): an outage of minutes at full rate
CHUNK = 1000  # users per read of memberships (well under either database's bound on parameters)
Row = tuple[MessageRecord, str]  # a message and its sender's username, as ``MessageRepository`` gives them


class Refill:
    """The hub's ``missed`` port, and a hub sink: on ``NewsMissed`` it revokes the sessions here of
    users who logged out (or were disabled) meanwhile, then reads the memberships of the users
    connected here and tells this node's sinks (``MembershipsKnown``). ``here``: each user with
    connections here, with the oldest token version among them (``SessionService.token_versions``)."""

    def __init__(
        self,
        db: Database,
        blocks: Blocks,
        hub: Hub,
        here: Callable[[], dict[int, int]],
        credentials: Callable[[], list[Credential]],
        most: int = MOST,
    ) -> None:
        self.db = db
        self.blocks = blocks
        self.hub = hub
        self.here = here
        self.credentials = credentials
        self.most = most
        self._moves: list[Moves] = []  # per read under way, the moves told since it began

    async def deliver(self, event: Event) -> None:
        if isinstance(event, MembershipChanged):
            for reading in self._moves:
                note(reading, event)
            return
        if not isinstance(event, NewsMissed):
            return
        moves: Moves = {}
        self._moves.append(moves)  # from before the read: a move told after it began is laid over it
        try:
            versions = self.here()
            users = list(versions)
            revoked = await self._revoked(versions)
            await self.hub.tell_here(*(SessionsRevoked(user) for user in revoked))
            held = [credential for credential in self.credentials() if credential[0] not in revoked]
            await self.hub.tell_here(*await self._ended(held))
            memberships = await self.memberships([user for user in users if user not in revoked])
            for user, topics in memberships.items():
                # The moves told until now; a later one reaches the sockets after this (no await
                # between the two but the sinks', which move sockets only).
                known = frozenset(laid_over(topics, moves.pop(user, ())))
                await self.hub.tell_here(MembershipsKnown(user, known))
        finally:
            self._moves.remove(moves)

    async def _revoked(self, versions: dict[int, int]) -> set[int]:
        """Those of the users whose sessions ended while the news was lost."""
        users = list(versions)
        revoked: set[int] = set()
        async with self.db.read() as repos:
            for start in range(0, len(users), CHUNK):
                for user in await repos.users.by_ids(users[start : start + CHUNK]):
                    ended = user.disabled_at is not None or user.deleted_at is not None
                    if ended or user.token_version != versions[user.id]:
                        revoked.add(user.id)
        return revoked

    async def _ended(self, held: list[Credential]) -> list[Event]:
        """The bots' tokens revoked and the sessions signed out meanwhile, of those ``held`` here:
        their news, so that the sockets opened with them close as the lost news would have."""
        tokens = list({token for _, token, _ in held if token is not None})
        sessions = list({session for _, _, session in held if session is not None})
        live_tokens: set[str] = set()
        live_sessions: set[str] = set()
        async with self.db.read() as repos:
            for start in range(0, max(len(tokens), len(sessions)), CHUNK):
                live_tokens |= await repos.bots.live_token_ids(tokens[start : start + CHUNK])
                live_sessions |= await repos.sessions.not_ended(sessions[start : start + CHUNK])
        ended: list[Event] = []
        for user, token, session in held:
            if token is not None and token not in live_tokens:
                ended.append(TokenRevoked(user, token))
            elif session is not None and session not in live_sessions:
                ended.append(SessionEnded(user, session))
        return ended

    async def since(self, moment: datetime) -> list[MessageCreated]:
        """Every message stored since ``moment``, as events, per topic in ``seq`` order."""
        async with self.db.read() as repos:
            rows = await repos.messages.stored_since(moment, self.most)
            return await self._events(repos, rows)

    async def in_topic_since(self, topic_id: int, moment: datetime) -> TopicNews:
        """The topic's messages stored since ``moment``, as events in ``seq`` order, and its newest
        ``seq``, read first: every message up to it is committed, those since ``moment`` among them."""
        async with self.db.read() as repos:
            topic = await repos.topics.by_id(topic_id)
            rows = await repos.messages.stored_since(moment, self.most, topic_id)
            events = await self._events(repos, rows)
        return TopicNews(events, None if topic is None else topic.last_seq)

    async def between(self, topic_id: int, first: int, last: int) -> list[MessageCreated]:
        """The topic's messages from ``seq`` ``first`` to ``last``, as events, in order."""
        async with self.db.read() as repos:
            rows = await repos.messages.seqs_between(topic_id, first, last)
            return await self._events(repos, rows)

    async def memberships(self, user_ids: list[int]) -> dict[int, set[int]]:
        """The topic ids each of ``user_ids`` is a member of now (read ``CHUNK`` users at a time)."""
        found: dict[int, set[int]] = {}
        async with self.db.read() as repos:
            for start in range(0, len(user_ids), CHUNK):
                found.update(await repos.memberships.topics_by_user(user_ids[start : start + CHUNK]))
        return found

    async def _events(self, repos: Repositories, rows: list[Row]) -> list[MessageCreated]:
        if not rows:
            return []
        topic_ids = {message.topic_id for message, _ in rows}
        topics = {topic.id: topic for topic in await repos.topics.by_ids(topic_ids)}
        members = await repos.memberships.members_by_topic(topic_ids)
        direct = {
            member for topic_id in topic_ids if _direct(topics.get(topic_id)) for member in members[topic_id]
        }
        users = {user.id: user for user in await repos.users.by_ids(direct)}
        events: list[MessageCreated] = []
        for message, sender in rows:
            topic = topics.get(message.topic_id)
            if topic is None:
                continue  # deleted meanwhile
            in_topic = frozenset(members[topic.id])
            peer = _peer(topic, message.sender_id, in_topic, users)
            place = place_of_topic(topic, peer)
            blockers = await self._blockers(message.sender_id, in_topic)
            actor = Actor(message.sender_id, sender)
            events.extend(
                MessageCreated(
                    message_view(message, sender, place.kind, view.shown_as, view.viewer, view.blocked),
                    view.audience,
                    topic.id,
                )
                for view in views(place, actor, [message.extras.reactions], in_topic, blockers)
            )
        return events

    async def _blockers(self, sender_id: int, members: Collection[int]) -> tuple[int, ...]:
        return blocked_viewers(await self.blocks.blockers_of(sender_id), members)


def _direct(topic: TopicRecord | None) -> bool:
    return topic is not None and topic.kind == "direct"


def _peer(
    topic: TopicRecord, sender_id: int, members: Collection[int], users: dict[int, UserRecord]
) -> UserRecord | None:
    """A direct conversation's other member, as the sender sees it."""
    if topic.kind != "direct":
        return None
    others = [users[member] for member in members if member != sender_id and member in users]
    return others[0] if others else None
