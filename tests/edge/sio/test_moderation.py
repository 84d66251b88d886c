"""Moderation over Socket.IO and REST (PROTOCOL.md section 10): roles and ranks, kick, ban, mute,
topic updates and archives, moderators deleting; each action a system message; a refusal stores
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from db.models import Ban, Membership, Message
from tests import support
from tests.contract import assert_error, error_code
from tests.support import Client, LiveServer, bearer, count_rows, running, send

pytestmark = pytest.mark.both_databases


# The rank table (who may do what to whom, PROTOCOL.md section 10) is tested in full as a pure
# function: tests/chat/rules/test_authority_table.py. Here a few cases per transport prove that the
# events and the REST routes reach it: one allowed and one refused action each, a refusal stored
# nothing.


async def staffed(owner: Client, name: str, roles: dict[Client, str]) -> None:
    """``owner`` creates topic ``name``; each client subscribes and gets its role."""
    await owner.ok("topic:create", {"name": name})
    for client, role in roles.items():
        await client.ok("topic:subscribe", {"topic": name})
        if role != "member":
            await owner.ok("topic:role", {"topic": name, "username": client.username, "role": role})


async def owner_and_member(server: LiveServer, topic: str) -> tuple[Client, Client]:
    """alice creates ``topic``, bob subscribes to it."""
    alice = await server.user("alice")
    bob = await server.user("bob")
    await alice.ok("topic:create", {"name": topic})
    await bob.ok("topic:subscribe", {"topic": topic})
    return alice, bob


async def test_over_socket_io_a_moderator_mutes_a_member_but_may_not_kick_an_admin(live_server):
    owner = await live_server.user("owner1")
    admin, moderator, member = [await live_server.user(name) for name in ("admin1", "mod1", "member1")]
    await staffed(owner, "general", {admin: "admin", moderator: "moderator", member: "member"})

    assert await moderator.ok("topic:mute", {"topic": "general", "username": "member1"}) == {}
    before = await count_rows(live_server, Message, Ban, Membership)
    refusal = await moderator.call("topic:kick", {"topic": "general", "username": "admin1"})

    assert error_code(refusal) == "forbidden"
    assert await count_rows(live_server, Message, Ban, Membership) == before


async def test_over_rest_an_admin_makes_a_moderator_but_not_an_admin(live_server):
    http = live_server.http
    owner = await live_server.user("owner1")
    token = await live_server.register("admin1")
    admin, member = await live_server.connect("admin1", token), await live_server.user("member1")
    await staffed(owner, "general", {admin: "admin", member: "member"})

    made = await http.put(
        "/api/topics/general/members/member1/role", json={"role": "moderator"}, headers=bearer(token)
    )
    before = await count_rows(live_server, Message, Membership)
    refused = await http.put(
        "/api/topics/general/members/member1/role", json={"role": "admin"}, headers=bearer(token)
    )

    assert made.status_code == 200
    assert_error(refused, 403, "forbidden")
    assert await count_rows(live_server, Message, Membership) == before


# Kick and ban ------------------------------------------------------------------------------


async def test_a_kicked_member_is_told_leaves_the_room_and_may_subscribe_again(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    carol = await live_server.user("carol")
    await alice.ok("topic:create", {"name": "general"})
    for client in (bob, carol):
        await client.ok("topic:subscribe", {"topic": "general"})

    assert await alice.ok("topic:kick", {"topic": "general", "username": "bob", "reason": "spam"}) == {}
    removed = await bob.next("topic:removed")
    system = await carol.next("message")
    marker = await send(alice, {"topic": "general", "body": "after the kick"})

    assert removed == {"topic": "general", "reason": "spam"}
    assert system["type"] == "system" and system["sender"] == "alice"
    assert system["system"] == {"action": "kick", "actor": "alice", "target": "bob", "reason": "spam"}
    assert (await carol.next("message"))["id"] == marker["id"]
    await bob.ok("topic:list", {})  # a round trip: whatever was sent to bob before is in
    assert bob.pending("message") == []  # neither the system message nor the marker
    members = {m["username"] for m in (await carol.ok("topic:members", {"topic": "general"}))["members"]}
    assert members == {"alice", "carol"}
    await bob.ok("topic:subscribe", {"topic": "general"})


async def test_a_ban_refuses_subscribe_and_invite_until_unbanned(live_server):
    alice, bob = await owner_and_member(live_server, "general")

    await alice.ok("topic:ban", {"topic": "general", "username": "bob", "reason": "abuse"})

    assert (await bob.next("topic:removed"))["reason"] == "abuse"
    assert error_code(await bob.call("topic:subscribe", {"topic": "general"})) == "forbidden"
    assert (
        error_code(await alice.call("topic:invite", {"topic": "general", "username": "bob"})) == "forbidden"
    )
    await alice.ok("topic:unban", {"topic": "general", "username": "bob"})
    await bob.ok("topic:subscribe", {"topic": "general"})


async def test_a_timed_ban_and_mute_end_by_themselves_across_a_restart(tmp_path):
    """The end is checked at use against the stored time: the clock passing is simulated by
    moving the stored end into the past, and the server restarted over the same SQLite file."""
    settings = support.test_settings(tmp_path / "data")
    async with running(settings) as server:
        alice = await server.user("alice")
        bob = await server.user("bob")
        carol = await server.user("carol")
        await alice.ok("topic:create", {"name": "general"})
        for client in (bob, carol):
            await client.ok("topic:subscribe", {"topic": "general"})
        await alice.ok("topic:ban", {"topic": "general", "username": "bob", "minutes": 60})
        await alice.ok("topic:mute", {"topic": "general", "username": "carol", "minutes": 60})
        assert error_code(await carol.call("message:send", {"topic": "general", "body": "x"})) == "forbidden"
    async with running(settings) as server:  # still banned and muted after a restart
        bob = await server.connect("bob", await login(server, "bob"))
        carol = await server.connect("carol", await login(server, "carol"))
        assert error_code(await bob.call("topic:subscribe", {"topic": "general"})) == "forbidden"
        assert error_code(await carol.call("message:send", {"topic": "general", "body": "x"})) == "forbidden"
        async with server.chat.db.write() as repos:
            past = datetime.now(UTC) - timedelta(seconds=1)
            await repos.session.execute(update(Ban).values(until=past))
            muted = col(Membership.muted_at).is_not(None)
            await repos.session.execute(update(Membership).where(muted).values(muted_until=past))
    async with running(settings) as server:
        bob = await server.connect("bob", await login(server, "bob"))
        carol = await server.connect("carol", await login(server, "carol"))
        await bob.ok("topic:subscribe", {"topic": "general"})
        await carol.ok("message:send", {"topic": "general", "body": "free again"})


async def next_system(client: Client, action: str) -> dict[str, Any]:
    """The next system message of ``action`` the client gets (skipping other messages)."""
    while True:
        message: dict[str, Any] = await client.next("message")
        if message["type"] == "system" and message["system"]["action"] == action:
            return message


async def login(server: LiveServer, name: str) -> str:
    response = await server.http.post(
        "/api/auth/login", json={"username": name, "password": support.PASSWORD}
    )
    token: str = response.json()["token"]
    return token


# Mute, archive, update -----------------------------------------------------------------------


async def test_a_muted_member_reads_but_may_not_send_react_or_pin_until_unmuted(live_server):
    alice, bob = await owner_and_member(live_server, "general")
    await alice.ok("topic:role", {"topic": "general", "username": "bob", "role": "moderator"})
    message = await send(alice, {"topic": "general", "body": "hello"})
    await alice.ok("topic:role", {"topic": "general", "username": "bob", "role": "member"})

    await alice.ok("topic:mute", {"topic": "general", "username": "bob", "minutes": 5})
    system = await next_system(bob, "mute")
    before = await count_rows(live_server, Message)

    assert system["system"]["target"] == "bob" and system["system"]["until"].endswith("Z")
    assert error_code(await bob.call("message:send", {"topic": "general", "body": "x"})) == "forbidden"
    assert error_code(await bob.call("reaction:add", {"id": message["id"], "emoji": "👍"})) == "forbidden"
    assert await count_rows(live_server, Message) == before
    reader = await send(alice, {"topic": "general", "body": "you still read this"})
    assert (await bob.next("message"))["id"] == reader["id"]
    await alice.ok("topic:unmute", {"topic": "general", "username": "bob"})
    await send(bob, {"topic": "general", "body": "thanks"})


async def test_an_archived_topic_is_read_only_for_everyone_and_listed(live_server):
    alice, bob = await owner_and_member(live_server, "old")
    mine = await send(alice, {"topic": "old", "body": "last words"})

    topic = await alice.ok("topic:archive", {"topic": "old"})

    assert topic["archived"] is True
    for client in (alice, bob):
        assert error_code(await client.call("message:send", {"topic": "old", "body": "x"})) == "forbidden"
    assert error_code(await alice.call("message:edit", {"id": mine["id"], "body": "y"})) == "forbidden"
    assert error_code(await bob.call("reaction:add", {"id": mine["id"], "emoji": "👍"})) == "forbidden"
    assert error_code(await alice.call("message:pin", {"id": mine["id"]})) == "forbidden"
    listed = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    assert listed["old"]["archived"] is True
    assert (await alice.ok("topic:unarchive", {"topic": "old"}))["archived"] is False
    await send(bob, {"topic": "old", "body": "back"})


async def test_an_update_renames_and_describes_and_the_old_name_stops_resolving(live_server):
    alice, bob = await owner_and_member(live_server, "general")

    topic = await alice.ok(
        "topic:update", {"topic": "general", "name": "plaza", "description": "all welcome"}
    )

    assert topic["name"] == "plaza" and topic["description"] == "all welcome"
    assert await bob.next("topic:renamed") == {"topic": "general", "name": "plaza"}
    assert error_code(await bob.call("message:send", {"topic": "general", "body": "x"})) == "not_found"
    await send(bob, {"topic": "plaza", "body": "new name"})
    assert (
        error_code(await bob.call("topic:update", {"topic": "plaza", "description": "mine"})) == "forbidden"
    )
    too_long = await alice.call("topic:update", {"topic": "plaza", "description": "x" * 501})
    assert error_code(too_long) == "invalid"


async def test_a_moderator_deletes_any_message_and_a_member_only_their_own(live_server):
    alice = await live_server.user("alice")
    bob = await live_server.user("bob")
    carol = await live_server.user("carol")
    await alice.ok("topic:create", {"name": "general"})
    for client in (bob, carol):
        await client.ok("topic:subscribe", {"topic": "general"})
    await alice.ok("topic:role", {"topic": "general", "username": "bob", "role": "moderator"})
    spam = await send(carol, {"topic": "general", "body": "spam"})
    bobs = await send(bob, {"topic": "general", "body": "mod speaking"})

    assert error_code(await carol.call("message:delete", {"id": bobs["id"]})) == "forbidden"
    await bob.ok("message:delete", {"id": spam["id"]})
    members = {
        m["username"]: m["role"] for m in (await carol.ok("topic:members", {"topic": "general"}))["members"]
    }
    assert members == {"alice": "owner", "bob": "moderator", "carol": "member"}


async def test_system_messages_are_in_history_and_the_backlog_and_never_unread(live_server):
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    bob = await live_server.connect("bob", token)
    await live_server.user("carol")
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.close()

    await alice.ok("topic:invite", {"topic": "general", "username": "carol"})
    await alice.ok("topic:role", {"topic": "general", "username": "carol", "role": "moderator"})
    await alice.ok("topic:update", {"topic": "general", "description": "rules apply"})

    bob = await live_server.connect("bob", token)
    backlog = [await bob.next("message") for _ in range(2)]
    assert [m["system"]["action"] for m in backlog] == ["role", "update"]
    assert backlog[0]["body"] == "alice made carol a moderator"
    listed = {t["name"]: t for t in (await bob.ok("topic:list", {}))["topics"]}
    assert listed["general"]["unread"] == 0 and listed["general"]["description"] == "rules apply"


# What a page shows of moderation (issue 55, row 9): Parley's additions to section 10 --------------


async def test_the_member_list_says_who_is_muted_and_until_when(live_server):
    alice, bob = await owner_and_member(live_server, "quiet")
    await alice.ok("topic:mute", {"topic": "quiet", "username": "bob", "minutes": 30})

    listed = {m["username"]: m for m in (await alice.ok("topic:members", {"topic": "quiet"}))["members"]}
    until = datetime.fromisoformat(listed["bob"]["muted_until"])
    assert listed["bob"]["muted"] is True
    assert timedelta(minutes=29) < until - datetime.now(UTC) <= timedelta(minutes=30)
    assert (listed["alice"]["muted"], listed["alice"]["muted_until"]) == (False, None)
    await alice.ok("topic:unmute", {"topic": "quiet", "username": "bob"})
    listed = {m["username"]: m for m in (await bob.ok("topic:members", {"topic": "quiet"}))["members"]}
    assert (listed["bob"]["muted"], listed["bob"]["muted_until"]) == (False, None)


async def test_the_member_list_gives_read_marks_to_members_only(live_server):
    alice, bob = await owner_and_member(live_server, "marks")
    sent = await alice.ok("message:send", {"topic": "marks", "body": "read me"})
    await bob.ok("read", {"topic": "marks", "seq": sent["seq"]})
    carol = await live_server.user("carol")  # not a member: the list of a public topic, no marks

    listed = {m["username"]: m for m in (await alice.ok("topic:members", {"topic": "marks"}))["members"]}
    outside = (await carol.ok("topic:members", {"topic": "marks"}))["members"]

    assert listed["bob"]["read_seq"] == sent["seq"]
    assert {m["read_seq"] for m in outside} == {None}


async def test_the_ban_list_shows_bans_in_force_to_moderators_only(live_server):
    token = await live_server.register("alice")
    alice, bob = await live_server.connect("alice", token), await live_server.user("bob")
    await alice.ok("topic:create", {"name": "gate"})
    await bob.ok("topic:subscribe", {"topic": "gate"})
    carol = await live_server.user("carol")
    await carol.ok("topic:subscribe", {"topic": "gate"})
    await alice.ok("topic:ban", {"topic": "gate", "username": "bob", "minutes": 60, "reason": "spam"})
    await alice.ok("topic:ban", {"topic": "gate", "username": "carol"})

    bans = {b["username"]: b for b in (await alice.ok("topic:bans", {"topic": "gate"}))["bans"]}
    assert set(bans) == {"bob", "carol"}
    assert (bans["bob"]["by"], bans["bob"]["reason"]) == ("alice", "spam")
    assert timedelta(minutes=59) < datetime.fromisoformat(bans["bob"]["until"]) - datetime.now(UTC)
    assert bans["carol"]["until"] is None
    dave = await live_server.user("dave")
    await dave.ok("topic:subscribe", {"topic": "gate"})
    assert error_code(await dave.call("topic:bans", {"topic": "gate"})) == "forbidden"
    await alice.ok("topic:unban", {"topic": "gate", "username": "carol"})
    rest = await live_server.http.get("/api/topics/gate/bans", headers=bearer(token))
    assert rest.status_code == 200
    assert [b["username"] for b in rest.json()["bans"]] == ["bob"]


async def test_a_banned_member_is_told_until_when_and_a_kicked_one_is_not_told_a_ban(live_server):
    alice, bob = await owner_and_member(live_server, "door")
    await alice.ok("topic:ban", {"topic": "door", "username": "bob", "minutes": 15})
    banned = await bob.next("topic:removed")
    carol = await live_server.user("carol")
    await carol.ok("topic:subscribe", {"topic": "door"})
    await alice.ok("topic:kick", {"topic": "door", "username": "carol"})
    kicked = await carol.next("topic:removed")

    assert banned["banned"] is True
    assert timedelta(minutes=14) < datetime.fromisoformat(banned["until"]) - datetime.now(UTC)
    assert kicked == {"topic": "door", "reason": None}
