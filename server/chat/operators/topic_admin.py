"""Operator commands on topics, and the deployment's numbers: list, rename, delete, stats.

Errors: ``not_found`` (no public or private topic of that name: direct conversations are
listed with ``include_direct`` but never renamed or deleted here), ``conflict`` (the new name
is another topic's or an account's, in any case), ``forbidden`` (a topic every server recreates at start-up:
the default topics and the echo chat's channel, in ``protected``).

A rename records ``TopicRenamed`` and a deletion ``TopicDeleted`` (then a
``MembershipChanged`` per member): every running server's name cache forgets the old name
and each member's open sockets are told (``topic:renamed``, ``topic:deleted``), so every
member sees one name. A deleted topic's messages and memberships go with it.

A direct conversation is listed by its two users (``@alice+@bob``), not by its stored name
(``dm:1:2``, user ids).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from db.conversations.topics import TopicRow
from db.errors import Conflict
from db.records import TopicRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.integrations.hook_bots import disable_bot
from server.chat.kernel.actors import CLI, Doer
from server.chat.kernel.errors import conflict, forbidden, not_found
from server.chat.kernel.events import MembershipChanged, TopicDeleted, TopicRenamed, ToTopic, WebhooksChanged
from server.chat.kernel.facts import Acted
from server.chat.kernel.views import direct_ids, iso_required
from server.chat.operators.nodes import NodeService
from server.chat.operators.schemas import RenamedOut, StatsOut, TopicRowOut, TopicRowsOut
from server.chat.rules.access import free_name, named_topic


class TopicAdminService:
    def __init__(self, db: Database, nodes: NodeService, protected: Iterable[str] = ()) -> None:
        self.db = db
        self.nodes = nodes
        self.protected = {name.lower() for name in protected}

    async def list(self, include_direct: bool = False) -> TopicRowsOut:
        async with self.db.read() as repos:
            rows = await repos.topics.listing(include_direct)
            direct = [row.topic.name for row in rows if row.topic.kind == "direct"]
            names = await _direct_labels(repos, direct)
        return TopicRowsOut(topics=[row_view(row, names.get(row.topic.name)) for row in rows])

    async def rename(self, name: str, new_name: str, by: Doer = CLI) -> RenamedOut:
        """``new_name`` is validated by the caller (``TopicName``); a change of case alone is fine."""
        try:
            async with self.db.write() as repos:
                await repos.names.claim(new_name)  # first: the transaction writes before it reads
                topic = await self._changeable(repos, name, "renamed")
                await free_name(repos, new_name, keep=topic)
                old_name = topic.name
                await repos.topics.rename(topic.id, new_name)
                topic_id = topic.id
                repos.record(TopicRenamed(topic_id, old_name, new_name, ToTopic(topic_id)))
                repos.note(Acted(by, "topic.rename", None, old_name, {"name": new_name}))
                [row] = await repos.topics.listing(include_direct=True, topic_id=topic_id)
        except Conflict as exc:  # another rename or create took the name meanwhile
            raise conflict(f"a topic named {new_name!r} exists") from exc
        return RenamedOut(old_name=old_name, topic=row_view(row, new_name))

    async def delete(self, name: str, by: Doer = CLI) -> TopicRowOut:
        """The topic, its messages and memberships, its webhooks (with their outbox and log) and
        hooks; the bots made for those are disabled (``hook_bots``); its members' sockets leave
        its room."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            topic = await self._changeable(repos, name, "deleted")
            topic_id = topic.id
            [row] = await repos.topics.listing(include_direct=True, topic_id=topic_id)
            members = await repos.memberships.member_ids(topic_id)
            made = {h.bot_id for h in await repos.webhooks.of_topic(topic_id) if h.bot_id is not None}
            made |= {h.bot_id for h in await repos.hooks.of_topic(topic_id) if h.bot_made}
            await repos.webhooks.delete_of_topic(topic_id)
            await repos.hooks.delete_of_topic(topic_id)
            await repos.topics.delete(topic_id)
            for bot_id in sorted(made):
                used = await repos.hooks.live_of_bot(bot_id) or await repos.webhooks.active_of_bot(bot_id)
                if not used:
                    await disable_bot(repos, bot_id, now)
            repos.record(WebhooksChanged(topic_id))
            repos.record(TopicDeleted(topic_id, topic.name, ToTopic(topic_id)))
            repos.record(*(MembershipChanged(user_id, topic_id, joined=False) for user_id in members))
            details = {"messages": topic.last_seq, "members": len(members)}
            repos.note(Acted(by, "topic.delete", None, topic.name, details))
        return row_view(row)

    async def transfer(
        self, name: str, username: str, by: Doer = CLI, *, public_only: bool = False
    ) -> TopicRowOut:
        """Give a public or private topic to ``username`` (PROTOCOL.md section 19: the workspace's
        owners and admins; ``parley``'s operator): they become its owner, a member first if they
        were not one, and the owner before them stays as an admin. The default topics belong to
        the workspace and have no owner to transfer (``forbidden``); ``public_only`` (a workspace
        admin) finds no private topic (``not_found``)."""
        async with self.db.write() as repos:
            topic = await self._changeable(repos, name, "given an owner")
            if topic.kind == "direct" or (public_only and topic.kind != "public"):
                raise not_found(f"no topic named {name!r}")
            user = await repos.users.by_name(username)
            if user is None or user.bot or user.disabled_at is not None:
                raise not_found(f"no active user named {username!r}")
            if topic.owner_id == user.id:
                [row] = await repos.topics.listing(topic_id=topic.id)
                return row_view(row)
            now = datetime.now(UTC)
            if await repos.memberships.get(topic.id, user.id) is None:
                await repos.bans.lift(topic.id, user.id)  # the owner of a topic is not banned from it
                await repos.memberships.add(topic, user.id, "owner", now)
                repos.record(MembershipChanged(user.id, topic.id, joined=True))
            else:
                await repos.memberships.set_role(topic.id, user.id, "owner")
            if topic.owner_id is not None and await repos.memberships.get(topic.id, topic.owner_id):
                await repos.memberships.set_role(topic.id, topic.owner_id, "admin")
            await repos.topics.set_owner(topic.id, user.id)
            repos.note(Acted(by, "topic.transfer", user.username, topic.name))
            [row] = await repos.topics.listing(topic_id=topic.id)
        return row_view(row)

    async def _changeable(self, repos: Repositories, name: str, done: str) -> TopicRecord:
        topic = await named_topic(repos, name)
        if topic.name.lower() in self.protected:
            raise forbidden(f"{topic.name!r} is recreated by every server at start-up and cannot be {done}")
        return topic

    async def names(
        self, topic_ids: Iterable[int], user_ids: Iterable[int]
    ) -> tuple[dict[int, str], dict[int, str]]:
        """The names of these topics and users, by id (the Admin UI shows rooms by name); an id
        with no row is left out."""
        async with self.db.read() as repos:
            topics = await repos.topics.by_ids(topic_ids)
            users = await repos.users.by_ids(user_ids)
        return {t.id: t.name for t in topics}, {u.id: u.username for u in users}

    async def stats(self) -> StatsOut:
        """Accounts by state, topics by kind, stored messages, and each running server's sockets."""
        async with self.db.read() as repos:
            users = await repos.users.count_by_state()
            topics = await repos.topics.count_by_kind()
            messages = await repos.topics.count_messages()
        return StatsOut(users=users, topics=topics, messages=messages, nodes=await self.nodes.live())


async def _direct_labels(repos: Repositories, stored: list[str]) -> dict[str, str]:
    """``@alice+@bob`` for each direct conversation's stored name (``views.direct_name``)."""
    pairs = {name: direct_ids(name) for name in stored}
    users = await repos.users.by_ids({user_id for pair in pairs.values() for user_id in pair})
    username = {user.id: user.username for user in users}
    return {
        name: "+".join(f"@{username.get(user_id, f'#{user_id}')}" for user_id in pair)
        for name, pair in pairs.items()
    }


def row_view(row: TopicRow, name: str | None = None) -> TopicRowOut:
    topic = row.topic
    kind = "private" if topic.kind == "private" else "direct" if topic.kind == "direct" else "public"
    return TopicRowOut(
        name=name or topic.name,
        kind=kind,
        owner=row.owner,
        members=row.members,
        last_seq=topic.last_seq,
        created_at=iso_required(topic.created_at),
        archived=topic.archived_at is not None,
    )
