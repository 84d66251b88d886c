"""Coming online (server.chat.presence.service.PresenceService.socket_opened), over a real SQLite
file: the partners hear the availability the user chose, and a user left idle (away) starts the
new session active; one who is not idle costs no write, only one read."""

from __future__ import annotations

from server.chat.kernel.events import PresenceChanged
from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from tests.support import statements


async def stored(chat: Chat, user_id: int) -> tuple[str, bool]:
    async with chat.db.read() as repos:
        user = await repos.users.by_id(user_id)
    assert user is not None
    return user.availability, user.idle


async def test_a_user_not_idle_comes_online_with_one_read_and_no_write(chat, sink, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await chat.messages.send(alice, Target(user="bob"), "hi")  # partners: bob is told
    sink.clear()

    with statements(chat.db) as seen:
        await chat.presence.socket_opened(alice.id, alice.username)

    assert [statement.split()[:3] for statement in seen if "availability" in statement] == [
        ["SELECT", "availability,", "idle"]
    ]
    assert not [statement for statement in seen if statement.split()[0] in {"UPDATE", "BEGIN", "INSERT"}]
    assert [(e.username, e.online, e.availability) for e in sink.of(PresenceChanged)] == [
        ("alice", True, "online")
    ]
    assert bob.id in sink.of(PresenceChanged)[0].audience.user_ids


async def test_an_idle_user_coming_online_is_made_active(chat, sink, make_user):
    alice, _ = await make_user("alice"), await make_user("bob")
    await chat.messages.send(alice, Target(user="bob"), "hi")
    async with chat.db.write() as repos:
        await repos.users.update_fields(alice.id, idle=True)
    sink.clear()

    await chat.presence.socket_opened(alice.id, alice.username)

    assert await stored(chat, alice.id) == ("auto", False)
    assert [e.availability for e in sink.of(PresenceChanged)] == ["online"]


async def test_the_partners_hear_the_availability_the_user_chose(chat, sink, make_user):
    alice, _ = await make_user("alice"), await make_user("bob")
    await chat.messages.send(alice, Target(user="bob"), "hi")
    async with chat.db.write() as repos:
        await repos.users.update_fields(alice.id, availability="dnd", idle=True)
    sink.clear()

    await chat.presence.socket_opened(alice.id, alice.username)

    assert await stored(chat, alice.id) == ("dnd", False)
    assert [e.availability for e in sink.of(PresenceChanged)] == ["dnd"]
