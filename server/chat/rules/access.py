"""Finding topics and checking who may do what: the one place for these rules.

Errors: ``not_found`` (no such topic or user, and every private topic or
direct conversation the actor is not in: a non-member learns nothing about
it, not even that it exists), ``forbidden`` (not a member of a public topic
where membership is required), ``invalid`` (a conversation with oneself).
A direct conversation named by its id is ``not_found`` alike whether the id
is unknown, names another kind of topic, or a conversation of others.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from db.errors import Conflict
from db.records import MembershipRecord, MessageRecord, TopicRecord, UserRecord
from db.repositories import Repositories
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import (
    ChatError,
    cannot_message,
    conflict,
    forbidden,
    invalid,
    no_conversation,
    no_message,
    no_topic,
    not_found,
)
from server.chat.kernel.places import Place, place_of_topic
from server.chat.kernel.schemas import Target
from server.chat.kernel.views import direct_name, direct_peer


class Located(NamedTuple):
    """A resolved target with the topic as stored (its ``last_seq`` as of this transaction)."""

    topic: TopicRecord
    place: Place


async def named_topic(repos: Repositories, name: str) -> TopicRecord:
    topic = await repos.topics.by_name(name)
    if topic is None or topic.kind == "direct":
        raise no_topic(name)
    return topic


async def free_name(repos: Repositories, name: str, keep: TopicRecord | None = None) -> None:
    """Claim ``name`` for a topic in this transaction: ``conflict`` if another topic (any case) or an
    account has it (one namespace, PROTOCOL.md section 3); ``keep`` is a topic being renamed, which
    may keep its own name in another case. Race-safe as ``db/conversations/names.py`` says."""
    await repos.names.claim(name)
    taken = await repos.topics.by_name(name)
    if taken is not None and (keep is None or taken.id != keep.id):
        raise conflict(f"a topic named {taken.name if keep else name!r} exists")
    if await repos.names.user_holds(name):
        raise conflict(f"{name!r} is a username: topics and users share one namespace")


async def user_named(repos: Repositories, username: str) -> UserRecord:
    user = await repos.users.by_name(username)
    if user is None:
        raise not_found(f"no user named {username!r}")
    return user


async def find_direct(repos: Repositories, actor: Actor, username: str, create: bool) -> Located | None:
    """The conversation with ``username``; created (with both members) when asked."""
    peer = await user_named(repos, username)
    if peer.id == actor.id:
        raise invalid("a direct conversation needs another user")
    topic = await repos.topics.by_name(direct_name(actor.id, peer.id))
    if topic is None:
        if not create:
            return None
        topic = await _create_direct(repos, actor, peer)
    return Located(topic, place_of_topic(topic, peer))


async def open_direct(db: Database, actor: Actor, username: str) -> Located:
    """The conversation with ``username``, created (in its own transaction) when missing.

    A concurrent first message or open may create it first: then it is read. Raises
    ``not_found`` (unknown user) or ``invalid`` (oneself).
    """
    try:
        async with db.write() as repos:
            found = await find_direct(repos, actor, username, create=True)
    except Conflict:
        async with db.read() as repos:
            found = await find_direct(repos, actor, username, create=False)
    assert found is not None
    return found


async def direct_by_id(repos: Repositories, actor: Actor, topic_id: int) -> Place:
    """The direct conversation ``topic_id`` as ``actor`` sees it; ``not_found`` (one answer, word for
    word) when the id is unknown, names a topic that is not a direct conversation, or one the actor
    is not in."""
    topic = await repos.topics.by_id(topic_id)
    if topic is None or topic.kind != "direct" or await repos.memberships.get(topic_id, actor.id) is None:
        raise no_conversation(topic_id)
    peer = await peer_in(repos, topic, actor.id)
    if peer is None:
        raise no_conversation(topic_id)
    return place_of_topic(topic, peer)


async def peer_in(repos: Repositories, direct: TopicRecord, user_id: int) -> UserRecord | None:
    """The other member of a direct conversation, by the ids in its stored name (``direct_name``):
    the one way the domain finds it (the backlog's SQL names it in the same query)."""
    return await repos.users.by_id(direct_peer(direct.name, user_id))


async def _create_direct(repos: Repositories, actor: Actor, peer: UserRecord) -> TopicRecord:
    """A new conversation; none starts between two users one of whom blocked the other."""
    if await repos.blocks.between(actor.id, peer.id):
        raise cannot_message()
    now = datetime.now(UTC)
    topic = await repos.topics.add(direct_name(actor.id, peer.id), "direct", now)
    for user_id in (actor.id, peer.id):
        await repos.memberships.add(topic, user_id, "member", now)
    return topic


async def locate(repos: Repositories, actor: Actor, target: Target) -> Located | None:
    """Resolve a target; None only for a direct conversation that does not exist yet."""
    if target.user is not None:
        return await find_direct(repos, actor, target.user, create=False)
    topic = await named_topic(repos, target.topic or "")
    return Located(topic, place_of_topic(topic))


async def place_of(repos: Repositories, actor: Actor, target: Target) -> Place | None:
    """Where a target's messages go; None only for a direct conversation that does not exist yet."""
    found = await locate(repos, actor, target)
    return None if found is None else found.place


async def require_member(repos: Repositories, place: Place, actor: Actor, action: str) -> MembershipRecord:
    """``forbidden`` for a public topic (subscribe first); a private one is ``not_found``."""
    membership = await repos.memberships.get(place.topic_id, actor.id)
    if membership is None:
        raise not_member(place.name, place.kind, action)
    return membership


def not_member(name: str, kind: str, action: str) -> ChatError:
    if kind != "public":
        return no_topic(name)
    return forbidden(f"only members of {name!r} may {action} (subscribe first)")


async def require_readable(repos: Repositories, place: Place, actor: Actor) -> None:
    """Public topics are readable by anyone; private and direct ones by members."""
    if place.kind != "public":
        await require_member(repos, place, actor, "read it")


async def locate_message(
    repos: Repositories, actor: Actor, message_id: int, lock: bool = False
) -> tuple[MessageRecord, Place]:
    """A message the actor may read, not deleted, and its place as the actor sees it; ``not_found``
    (one answer) for a missing or deleted one and for one in a topic the actor may not read.
    ``lock``: hold its row to the end of the transaction (``MessageRepository.by_id``)."""
    message = await repos.messages.by_id(message_id, lock=lock)
    topic = await repos.topics.by_id(message.topic_id) if message else None
    if message is None or topic is None or message.deleted_at is not None:
        raise no_message(message_id)
    if topic.kind != "public" and await repos.memberships.get(topic.id, actor.id) is None:
        raise no_message(message_id)
    if topic.kind == "direct":
        peer = await peer_in(repos, topic, actor.id)
        if peer is None:  # a row removed by hand: no one to tell
            return message, Place(topic.id, topic.name, topic.kind, None, "?", topic.owner_id)
        return message, place_of_topic(topic, peer)
    return message, place_of_topic(topic)
