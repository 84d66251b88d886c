"""Finding topics and checking who may do what: the one place for these rules.

Errors: ``not_found`` (no such topic or user, and every private topic or
direct conversation the actor is not in: a non-member learns nothing about
it, not even that it exists), ``forbidden`` (not a member of a public topic
where membership is required), ``invalid`` (a conversation with oneself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from db.models import Membership, Topic, User
from db.repositories import Repositories
from server.chat.errors import ChatError, forbidden, invalid, no_topic, not_found
from server.chat.schemas import Target
from server.chat.users import Actor
from server.chat.views import direct_name


@dataclass(frozen=True)
class Place:
    """A resolved target: the topic, how the actor sees its name, the other user of a DM."""

    topic: Topic
    shown_as: str
    peer: User | None = None

    @property
    def topic_id(self) -> int:
        return self.topic.id or 0


async def named_topic(repos: Repositories, name: str) -> Topic:
    topic = await repos.topics.by_name(name)
    if topic is None or topic.kind == "direct":
        raise no_topic(name)
    return topic


async def user_named(repos: Repositories, username: str) -> User:
    user = await repos.users.by_name(username)
    if user is None:
        raise not_found(f"no user named {username!r}")
    return user


async def direct_place(repos: Repositories, actor: Actor, username: str, create: bool) -> Place | None:
    """The conversation with ``username``; created (with both members) when asked."""
    peer = await user_named(repos, username)
    if peer.id == actor.id:
        raise invalid("a direct conversation needs another user")
    topic = await repos.topics.by_name(direct_name(actor.id, peer.id or 0))
    if topic is None:
        if not create:
            return None
        topic = await _create_direct(repos, actor, peer)
    return Place(topic=topic, shown_as=f"@{peer.username}", peer=peer)


async def _create_direct(repos: Repositories, actor: Actor, peer: User) -> Topic:
    now = datetime.now(timezone.utc)
    name = direct_name(actor.id, peer.id or 0)
    topic = await repos.topics.add(Topic(name=name, name_key=name, kind="direct", created_at=now))
    for user_id in (actor.id, peer.id or 0):
        await repos.memberships.add(Membership(topic_id=topic.id or 0, user_id=user_id, joined_at=now))
    return topic


async def place_of(repos: Repositories, actor: Actor, target: Target, create: bool = False) -> Place | None:
    """Resolve a target; None only for a direct conversation that does not exist yet."""
    if target.user is not None:
        return await direct_place(repos, actor, target.user, create)
    topic = await named_topic(repos, target.topic or "")
    return Place(topic=topic, shown_as=topic.name)


async def require_member(repos: Repositories, topic: Topic, actor: Actor, action: str) -> Membership:
    """``forbidden`` for a public topic (subscribe first); a private one is ``not_found``."""
    membership = await repos.memberships.get(topic.id or 0, actor.id)
    if membership is None:
        raise not_member(topic.name, topic.kind, action)
    return membership


def not_member(name: str, kind: str, action: str) -> ChatError:
    if kind != "public":
        return no_topic(name)
    return forbidden(f"only members of {name!r} may {action} (subscribe first)")


async def require_readable(repos: Repositories, topic: Topic, actor: Actor) -> None:
    """Public topics are readable by anyone; private and direct ones by members."""
    if topic.kind != "public":
        await require_member(repos, topic, actor, "read it")
