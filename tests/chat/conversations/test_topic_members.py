"""``topic:members`` (``chat.topics.members``, PROTOCOL.md sections 3 and 14) called directly over a
real SQLite file: who is online shows only where the presence rule of section 4 lets the viewer
see it (the member, their partners, never across a block), as ``availability`` does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
