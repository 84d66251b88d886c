"""The subcommands of PROTOCOL.md section 10's moderation (``kick``, ``ban``/``unban``,
``mute``/``unmute``, ``role``, ``archive``/``unarchive``, ``rename``, ``describe``) against a
real server, run as a user runs them."""

from __future__ import annotations

import json

from tests.client_demo.test_oneshot import demo_as
from tests.support import Client, LiveServer, send


async def den(live_server: LiveServer) -> tuple[Client, Client]:
    """alice (registered, no socket: the demo is her) owns ``den``; bob is a member, connected."""
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    bob = await live_server.user("bob")
    await alice.ok("topic:create", {"name": "den"})
    await bob.ok("topic:subscribe", {"topic": "den"})
    return alice, bob


def refused(code: int, err: list[str]) -> tuple[int, str]:
    """(exit code, the error code of the last stderr line)."""
    return code, err[-1].split(": ")[1]


async def last_system(client: Client) -> str:
    """The body of the next system message ``client`` receives."""
    while (message := await client.next("message"))["type"] != "system":
        pass
    body: str = message["body"]
    return body


async def test_kick(live_server: LiveServer) -> None:
    alice, bob = await den(live_server)
    code, out, err = await demo_as(live_server, "alice", "kick", "den", "bob", "--reason", "spam")
    assert (code, out) == (0, ["kicked bob from den (spam)"]), err
    assert await bob.next("topic:removed") == {"topic": "den", "reason": "spam"}
    assert await last_system(alice) == "alice removed bob (spam)"

    code, _, err = await demo_as(live_server, "bob", "kick", "den", "alice")  # no longer a member
    assert refused(code, err) == (1, "forbidden")


async def test_ban_and_unban(live_server: LiveServer) -> None:
    alice, bob = await den(live_server)
    ban = ("ban", "den", "bob", "--minutes", "60", "--reason", "x")
    code, out, err = await demo_as(live_server, "alice", *ban)
    assert (code, out) == (0, ["banned bob from den for 60 minutes (x)"]), err
    assert await last_system(alice) == "alice banned bob for 60 minutes (x)"
    assert (await bob.call("topic:subscribe", {"topic": "den"}))["error"]["code"] == "forbidden"

    code, out, err = await demo_as(live_server, "alice", "unban", "den", "bob")
    assert (code, out) == (0, ["unbanned bob in den"]), err
    await bob.ok("topic:subscribe", {"topic": "den"})
    code, _, err = await demo_as(live_server, "alice", "ban", "den", "bob", "--minutes", "0")
    assert code == 2
    assert "must be 1 or more" in err[-1]


async def test_mute_and_unmute(live_server: LiveServer) -> None:
    alice, bob = await den(live_server)
    code, out, err = await demo_as(live_server, "alice", "mute", "den", "bob")
    assert (code, out) == (0, ["muted bob in den"]), err
    assert await last_system(alice) == "alice muted bob"
    assert (await bob.call("message:send", {"topic": "den", "body": "hi"}))["error"]["code"] == "forbidden"

    code, out, err = await demo_as(live_server, "alice", "unmute", "den", "bob")
    assert (code, out) == (0, ["unmuted bob in den"]), err
    await send(bob, {"topic": "den", "body": "hi"})
    code, out, err = await demo_as(live_server, "alice", "mute", "den", "bob", "--minutes", "1")
    assert (code, out) == (0, ["muted bob in den for 1 minute"]), err


async def test_role(live_server: LiveServer) -> None:
    alice, _ = await den(live_server)
    code, out, err = await demo_as(live_server, "alice", "role", "den", "bob", "admin")
    assert (code, out) == (0, ["bob is now an admin of den"]), err
    assert await last_system(alice) == "alice made bob an admin"
    members = (await alice.ok("topic:members", {"topic": "den"}))["members"]
    assert {m["username"]: m["role"] for m in members} == {"alice": "owner", "bob": "admin"}

    code, _, err = await demo_as(live_server, "bob", "role", "den", "alice", "member")  # the owner outranks
    assert refused(code, err) == (1, "forbidden")
    code, _, err = await demo_as(live_server, "alice", "role", "den", "bob", "owner")
    assert code == 2
    assert "invalid choice: 'owner'" in err[-1]


async def test_archive_unarchive_and_topics(live_server: LiveServer) -> None:
    alice, bob = await den(live_server)
    code, out, err = await demo_as(live_server, "alice", "archive", "den")
    assert (code, out) == (0, ["archived den"]), err
    assert (await bob.call("message:send", {"topic": "den", "body": "hi"}))["error"]["code"] == "forbidden"
    code, out, err = await demo_as(live_server, "bob", "topics")
    assert code == 0, err
    [listed] = [line for line in out if line.startswith("den ")]
    assert " public (archived), 2 members" in listed

    code, out, err = await demo_as(live_server, "alice", "unarchive", "den", "--json")
    assert code == 0, err
    topic = json.loads(out[0])
    assert (topic["name"], topic["archived"]) == ("den", False)
    code, _, err = await demo_as(live_server, "bob", "archive", "den")  # a member may not
    assert refused(code, err) == (1, "forbidden")
    assert await last_system(alice) == "alice archived the topic"


async def test_rename_and_describe(live_server: LiveServer) -> None:
    _, bob = await den(live_server)
    code, out, err = await demo_as(live_server, "alice", "describe", "den", "where", "we", "plan")
    assert (code, out) == (0, ["description of den: where we plan"]), err
    code, out, err = await demo_as(live_server, "alice", "rename", "den", "lair", "--json")
    assert code == 0, err
    topic = json.loads(out[0])
    assert (topic["name"], topic["description"]) == ("lair", "where we plan")
    assert await bob.next("topic:renamed") == {"topic": "den", "name": "lair"}

    code, out, err = await demo_as(live_server, "alice", "rename", "lair", "den")
    assert (code, out) == (0, ["renamed lair to den"]), err
    code, out, err = await demo_as(live_server, "alice", "describe", "den", "")
    assert (code, out) == (0, ["description of den cleared"]), err
    code, _, err = await demo_as(live_server, "alice", "rename", "den", "bob")  # a user's name
    assert refused(code, err) == (1, "conflict")
