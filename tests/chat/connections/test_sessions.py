"""Opening a session (server.chat.connections.sessions.SessionService.open), over a real SQLite
file: what a connect reads. Each read is a round trip, most of a connect's CPU. The credentials,
the memberships and the availability come in one read (three before), and the partners are read
only when the user has some: a connect storm of users in public topics only (every new account's
``lobby``) made a read per connect that found none.
"""

from __future__ import annotations

import asyncio

from server.chat.accounts.schemas import LoginIn
from server.chat.kernel.events import PresenceChanged
from server.chat.kernel.schemas import Target
from server.chat.service import Chat
from tests.holds import held_membership_reads
from tests.support import PASSWORD, WAIT, Client, LiveServer, statements


async def token_of(chat: Chat, username: str) -> str:
    return (await chat.users.login(LoginIn(username=username, password=PASSWORD))).token


def partner_reads(seen: list[str]) -> list[str]:
    return [statement for statement in seen if statement.startswith("SELECT DISTINCT o.user_id")]


def firsts(seen: list[str]) -> list[list[str]]:
    return [statement.split()[:2] for statement in seen]


async def test_a_user_in_public_topics_only_comes_online_without_a_read_of_partners(chat, sink, make_user):
    alice = await make_user("alice")  # in the lobby, nothing else
    token = await token_of(chat, "alice")
    sink.clear()

    with statements(chat.db) as seen:
        session = await chat.sessions.open(token)

    assert session.actor == alice
    # the token's user with the memberships and the availability: one read in all
    assert firsts(seen) == [["SELECT", "u.id,"]]
    assert sink.of(PresenceChanged) == []  # nobody to tell


async def test_a_user_with_a_direct_conversation_comes_online_to_their_partner(chat, sink, make_user):
    alice, bob = await make_user("alice"), await make_user("bob")
    await chat.messages.send(alice, Target(user="bob"), "hi")
    token = await token_of(chat, "alice")
    sink.clear()

    with statements(chat.db) as seen:
        await chat.sessions.open(token)

    assert len(partner_reads(seen)) == 1
    [online] = sink.of(PresenceChanged)
    assert (online.username, online.online, online.audience.user_ids) == ("alice", True, (bob.id,))


async def test_a_user_whose_credentials_are_in_memory_connects_with_one_read_too(chat, make_user):
    alice = await make_user("alice")
    token = await token_of(chat, "alice")
    first = await chat.sessions.open(token)  # remembers her credentials
    await chat.sessions.close(first.actor)

    with statements(chat.db) as seen:
        again = await chat.sessions.open(token)

    assert again.actor == alice
    assert firsts(seen) == [["SELECT", "u.id,"]]  # the memberships and availability, by themselves


async def test_users_connecting_at_one_moment_share_one_opening_read(chat, make_user):
    """A reconnect storm's connects: one statement reads every one of their users (a round trip
    each before), and each session still gets exactly its own user's memberships."""
    users = [await make_user(f"user{n}") for n in range(5)]
    await chat.topics.create(users[0], "den", private=True)
    tokens = [await token_of(chat, user.username) for user in users]

    with statements(chat.db) as seen:
        sessions = await asyncio.gather(*(chat.sessions.open(token) for token in tokens))

    assert firsts(seen).count(["SELECT", "u.id,"]) == 1
    assert [session.actor for session in sessions] == users
    den = sessions[0].topic_ids
    assert all(set(den) > set(session.topic_ids) for session in sessions[1:])  # the den: user0's alone


# A membership moved while a socket is set up ------------------------------------------------------
# The set-up reads the user's topics, then the socket is registered where a move finds it. A join or
# a leave of the same user told in between (from another tab, a kick) reaches the new socket too.


async def set_up_during(live_server: LiveServer, first: Client, move: str, topic: str) -> Client:
    """alice's second socket, whose memberships read waited while her ``first`` did ``move``."""
    token = (await live_server.chat.users.issue_token("alice")).token
    await live_server.chat.users.authenticate(token)  # the set-up reads only the memberships
    async with held_membership_reads(live_server) as held:
        connecting = asyncio.ensure_future(live_server.connect("alice", token))
        await held.wait()  # token checked; set-up under way; not registered yet
        await first.ok(move, {"topic": topic})
        await held.release()
        second: Client = await asyncio.wait_for(connecting, WAIT)
    return second


async def test_a_join_told_while_a_socket_is_set_up_reaches_it(live_server: LiveServer) -> None:
    alice, bob = await live_server.user("alice"), await live_server.user("bob")
    await bob.ok("topic:create", {"name": "news"})
    second = await set_up_during(live_server, alice, "topic:subscribe", "news")

    sent = await bob.ok("message:send", {"topic": "news", "body": "hi"})
    got = await second.next("message")
    assert (got["topic"], got["id"]) == ("news", sent["id"])


async def test_a_leave_told_while_a_socket_is_set_up_reaches_it(live_server: LiveServer) -> None:
    alice, bob = await live_server.user("alice"), await live_server.user("bob")
    for name in ("news", "marker"):
        await bob.ok("topic:create", {"name": name})
        await alice.ok("topic:subscribe", {"topic": name})
    second = await set_up_during(live_server, alice, "topic:unsubscribe", "news")

    await bob.ok("message:send", {"topic": "news", "body": "not for alice any more"})
    marker = await bob.ok("message:send", {"topic": "marker", "body": "sent after it"})
    got = await second.next("message")  # the news one, sent first, would come first
    assert (got["topic"], got["id"]) == ("marker", marker["id"])
