"""The moderation actions' answers outside the rank table (``moderation.py``, PROTOCOL.md section 10),
through the moderation service without a server: who is asked at all, and who may be named.

The rank cells (who may kick, ban, mute or give a role to whom) are ``authority.check``'s and are
tested in full in ``test_authority_table.py``; here:

- an actor must be a member of the topic (a non-member or banned user of a public topic is told
  ``forbidden``; of a private topic, ``not_found`` as if it did not exist);
- kick, mute, unmute and role name a member (``not_found`` otherwise); ban and unban may name anyone,
  who then ranks as a member.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from server.chat.kernel.actors import Actor
from server.chat.service import Chat
from tests.chat.rules.answers import answer

Call = Callable[[Chat, Actor, str, str], Awaitable[object]]
ACTIONS: dict[str, Call] = {
    "kick": lambda chat, actor, topic, who: chat.moderation.kick(actor, topic, who, None),
    "ban": lambda chat, actor, topic, who: chat.moderation.ban(actor, topic, who, None, None),
    "unban": lambda chat, actor, topic, who: chat.moderation.unban(actor, topic, who),
    "mute": lambda chat, actor, topic, who: chat.moderation.mute(actor, topic, who, None),
    "unmute": lambda chat, actor, topic, who: chat.moderation.unmute(actor, topic, who),
    "role": lambda chat, actor, topic, who: chat.moderation.role(actor, topic, who, "moderator"),
}


@pytest.fixture
async def people(chat: Chat, make_user: Callable[[str], Awaitable[Actor]]) -> dict[str, Actor]:
    """owner made ``plaza`` (public) and ``den`` (private); mod is a moderator of both and member a
    member of both; stranger and banned are in neither (banned was a member of both until banned)."""
    names = ("owner", "mod", "member", "stranger", "banned")
    found = {name: await make_user(name) for name in names}
    for topic, private in (("plaza", False), ("den", True)):
        await chat.topics.create(found["owner"], topic, private=private)
        for name in ("mod", "member", "banned"):
            if private:
                await chat.topics.invite(found["owner"], topic, name)
            else:
                await chat.topics.subscribe(found[name], topic)
        await chat.moderation.role(found["owner"], topic, "mod", "moderator")
        await chat.moderation.ban(found["owner"], topic, "banned", None, None)
    return found


# Who is asked at all: the actor's membership (every action alike).
OUTSIDE_PUBLIC = "forbidden: only members of 'plaza' may moderate it (subscribe first)"
OUTSIDE_PRIVATE = "not_found: no topic named 'den'"  # as for a topic that does not exist
#
#   actor        plaza (public)   den (private)
ACTORS = [
    ("stranger",  OUTSIDE_PUBLIC,  OUTSIDE_PRIVATE),
    ("banned",    OUTSIDE_PUBLIC,  OUTSIDE_PRIVATE),
]  # fmt: skip


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("actor", "public", "private"), ACTORS)
async def test_only_members_moderate_and_a_private_topic_is_hidden_from_the_others(
    chat: Chat, people: dict[str, Actor], action: str, actor: str, public: str, private: str
) -> None:
    act = ACTIONS[action]
    assert await answer(act(chat, people[actor], "plaza", "member")) == public
    assert await answer(act(chat, people[actor], "den", "member")) == private


# Who may be named: a moderator acting on someone not in the topic.
#
#   action    answer
NAMED = [
    ("kick",   "not_found: 'stranger' is not a member of 'plaza'"),
    ("mute",   "not_found: 'stranger' is not a member of 'plaza'"),
    ("unmute", "not_found: 'stranger' is not a member of 'plaza'"),
    ("role",   "not_found: 'stranger' is not a member of 'plaza'"),
    ("ban",    "ok"),  # a ban may come before the user ever joins
    ("unban",  "ok"),  # lifting no ban is a no-op
]  # fmt: skip


@pytest.mark.parametrize(("action", "expected"), NAMED)
async def test_kick_mute_and_role_name_a_member_while_ban_and_unban_name_anyone(
    chat: Chat, people: dict[str, Actor], action: str, expected: str
) -> None:
    assert await answer(ACTIONS[action](chat, people["mod"], "plaza", "stranger")) == expected


@pytest.mark.parametrize("action", ["ban", "unban"])
async def test_someone_not_in_the_topic_ranks_as_a_member_so_a_member_may_not_ban_them(
    chat: Chat, people: dict[str, Actor], action: str
) -> None:
    refusal = await answer(ACTIONS[action](chat, people["member"], "plaza", "stranger"))
    assert refusal == f"forbidden: only moderators may {action} in 'plaza'"
