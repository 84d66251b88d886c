"""Who may read and post where (``server/chat/rules/access.py``; PROTOCOL.md sections 3 and 10), as tables
over a topic's kind and the actor's membership, without a server or a database: the functions ask
only ``memberships.get``, ``topics.by_id``, ``messages.by_id`` and ``users.by_id``, answered here
from a few records in memory.

- public: anyone reads; only members post, and a non-member is told ``forbidden`` (subscribe first);
- private and direct: members only; a non-member is told ``not_found``, word for word the answer
  for a topic, message or conversation that does not exist (they learn nothing, not even that it is);
- a banned user is a non-member here (a ban removes the membership; ``topics.py`` refuses their
  subscribe or invite), so the non-member rows are theirs too.

What a member may do by rank is ``authority.check`` (``test_authority_table.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import cast

import pytest

from db.records import MembershipRecord, MessageRecord, TopicRecord, UserRecord
from db.repositories import Repositories
from server.chat.kernel.actors import Actor
from server.chat.kernel.places import place_of_topic
from server.chat.rules.access import (
    direct_by_id,
    locate_message,
    named_topic,
    require_member,
    require_readable,
)
from tests.chat.rules.answers import answer

AT = datetime(2026, 1, 1, tzinfo=UTC)
ALICE, BOB, CAROL = Actor(id=1, username="alice"), Actor(id=2, username="bob"), Actor(id=3, username="carol")
USERS = {user.id: UserRecord(user.id, user.username, "", AT, 0) for user in (ALICE, BOB, CAROL)}
TOPICS = {
    10: TopicRecord(10, "plaza", "public", ALICE.id, AT, 2),
    11: TopicRecord(11, "den", "private", ALICE.id, AT, 1),
    12: TopicRecord(12, "dm:1:3", "direct", None, AT, 1),
}
MEMBERS = {(10, ALICE.id), (11, ALICE.id), (12, ALICE.id), (12, CAROL.id)}  # bob is in none of them
MESSAGES = {
    100: MessageRecord(100, 10, 1, ALICE.id, "hello plaza", None, AT),
    101: MessageRecord(101, 11, 1, ALICE.id, "hello den", None, AT),
    102: MessageRecord(102, 12, 1, ALICE.id, "hello carol", None, AT),
    103: MessageRecord(103, 10, 2, ALICE.id, "gone", None, AT, deleted_at=AT),
}
BY_KIND = {"public": TOPICS[10], "private": TOPICS[11], "direct": TOPICS[12]}
MESSAGE_IN = {"public": 100, "private": 101, "direct": 102}


class _Memberships:
    async def get(self, topic_id: int, user_id: int) -> MembershipRecord | None:
        if (topic_id, user_id) not in MEMBERS:
            return None
        return MembershipRecord(topic_id, user_id, "member", AT, 0, 0)


class _Topics:
    async def by_id(self, topic_id: int) -> TopicRecord | None:
        return TOPICS.get(topic_id)

    async def by_name(self, name: str) -> TopicRecord | None:
        return next((topic for topic in TOPICS.values() if topic.name.lower() == name.lower()), None)


class _Messages:
    async def by_id(self, message_id: int, lock: bool = False) -> MessageRecord | None:
        return MESSAGES.get(message_id)


class _Users:
    async def by_id(self, user_id: int) -> UserRecord | None:
        return USERS.get(user_id)


class _Repositories:
    memberships, topics, messages, users = _Memberships(), _Topics(), _Messages(), _Users()


REPOS = cast(Repositories, _Repositories())


# May the actor read a topic (its history, members, pins), post in it (or act as a member), or see
# one of its messages (to reply to, react to, pin, edit, delete, report it)?
#
#   action     kind       member  non-member (or banned)
READ_AND_POST = [
    ("read",    "public",  "ok",   "ok"),
    ("read",    "private", "ok",   "not_found: no topic named 'den'"),
    ("read",    "direct",  "ok",   "not_found: no topic named 'dm:1:3'"),
    ("post",    "public",  "ok",   "forbidden: only members of 'plaza' may post (subscribe first)"),
    ("post",    "private", "ok",   "not_found: no topic named 'den'"),
    ("post",    "direct",  "ok",   "not_found: no topic named 'dm:1:3'"),
    ("message", "public",  "ok",   "ok"),
    ("message", "private", "ok",   "not_found: no message with id 101"),
    ("message", "direct",  "ok",   "not_found: no message with id 102"),
]  # fmt: skip


def ask(action: str, kind: str, actor: Actor) -> Awaitable[object]:
    place = place_of_topic(BY_KIND[kind])
    if action == "read":
        return require_readable(REPOS, place, actor)
    if action == "post":
        return require_member(REPOS, place, actor, "post")
    return locate_message(REPOS, actor, MESSAGE_IN[kind])


@pytest.mark.parametrize(
    ("action", "kind", "member", "non_member"),
    READ_AND_POST,
    ids=[f"{a}-{k}" for a, k, _, _ in READ_AND_POST],
)
async def test_anyone_reads_a_public_topic_members_post_and_only_members_see_a_hidden_one(
    action: str, kind: str, member: str, non_member: str
) -> None:
    assert await answer(ask(action, kind, ALICE)) == member
    assert await answer(ask(action, kind, BOB)) == non_member


async def test_a_hidden_topic_is_answered_word_for_word_as_a_missing_one() -> None:
    hidden = await answer(require_member(REPOS, place_of_topic(TOPICS[11]), BOB, "post"))
    missing = await answer(named_topic(REPOS, "den2"))
    assert hidden.replace("'den'", "'den2'") == missing == "not_found: no topic named 'den2'"


@pytest.mark.parametrize(("message_id", "reason"), [(103, "deleted"), (999, "missing")])
async def test_a_deleted_or_missing_message_is_answered_as_a_hidden_one(message_id: int, reason: str) -> None:
    assert (
        await answer(locate_message(REPOS, ALICE, message_id))
        == f"not_found: no message with id {message_id}"
    )


async def test_a_direct_message_is_placed_as_its_reader_sees_the_conversation() -> None:
    _, for_alice = await locate_message(REPOS, ALICE, 102)
    _, for_carol = await locate_message(REPOS, CAROL, 102)
    assert (for_alice.shown_as, for_carol.shown_as) == ("@carol", "@alice")


# A direct conversation named by its id: one answer for every id the actor may not use.
#
#   id   actor   answer
BY_ID = [
    (12,  ALICE, "ok"),                                   # alice's
    (12,  CAROL, "ok"),                                   # carol's
    (12,  BOB,   "not_found: no conversation with id 12"),  # a conversation of others
    (10,  ALICE, "not_found: no conversation with id 10"),  # a public topic, though she is in it
    (11,  ALICE, "not_found: no conversation with id 11"),  # a private topic, though she is in it
    (99,  ALICE, "not_found: no conversation with id 99"),  # no such id
]  # fmt: skip


@pytest.mark.parametrize(
    ("topic_id", "actor", "expected"), BY_ID, ids=[f"{t}-{a.username}" for t, a, _ in BY_ID]
)
async def test_a_direct_conversation_by_id_is_only_its_two_members(
    topic_id: int, actor: Actor, expected: str
) -> None:
    assert await answer(direct_by_id(REPOS, actor, topic_id)) == expected
