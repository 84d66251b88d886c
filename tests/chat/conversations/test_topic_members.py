"""``topic:members`` (``chat.topics.members``, PROTOCOL.md sections 3 and 14) called directly over a
real SQLite file: who is online shows only where the presence rule of section 4 lets the viewer
see it (the member, their partners, never across a block), as ``availability`` does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import Target
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
