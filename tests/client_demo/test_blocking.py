"""Blocking and reports (PROTOCOL.md section 10) in the interactive client and as subcommands,
against a real server: ``/block``, ``/unblock``, ``/blocks``, ``/report`` and ``block``,
``unblock``, ``blocks``, ``report``; a blocked user's messages folded, live and in history."""

from __future__ import annotations

import json

from db.models import Report
from tests.client_demo.conftest import Spawn
from tests.client_demo.test_conversations import den_with_bob
from tests.client_demo.test_oneshot import demo_as
from tests.support import LiveServer, count, send

FOLDED = "[message from a blocked user]"


async def test_block_blocks_and_unblock(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    await alice.write("/blocks")
    await alice.expect("you block nobody")
    await alice.write("/block bob")
    await alice.expect("blocked bob")
    await alice.write("/blocks")
    await alice.expect("you block: bob")

    sent = await send(bob, {"topic": "den", "body": "buy cheap watches"})
    line = await alice.expect(f"(id {sent['id']})")
    assert line.endswith(f"[den #{sent['seq']}] {FOLDED}  (id {sent['id']})"), alice.transcript()
    assert "watches" not in line and "bob" not in line
    refused = await bob.call("message:send", {"to": "alice", "body": "hi"})
    error = refused["error"]
    assert (error["code"], error["message"]) == ("forbidden", "cannot message this user")
    await alice.write("/history 1")
    assert (await alice.expect(f"(id {sent['id']})")).endswith(f"{FOLDED}  (id {sent['id']})")

    await alice.write("/unblock bob")
    await alice.expect("unblocked bob")
    await send(bob, {"topic": "den", "body": "sorry"})
    await alice.expect("] bob: sorry")
    await alice.write("/blocks")
    await alice.expect("you block nobody")
    await alice.write("/block")
    await alice.expect("usage: /block USER", stream="err")


async def test_report(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    sent = await send(bob, {"topic": "den", "body": "buy cheap watches"})
    await alice.expect(f"(id {sent['id']})")
    await alice.write(f"/report {sent['id']} spam link")
    await alice.expect(f"reported message {sent['id']}")
    assert await count(live_server, Report) == 1
    await alice.write("/report 999999 spam")
    assert (await alice.expect("error:", stream="err")).startswith("error: not_found: ")
    await alice.write(f"/report {sent['id']}")
    await alice.expect("usage: /report ID REASON", stream="err")


async def test_block_unblock_and_blocks_subcommands(live_server: LiveServer) -> None:
    bob = await live_server.user("bob")
    await live_server.register("alice")
    await live_server.register("carol")
    for user in ("bob", "carol"):
        code, out, err = await demo_as(live_server, "alice", "block", user)
        assert (code, out) == (0, [f"blocked {user}"]), err
    refused = await bob.call("message:send", {"to": "alice", "body": "hi"})
    assert refused["error"]["message"] == "cannot message this user"

    code, out, err = await demo_as(live_server, "alice", "blocks")
    assert (code, sorted(out)) == (0, ["bob", "carol"]), err
    code, out, err = await demo_as(live_server, "alice", "unblock", "carol")
    assert (code, out) == (0, ["unblocked carol"]), err
    code, out, err = await demo_as(live_server, "alice", "blocks", "--json")
    assert (code, [json.loads(line) for line in out]) == (0, [{"users": ["bob"]}]), err
    code, _, err = await demo_as(live_server, "alice", "block", "nobody")
    assert (code, err[-1].split(": ")[1]) == (1, "not_found")


async def test_history_folds_a_blocked_users_messages(live_server: LiveServer) -> None:
    bob = await live_server.user("bob")
    alice = await live_server.connect("alice", await live_server.register("alice"))
    await alice.ok("topic:create", {"name": "den"})
    await bob.ok("topic:subscribe", {"topic": "den"})
    await alice.ok("user:block", {"username": "bob"})
    sent = await send(bob, {"topic": "den", "body": "buy cheap watches"})

    code, out, err = await demo_as(live_server, "alice", "history", "--topic", "den")
    assert code == 0, err
    assert out[-1].endswith(f"[den #{sent['seq']}] {FOLDED}  (id {sent['id']})")
    code, out, err = await demo_as(live_server, "alice", "history", "--topic", "den", "--json")
    assert code == 0, err
    assert json.loads(out[-1])["blocked"] is True  # --json prints the Message as the server sent it


async def test_report_subcommand(live_server: LiveServer) -> None:
    bob = await live_server.user("bob")
    await live_server.register("alice")
    await bob.ok("topic:create", {"name": "den"})
    sent = await send(bob, {"topic": "den", "body": "buy cheap watches"})
    code, out, err = await demo_as(live_server, "alice", "report", str(sent["id"]), "spam", "link")
    assert (code, out) == (0, [f"reported message {sent['id']}"]), err
    assert await count(live_server, Report) == 1
    code, _, err = await demo_as(live_server, "alice", "report", str(sent["id"]))
    assert code == 2
    assert "required: REASON" in err[-1]
