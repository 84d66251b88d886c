"""Moderation (PROTOCOL.md section 10) in the interactive client and in ``listen``, against a real
server, with the other users as real clients: one test per command, the system messages others
see, and ``topic:removed`` for the one removed."""

from __future__ import annotations

import json

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Demo, demo_env
from tests.client_demo.test_conversations import den_with_bob
from tests.support import PASSWORD, Client, LiveServer, send


def error_code(line: str) -> str:
    """``error: forbidden: ...`` -> ``forbidden``."""
    return line.split(": ")[1]


async def test_kick(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/kick bob posting spam")
    await alice.expect_all("kicked bob from den (posting spam)", "] * alice removed bob (posting spam)")
    assert await bob.next("topic:removed") == {"topic": "den", "reason": "posting spam"}
    joined = await bob.ok("topic:subscribe", {"topic": "den"})  # a kick is no ban
    assert joined["topic"]["subscribed"] is True

    await alice.write("/kick carol")
    assert error_code(await alice.expect("error:", stream="err")) == "not_found"
    await alice.write("/kick")
    await alice.expect("usage: /kick USER [REASON]", stream="err")


async def test_ban_and_unban(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/ban bob 10 flooding")
    await alice.expect_all(
        "banned bob from den for 10 minutes (flooding)",
        "] * alice banned bob for 10 minutes (flooding)",
        "* bob left den",  # topic:member, as the page's member count hears it
    )
    removed = await bob.next("topic:removed")
    assert (removed["topic"], removed["reason"], removed["banned"]) == ("den", "flooding", True)
    assert removed["until"] is not None  # a ban says until when (Parley's addition to section 10)
    refused = await bob.call("topic:subscribe", {"topic": "den"})
    assert refused["error"]["code"] == "forbidden"
    await alice.write("/bans")
    assert (await alice.expect("bob, by alice, until ")).endswith(" UTC (flooding)")

    await alice.write("/unban bob")
    await alice.expect_all("unbanned bob in den", "] * alice unbanned bob")
    await alice.write("/bans")
    await alice.expect("nobody is banned from den")
    await bob.ok("topic:subscribe", {"topic": "den"})
    await alice.expect("* bob joined den")
    await alice.write("/ban bob")  # no minutes, no reason: until unbanned
    await alice.expect_all("banned bob from den", "] * alice banned bob")


async def test_mute_and_unmute(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/mute bob 5")
    await alice.expect_all("muted bob in den for 5 minutes", "] * alice muted bob for 5 minutes")
    refused = await bob.call("message:send", {"topic": "den", "body": "let me speak"})
    assert refused["error"]["code"] == "forbidden"

    await alice.write("/unmute bob")
    await alice.expect_all("unmuted bob in den", "] * alice unmuted bob")
    await send(bob, {"topic": "den", "body": "thanks"})
    await alice.expect("bob: thanks")
    await alice.write("/mute bob soon")
    await alice.expect("usage: /mute USER [MINUTES]", stream="err")


async def test_role_and_members(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/role bob moderator")
    await alice.expect_all("bob is now a moderator of den", "] * alice made bob a moderator")
    await alice.write("/members")
    # a public topic shares no presence (PROTOCOL.md section 4): bob shows offline to alice
    await alice.expect_all("alice (owner, online)", "bob (moderator, offline)")

    carol = await live_server.user("carol")
    await carol.ok("topic:subscribe", {"topic": "den"})
    await bob.ok("topic:mute", {"topic": "den", "username": "carol"})  # a moderator acts on members
    await alice.expect("] * bob muted carol")
    await alice.write("/role bob king")
    await alice.expect("usage: /role USER admin|moderator|member", stream="err")


async def test_archive_unarchive_and_topics(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/archive")
    await alice.expect_all("archived den", "] * alice archived the topic")
    await alice.write("/topics")
    assert "public (archived), 2 members" in await alice.expect("* den ")
    await alice.write("read-only now?")
    assert error_code(await alice.expect("error:", stream="err")) == "forbidden"
    refused = await bob.call("message:send", {"topic": "den", "body": "me neither?"})
    assert refused["error"]["code"] == "forbidden"

    await alice.write("/unarchive")
    await alice.expect_all("unarchived den", "] * alice unarchived the topic")
    await alice.write("/topics")
    assert "public, 2 members" in await alice.expect("* den ")


async def test_rename_and_describe(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/describe where we plan the release")
    await alice.expect_all(
        "description of den: where we plan the release", "] * alice changed the description"
    )
    await alice.write("/rename lair")
    await alice.expect_all("renamed den to lair", "* topic den was renamed to lair")
    assert await bob.next("topic:renamed") == {"topic": "den", "name": "lair"}
    await alice.write("still here")  # the current conversation followed the rename
    assert "[lair #" in await alice.expect("alice: still here")

    await alice.write("/join lair")
    await alice.expect("joined lair (public, 2 members")
    assert await alice.expect("where we plan") == "    where we plan the release"
    await alice.write("/describe")
    await alice.expect("usage: /describe TEXT", stream="err")


async def test_moderation_needs_a_topic(live_server: LiveServer, spawn: Spawn) -> None:
    token = await live_server.register("alice")
    await live_server.register("bob")
    alice = await spawn(env=demo_env(PARLEY_TOKEN=token))
    await alice.expect("type /help")
    await alice.write("/join @bob")
    await alice.expect("talking with @bob")
    for command in ("/kick bob", "/archive", "/rename chat"):
        await alice.write(command)
        name = command.split()[0]
        await alice.expect(f"usage: {name} needs a topic; a direct conversation has no moderation", "err")


async def bob_in_carols_den(live_server: LiveServer, spawn: Spawn) -> tuple[Demo, Client, Client]:
    """bob's interactive client in carol's topic ``den``; dave subscribed there too."""
    carol = await live_server.user("carol")
    dave = await live_server.user("dave")
    await carol.ok("topic:create", {"name": "den"})
    await dave.ok("topic:subscribe", {"topic": "den"})
    bob = await spawn(env=demo_env(PARLEY_TOKEN=await live_server.register("bob")))
    await bob.expect("type /help")
    await bob.write("/join den")
    await bob.expect("joined den")
    return bob, carol, dave


async def test_the_repl_shows_moderation_and_its_own_removal(live_server: LiveServer, spawn: Spawn) -> None:
    bob, carol, _ = await bob_in_carols_den(live_server, spawn)
    await carol.ok("topic:mute", {"topic": "den", "username": "dave", "minutes": 5})
    assert (await bob.expect("] * carol")).endswith("] * carol muted dave for 5 minutes")

    await carol.ok("topic:kick", {"topic": "den", "username": "bob", "reason": "spam"})
    await bob.expect_all(
        "* you were removed from den (spam)",
        "* you were in den: /join NAME or /join @USER to talk elsewhere",
    )
    await bob.write("anyone?")  # no current conversation any more
    await bob.expect("usage: no current conversation", stream="err")
    await carol.ok("topic:ban", {"topic": "den", "username": "dave"})  # bob no longer hears den
    await send(carol, {"topic": "den", "body": "bob is gone"})
    await bob.write("/join den")  # a kick is no ban: he may come back, and reads what he missed
    await bob.expect("] * carol banned dave")
    await bob.expect("carol: bob is gone")
    assert not [line for line in bob.out if "* carol banned dave" in line][1:], bob.transcript()


async def test_the_repl_says_a_reason_once(live_server: LiveServer, spawn: Spawn) -> None:
    bob, carol, _ = await bob_in_carols_den(live_server, spawn)
    await carol.ok("topic:ban", {"topic": "den", "username": "dave", "reason": "trolling"})
    # The server's sentence names the reason already (test_render: a body that lacks it).
    assert (await bob.expect("] * carol banned")).endswith("] * carol banned dave (trolling)")


async def test_listen_shows_moderation_then_its_own_removal(live_server: LiveServer, spawn: Spawn) -> None:
    carol = await live_server.user("carol")
    dave = await live_server.user("dave")
    await live_server.register("bob")
    await carol.ok("topic:create", {"name": "den"})
    await dave.ok("topic:subscribe", {"topic": "den"})
    listener = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "den")
    await listener.write(PASSWORD)
    await listener.expect("listening on den", stream="err")

    await carol.ok("topic:mute", {"topic": "den", "username": "dave"})
    await listener.expect("] * carol muted dave")
    await carol.ok("topic:kick", {"topic": "den", "username": "bob", "reason": "spam"})
    await listener.expect("* you were removed from den (spam)", stream="err")
    assert await listener.wait() == 1, listener.transcript()
    assert listener.err[-1] == "error: forbidden: you were removed from den (spam)"


async def test_listen_json_shows_system_messages(live_server: LiveServer, spawn: Spawn) -> None:
    carol = await live_server.user("carol")
    await live_server.user("dave")
    await live_server.register("bob")
    await carol.ok("topic:create", {"name": "den"})
    listener = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "den", "--json")
    await listener.write(PASSWORD)
    await listener.expect("listening on den", stream="err")
    await carol.ok("topic:ban", {"topic": "den", "username": "dave", "reason": "spam", "minutes": 60})
    system = json.loads(await listener.expect('"type":"system"'))
    assert system["body"] == "carol banned dave for 60 minutes (spam)"
    info = system["system"]
    assert (info["action"], info["actor"], info["target"], info["reason"]) == ("ban", "carol", "dave", "spam")
    assert info["until"].endswith("Z") or "+" in info["until"]
