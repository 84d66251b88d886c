"""Finding topics and checking who may do what: the one place for these rules.

Errors: ``not_found`` (no such topic or user, and every private topic or
direct conversation the actor is not in: a non-member learns nothing about
it, not even that it exists), ``forbidden`` (not a member of a public topic
where membership is required), ``invalid`` (a conversation with oneself).
A direct conversation named by its id is ``not_found`` alike whether the id
is unknown, names another kind of topic, or a conversation of others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from db.models import Membership, Topic, User
from db.repositories import Repositories
from db.uow import Database
from server.chat.errors import ChatError, conflict, forbidden, invalid, no_conversation, no_topic, not_found
from server.chat.schemas import Target
from server.chat.users import Actor
from server.chat.views import direct_name, direct_peer


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


async def free_name(repos: Repositories, name: str, keep: Topic | None = None) -> None:
    """Claim ``name`` for a topic in this transaction: ``conflict`` if another topic (any case) or an
    account has it (one namespace, PROTOCOL.md section 3); ``keep`` is a topic being renamed, which
    may keep its own name in another case. Race-safe as ``db/repositories/names.py`` says."""
    await repos.names.claim(name)
    taken = await repos.topics.by_name(name)
    if taken is not None and (keep is None or taken.id != keep.id):
        raise conflict(f"a topic named {taken.name if keep else name!r} exists")
    if await repos.names.user_holds(name):
        raise conflict(f"{name!r} is a username: topics and users share one namespace")


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


async def open_direct(db: Database, actor: Actor, username: str) -> Place:
    """The conversation with ``username``, created (in its own transaction) when missing.

    A concurrent first message or open may create it first: then it is read. Raises
    ``not_found`` (unknown user) or ``invalid`` (oneself).
    """
    try:
        async with db.write() as repos:
            place = await direct_place(repos, actor, username, create=True)
    except IntegrityError:
        async with db.read() as repos:
            place = await direct_place(repos, actor, username, create=False)
    assert place is not None
    return place


async def direct_by_id(repos: Repositories, actor: Actor, topic_id: int) -> Place:
    """The direct conversation ``topic_id`` as ``actor`` sees it; ``not_found`` (one answer, word for
    word) when the id is unknown, names a topic that is not a direct conversation, or one the actor
    is not in."""
    topic = await repos.topics.by_id(topic_id)
    if topic is None or topic.kind != "direct" or await repos.memberships.get(topic_id, actor.id) is None:
        raise no_conversation(topic_id)
    peer = await repos.users.by_id(direct_peer(topic.name, actor.id))
    if peer is None:
        raise no_conversation(topic_id)
    return Place(topic=topic, shown_as=f"@{peer.username}", peer=peer)


async def _create_direct(repos: Repositories, actor: Actor, peer: User) -> Topic:
    now = datetime.now(UTC)
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
