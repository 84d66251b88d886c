"""Topic objects as one user sees them: counts, unread, and names of DMs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

from db.records import TopicRecord
from db.repositories import Repositories
from server.chat.conversations.schemas import NotifyLevel
from server.chat.conversations.topic_counts import TopicCounts
from server.chat.kernel.actors import Actor
from server.chat.kernel.events import ToEveryone, TopicCreated, ToUser
from server.chat.kernel.schemas import TopicOut
from server.chat.kernel.views import direct_peer, iso_required

Kind = Literal["public", "private", "direct"]
Rank = Literal["admin", "moderator"]


async def topic_views(
    repos: Repositories, user_id: int, topics: Sequence[TopicRecord], counts: TopicCounts
) -> list[TopicOut]:
    """Render many topics with a fixed number of queries, whatever their count.

    Member and online counts come from ``counts`` (a crowded topic's are kept a few seconds); online
    counts ask the presence port about these topics' members only (a set query), never bind every
    online user into SQL.
    """
    ids = [t.id for t in topics]
    counted = await counts.of(repos, ids)
    unread = await repos.memberships.unread_counts(user_id)
    unread_counts = {topic: count for topic, (count, _) in unread.items()}
    newest = {topic: seq for topic, (_, seq) in unread.items()}
    mentioned = await repos.memberships.mention_counts(user_id)
    memberships = {t.id: m for t, m in await repos.memberships.of_user(user_id)}
    mine = {topic: m.notify_level for topic, m in memberships.items()}
    names = await direct_display_names(repos, user_id, [t for t in topics if t.kind == "direct"])
    owners = {u.id: u.username for u in await repos.users.by_ids({t.owner_id for t in topics if t.owner_id})}
    return [
        TopicOut(
            name=names.get(t.id, t.name),
            kind=cast(Kind, t.kind),
            owner=owners.get(t.owner_id) if t.owner_id else None,
            created_at=iso_required(t.created_at),
            members=counted[t.id][0],
            online=counted[t.id][1],
            subscribed=t.id in mine,
            last_seq=max(t.last_seq, newest.get(t.id, 0)),  # read apart: see unread_counts
            unread=unread_counts.get(t.id, 0),
            read_seq=memberships[t.id].read_seq if t.id in memberships else 0,
            mentions=mentioned.get(t.id, 0),
            notify=cast(NotifyLevel, mine.get(t.id, "all")),
            description=t.description,
            archived=t.archived_at is not None,
            retention_days=t.retention_days,
            role=rank_of(memberships[t.id].role) if t.id in memberships else None,
        )
        for t in topics
    ]


def rank_of(role: str) -> Rank | None:
    """A membership's role where the Topic object shows it: a rank between a member's and the
    owner's (the owner is the Topic's ``owner``; a member's is what a page assumes of one).
    Two users' views of a topic then differ in it only where one of them moderates there."""
    return cast(Rank, role) if role in ("admin", "moderator") else None


async def topic_view(repos: Repositories, user_id: int, topic: TopicRecord, counts: TopicCounts) -> TopicOut:
    return (await topic_views(repos, user_id, [topic], counts))[0]


async def direct_display_names(
    repos: Repositories, user_id: int, directs: Sequence[TopicRecord]
) -> dict[int, str]:
    """``@other`` for each direct conversation."""
    return {topic_id: f"@{peer}" for topic_id, peer in (await direct_peers(repos, user_id, directs)).items()}


async def direct_peers(repos: Repositories, user_id: int, directs: Sequence[TopicRecord]) -> dict[int, str]:
    """The other member's username for each direct conversation, from the ids in its stored name."""
    peers = {topic.id: direct_peer(topic.name, user_id) for topic in directs}
    users = {u.id: u.username for u in await repos.users.by_ids(set(peers.values()))}
    return {topic_id: users.get(peer, "?") for topic_id, peer in peers.items()}


def announced(creator: Actor, view: TopicOut) -> tuple[TopicCreated, TopicCreated]:
    """A new public topic as each user sees it: ``view`` for its creator (owner and only member),
    and for everyone else the same topic not subscribed, nothing unread."""
    others = view.model_copy(
        update={"subscribed": False, "unread": 0, "read_seq": 0, "mentions": 0, "notify": "all"}
    )
    return (
        TopicCreated(view, creator.username, ToUser(creator.id)),
        TopicCreated(others, creator.username, ToEveryone(exclude_user=creator.id)),
    )
