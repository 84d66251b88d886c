"""An in-memory directory of topics, users and memberships for the send path.

Sending must not cost a query to find the topic and check membership. Only an
operator renames or deletes a topic or deletes a user; those commands record
``TopicRenamed``, ``TopicDeleted`` and ``UserDeleted``, which reach this sink on
every node (the hub, or the relay table without Redis) and make it forget the
names; otherwise a name, once found, stays valid (an archive or a description change records
``TopicUpdated``: the name is read again). Who blocked whom (``blocks``, the rules' cache the send
path reads through the directory) keeps itself exact (``server.chat.rules.blocking``). Members,
and who of them is muted, are loaded per topic on first use and then kept exact by
``MembershipChanged`` events: the directory is a hub sink (attached first), and every service that
changes a membership records that event on its unit of work, so a change is
applied after its commit and before the changing call returns to its client.
(Across nodes the scale-out hub carries the same events.)

A load that races with a change is retried: a per-topic generation counter
says whether a change arrived while the members were being read. A "not a
member" answer is confirmed by the database before it is given (it is the
rare, refused case), so a join made through another node, whose event the
scale-out hub has not brought here yet, is never refused; a leave made
through another node is applied when its event arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from db.uow import Database
from server.chat.kernel.errors import no_topic, not_found
from server.chat.kernel.events import (
    Event,
    MembershipChanged,
    MessageCreated,
    MuteChanged,
    NewsMissed,
    TopicDeleted,
    TopicRenamed,
    TopicUpdated,
    UserDeleted,
)
from server.chat.kernel.places import Place, place_of_topic
from server.chat.rules.authority import Standing
from server.chat.rules.blocking import Blocks
from server.chat.rules.workspace import Roles

MAX_ENTRIES = 50_000  # per cache; a full cache starts over (every entry can be read again)
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str


class Directory:
    def __init__(self, db: Database, blocks: Blocks, roles: Roles) -> None:
        """``blocks``: who blocked whom (the rules' cache, shared with presence and typing, a hub
        sink of its own), read by the send path through the directory; ``roles``: who administers
        the workspace (PROTOCOL.md section 19, a hub sink of its own too), read by every service
        that asks the rank table in a topic."""
        self.db = db
        self._topics: dict[str, Place] = {}
        self._users: dict[str, UserInfo] = {}
        self._members: dict[int, set[int]] = {}
        self._generation: dict[int, int] = {}
        self._mutes: dict[int, dict[int, datetime | None]] = {}  # topic -> muted member -> until
        self.blocks = blocks  # PROTOCOL.md section 10
        self.roles = roles  # PROTOCOL.md section 19

    async def deliver(self, event: Event) -> None:
        """Hub sink: keep loaded member sets exact, forget renamed and deleted names."""
        if isinstance(event, MessageCreated):  # most events; none of the kinds below
            return
        if isinstance(event, MembershipChanged):
            self.apply(event.topic_id, event.user_id, event.joined)
        elif isinstance(event, TopicRenamed):
            self._topics.pop(event.old_name.lower(), None)
            self._topics.pop(event.name.lower(), None)
        elif isinstance(event, TopicDeleted):
            self._topics.pop(event.name.lower(), None)
            self._members.pop(event.topic_id, None)
            self._generation[event.topic_id] = self._generation.get(event.topic_id, 0) + 1
        elif isinstance(event, UserDeleted):
            self._users.pop(event.username.lower(), None)
        elif isinstance(event, TopicUpdated):
            self._topics.pop(event.name.lower(), None)
        elif isinstance(event, MuteChanged):
            mutes = self._mutes.get(event.topic_id)
            if mutes is not None and event.muted:
                mutes[event.user_id] = _moment(event.until)
            elif mutes is not None:
                mutes.pop(event.user_id, None)
        elif isinstance(event, NewsMissed):
            await self.forget_all()

    async def forget_all(self) -> None:
        """News was missed (a broker outage): every name, member set and mute is read again on its
        next use, as after a start (``blocks`` forgets its pairs on the same news)."""
        self._topics.clear()
        self._users.clear()
        self._members.clear()
        self._mutes.clear()
        for topic_id in self._generation:  # a load under way must not keep what it read
            self._generation[topic_id] += 1

    def apply(self, topic_id: int, user_id: int, joined: bool) -> None:
        self._generation[topic_id] = self._generation.get(topic_id, 0) + 1
        if not joined and (mutes := self._mutes.get(topic_id)) is not None:
            mutes.pop(user_id, None)  # the membership row and its mute are gone
        members = self._members.get(topic_id)
        if members is None:
            return
        if joined:
            members.add(user_id)
        else:
            members.discard(user_id)

    async def topic(self, name: str) -> Place | None:
        """The topic of that name (any case, any kind), or None."""
        key = name.lower()
        info = self._topics.get(key)
        if info is None:
            async with self.db.read() as repos:
                topic = await repos.topics.by_name(key)
            if topic is None:
                return None
            info = _keep(self._topics, key, place_of_topic(topic))
        return info

    async def named_topic(self, name: str) -> Place:
        """A public or private topic; ``not_found`` otherwise (direct ones have no name to type)."""
        info = await self.topic(name)
        if info is None or info.kind == "direct":
            raise no_topic(name)
        return info

    async def user(self, username: str) -> UserInfo:
        """Raises ``not_found`` for an unknown user."""
        key = username.lower()
        info = self._users.get(key)
        if info is None:
            async with self.db.read() as repos:
                user = await repos.users.by_name(key)
            if user is None:
                raise not_found(f"no user named {username!r}")
            info = _keep(self._users, key, UserInfo(user.id, user.username))
        return info

    async def is_member(self, topic_id: int, user_id: int) -> bool:
        """From memory; a "no" is confirmed by the database (a join on another node is not lost)."""
        members = await self._members_of(topic_id)
        if user_id in members:
            return True
        async with self.db.read() as repos:
            found = await repos.memberships.get(topic_id, user_id) is not None
        if found:
            members.add(user_id)
        return found

    def known_muted(self, topic_id: int, user_id: int) -> bool | None:
        """``muted`` when the topic's mutes are loaded, else None (the send path's first question)."""
        mutes = self._mutes.get(topic_id)
        if mutes is None:
            return None
        return user_id in mutes and Standing(muted=True, muted_until=mutes[user_id]).is_muted()

    async def muted(self, topic_id: int, user_id: int) -> bool:
        """Whether a member is muted now, from memory (loaded once per topic, kept exact by
        ``MuteChanged``); a mute whose end has passed has ended (checked at use)."""
        mutes = self._mutes.get(topic_id)
        if mutes is None:
            async with self.db.read() as repos:
                loaded = await repos.memberships.mutes(topic_id)
            mutes = self._mutes.get(topic_id)
            if mutes is None:
                mutes = _keep(self._mutes, topic_id, loaded)
        if user_id not in mutes:
            return False
        return Standing(muted=True, muted_until=mutes[user_id]).is_muted()

    async def members(self, topic_id: int) -> frozenset[int]:
        """The topic's members as this node knows them (exact: the hub keeps it so)."""
        return frozenset(await self._members_of(topic_id))

    async def _members_of(self, topic_id: int) -> set[int]:
        members = self._members.get(topic_id)
        while members is None:
            generation = self._generation.get(topic_id, 0)
            async with self.db.read() as repos:  # its mutes too: a first send asks both (one read)
                ids, mutes = await repos.memberships.members_and_mutes(topic_id)
            members = self._members.get(topic_id)
            if members is None and self._generation.get(topic_id, 0) == generation:
                members = _keep(self._members, topic_id, set(ids))
                if topic_id not in self._mutes:
                    _keep(self._mutes, topic_id, mutes)
        return members


def _keep(cache: dict[K, V], key: K, value: V) -> V:
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = value
    return value


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))
