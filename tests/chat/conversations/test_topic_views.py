"""Topic views (``topic:list``, PROTOCOL.md section 3) over a real SQLite file: the counts a page
adds its live messages to must not count a message twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.chat.conversations.topic_views import topic_views
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target, TopicOut
from server.chat.service import Chat

MakeUser = Callable[[str], Awaitable[Actor]]


async def test_a_message_counted_unread_is_at_or_below_the_last_seq_given_with_it(
    chat: Chat, make_user: MakeUser
) -> None:
    """The page counts as unread its live messages after a topic's ``last_seq`` (they came after
    the list was read). The topic rows and the unread counts are separate reads: a message stored
    between them was counted by the server and again by the page (a badge of 3 for 2 messages)."""
    alice, bob = await make_user("alice"), await make_user("bobby")
    async with chat.db.read() as repos:
        stale = await repos.topics.visible_to(alice.id)  # read before bob's message
    sent = await chat.messages.send(bob, Target(topic="lobby"), "hello")

    async with chat.db.read() as repos:
        views = await topic_views(repos, alice.id, stale, chat.topics.counts)

    (lobby,) = [view for view in views if view.name == "lobby"]
    assert lobby.unread == 1
    assert lobby.last_seq >= sent.seq


async def test_a_view_gives_the_users_rank_where_it_moderates_and_none_elsewhere(
    chat: Chat, make_user: MakeUser
) -> None:
    """The page decides what it may offer in a conversation (pins, settings) from the topic's
    ``owner``, ``role`` and ``subscribed``, without asking ``topic:members`` for every member of
    #lobby. ``role`` is null for the owner and a member, so two such users' views are alike."""
    alice, bobby = await make_user("alice"), await make_user("bobby")
    await make_user("carol")
    await chat.topics.create(alice, "crew")
    await chat.topics.invite(alice, "crew", "bobby")
    await chat.topics.invite(alice, "crew", "carol")
    await chat.moderation.role(alice, "crew", "bobby", "moderator")

    def roles(views: list[TopicOut]) -> dict[str, str | None]:
        return {view.name: view.role for view in views}

    assert roles((await chat.topics.list(alice)).topics) == {"lobby": None, "crew": None}
    assert roles((await chat.topics.list(bobby)).topics) == {"lobby": None, "crew": "moderator"}
    await chat.moderation.role(alice, "crew", "bobby", "admin")
    assert (await chat.topics.get(bobby, "crew")).role == "admin"
    outsider = await make_user("dave1")  # not a member of crew
    others = (await chat.topics.get(outsider, "crew"), await chat.topics.get(alice, "crew"))
    assert [view.role for view in others] == [None, None]
