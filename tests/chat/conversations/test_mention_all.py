"""``@all`` in a topic above ``PARLEY_ALL_MENTION_LIMIT`` members (PROTOCOL.md section 8): only owners,
admins and moderators may use it, on a send or an edit; in a smaller topic or a direct conversation
anyone may. The rank rule is ``authority.check(Act.MENTION_ALL, ...)`` (its cells are in
``test_authority_table.py``); these tests call the message service, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from server.config import Settings
from tests.support import PASSWORD
from tests.support import test_settings as settings_for

REFUSAL = "only owners, admins and moderators may mention @all in a topic of more than 3 members"


@pytest.fixture
def chat_settings(tmp_path: Path) -> Settings:
    """``@all`` limited to topics of at most 3 members."""
    return settings_for(tmp_path / "data", all_mention_limit=3)


async def big_topic(chat: Chat) -> dict[str, Actor]:
    """owner creates ``big``; admin, moderator, member and other subscribe (5 members, above 3)."""
    people: dict[str, Actor] = {}
    for name in ("owner", "admin", "moderator", "member", "other"):
        user = await chat.users.create(name, PASSWORD)
        assert user.id is not None
        people[name] = Actor(id=user.id, username=user.username)
    await chat.topics.create(people["owner"], "big")
    for name in ("admin", "moderator", "member", "other"):
        await chat.topics.subscribe(people[name], "big")
    for role in ("admin", "moderator"):
        await chat.moderation.role(people["owner"], "big", role, role)
    return people


async def says_all(chat: Chat, actor: Actor) -> bool:
    try:
        sent = await chat.messages.send(actor, Target(topic="big"), "@all hello")
    except ChatError as refusal:
        assert (refusal.code, refusal.message) == (ErrorCode.FORBIDDEN, REFUSAL)
        return False
    assert sent.mentions_all is True
    return True


async def test_in_a_big_topic_owners_admins_and_moderators_may_mention_all_and_members_may_not(
    chat: Chat,
) -> None:
    people = await big_topic(chat)

    answers = {name: await says_all(chat, people[name]) for name in ("owner", "admin", "moderator", "member")}

    assert answers == {"owner": True, "admin": True, "moderator": True, "member": False}


async def test_a_member_may_not_add_all_by_editing_in_a_big_topic(chat: Chat) -> None:
    people = await big_topic(chat)
    sent = await chat.messages.send(people["member"], Target(topic="big"), "hello")

    with pytest.raises(ChatError, match=REFUSAL):
        await chat.messages.edit(people["member"], sent.id, "@all hello")
    edited = await chat.messages.edit(
        people["moderator"],
        (await chat.messages.send(people["moderator"], Target(topic="big"), "hi")).id,
        "@all hi",
    )
    assert edited.mentions_all is True


async def test_the_topics_creator_may_mention_all_after_leaving_and_subscribing_again(chat: Chat) -> None:
    """The creator stays the topic's owner for ``@all`` (the topic's ``owner_id``), though the new
    membership's role is member (the behaviour kept from ``access.is_moderator``)."""
    people = await big_topic(chat)
    await chat.topics.unsubscribe(people["owner"], "big")
    await chat.topics.subscribe(people["owner"], "big")

    assert await says_all(chat, people["owner"])


async def test_a_demoted_moderator_may_no_longer_mention_all(chat: Chat) -> None:
    people = await big_topic(chat)
    await chat.moderation.role(people["owner"], "big", "moderator", "member")

    assert not await says_all(chat, people["moderator"])


async def test_anyone_may_mention_all_in_a_small_topic_or_a_direct_conversation(chat: Chat) -> None:
    people = await big_topic(chat)
    await chat.topics.create(people["owner"], "small")
    await chat.topics.subscribe(people["member"], "small")

    small = await chat.messages.send(people["member"], Target(topic="small"), "@all hi")
    direct = await chat.messages.send(people["member"], Target(user="other"), "@all hi")

    assert small.mentions_all is True and direct.mentions_all is True
