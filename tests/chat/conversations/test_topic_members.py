"""``topic:members`` (``chat.topics.members``, PROTOCOL.md sections 3 and 14) called directly over a
real SQLite file: who is online shows only where the presence rule of section 4 lets the viewer
see it (the member, their partners, never across a block), as ``availability`` does; a ``query``
finds members as the directory finds people, without listing the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
from server.chat.people.schemas import ProfileUpdateIn
from server.chat.service import Chat

MakeUser = Callable[[str], Awaitable[Actor]]


async def presence_seen(chat: Chat, viewer: Actor, member: str) -> tuple[bool, str | None]:
    """``online`` and ``availability`` of ``member`` in the lobby's member list as ``viewer`` sees it."""
    listed = await chat.topics.members(viewer, "lobby")
    (entry,) = [found for found in listed.members if found.username == member]
    return entry.online, entry.availability


async def test_a_stranger_sees_a_member_offline_whose_presence_the_rule_hides_from_them(
    chat: Chat, make_user: MakeUser
) -> None:
    alice, bob, carol = await make_user("alice"), await make_user("bobby"), await make_user("carol")
    await chat.messages.send(alice, Target(user="bobby"), "hi")  # bob is alice's partner
    await chat.presence.socket_opened(alice.id, alice.username)

    assert await presence_seen(chat, carol, "alice") == (False, None)  # shares only the lobby
    assert await presence_seen(chat, bob, "alice") == (True, "online")
    assert await presence_seen(chat, alice, "alice") == (True, "online")


async def test_a_block_hides_a_partners_presence_in_the_member_list(chat: Chat, make_user: MakeUser) -> None:
    alice, bob = await make_user("alice"), await make_user("bobby")
    await chat.messages.send(alice, Target(user="bobby"), "hi")
    await chat.presence.socket_opened(alice.id, alice.username)

    await chat.blocks.block(bob, "alice")

    assert await presence_seen(chat, bob, "alice") == (False, None)


async def test_the_member_rows_are_the_records_the_other_reads_give(chat: Chat, make_user: MakeUser) -> None:
    """``memberships.members`` reads plain rows, not ORM objects (#lobby holds every account): each
    pair is field for field the user and the membership that ``users.by_id`` and
    ``memberships.get`` give, for fields set away from their defaults too."""
    alice, bobby = await make_user("alice"), await make_user("bobby")
    async with chat.db.write() as repos:
        lobby = await repos.topics.by_name("lobby")
        assert lobby is not None
        await repos.session.execute(
            text(
                "UPDATE users SET display_name = 'Bob B', status_text = 'away', availability = 'dnd',"
                " idle = true, role = 'admin' WHERE id = :id"
            ),
            {"id": bobby.id},
        )
        now = datetime.now(UTC)
        await repos.memberships.set_mute(lobby.id, bobby.id, now, now + timedelta(hours=1))
    async with chat.db.read() as repos:
        rows = await repos.memberships.members(lobby.id)
        expected = [
            (await repos.users.by_id(user.id), await repos.memberships.get(lobby.id, user.id))
            for user in (alice, bobby)
        ]

    assert rows == expected
    assert (rows[1][0].display_name, rows[1][0].role, rows[1][0].idle) == ("Bob B", "admin", True)
    assert rows[1][1].muted_until is not None and rows[0][1].muted_until is None


async def test_a_query_lists_the_members_a_word_of_whose_name_starts_with_it_whole_names_first(
    chat: Chat, make_user: MakeUser
) -> None:
    viewer = await make_user("viewer")
    for name in ("zed", "elodie_x", "al", "alfred", "bert"):
        await make_user(name)
    bert = await make_user("bertrand")
    await chat.people.update(bert, ProfileUpdateIn(display_name="Élodie Martin"))
    await chat.topics.create(viewer, "small")  # in no other topic: not a member of "small"

    found = await chat.topics.members(viewer, "lobby", query="ELO")

    assert [m.username for m in found.members] == ["elodie_x", "bertrand"]  # a username, then a word
    assert found.members[1].display_name == "Élodie Martin"
    assert found.members[0].read_seq is not None  # the viewer is a member, as in the whole list
    named_al = await chat.topics.members(viewer, "lobby", query="al")
    assert [m.username for m in named_al.members] == ["al", "alfred"]  # the exact username first
    first = await chat.topics.members(viewer, "lobby", query="al", limit=1)
    assert [m.username for m in first.members] == ["al"]
    assert (await chat.topics.members(viewer, "small", query="elo")).members == []  # not members there
    assert (await chat.topics.members(viewer, "lobby", query="   ")).members == []


async def test_a_limit_alone_lists_the_first_members_to_have_joined(chat: Chat, make_user: MakeUser) -> None:
    viewer = await make_user("viewer")
    for name in ("zed", "amy", "bob"):
        await make_user(name)

    first = await chat.topics.members(viewer, "lobby", limit=2)

    assert [m.username for m in first.members] == ["viewer", "zed"]
