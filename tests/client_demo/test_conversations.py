"""Replies, threads, reactions, pins, notify levels and mentions (PROTOCOL.md section 8) in the
interactive client and in ``listen``, against a real server, with other users as real clients."""

from __future__ import annotations

import json
from typing import Any

from client_demo.mentions import HIGHLIGHT, RESET
from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Demo, demo_env
from tests.support import PASSWORD, Client, LiveServer, send


async def den_with_bob(live_server: LiveServer, spawn: Spawn, *args: str) -> tuple[Demo, Client]:
    """alice's interactive client in her topic ``den``; bob (a plain client) subscribed to it.
    Both are members of the workspace: olive, the first account, owns it (PROTOCOL.md section
    19: its owners act as admins in every public topic)."""
    await live_server.register("olive")
    token = await live_server.register("alice")
    alice = await spawn(*args, env=demo_env(PARLEY_TOKEN=token))
    await alice.expect("type /help")
    await alice.write("/create den")
    await alice.expect("created den (public)")
    await alice.write("/join den")
    await alice.expect("joined den")
    bob = await live_server.user("bob")
    await bob.ok("topic:subscribe", {"topic": "den"})
    return alice, bob


def shown_id(line: str) -> int:
    """The id at the end of a message line (``... (id 12)``)."""
    return int(line.rsplit("(id ", 1)[1].rstrip(")"))


async def test_reply_quotes_the_message(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    asked = await send(bob, {"topic": "den", "body": "shall we meet at 5?"})
    await alice.expect(f"bob: shall we meet at 5?  (id {asked['id']})")

    await alice.write(f"/reply {asked['id']} yes, agreed")
    await alice.expect("[den #2] alice: yes, agreed  (id ")
    assert await alice.expect("> ") == "    > bob: shall we meet at 5?"
    answer = await bob.next("message")
    while answer["sender"] != "alice":  # bob's copy of his own question first
        answer = await bob.next("message")
    assert answer["reply_to"] == {"id": asked["id"], "sender": "bob", "excerpt": "shall we meet at 5?"}

    # bob answers alice's answer: she sees his quote of hers.
    await send(bob, {"topic": "den", "body": "see you", "reply_to": answer["id"]})
    await alice.expect("[den #3] bob: see you")
    assert await alice.expect("> ") == "    > alice: yes, agreed"
    await alice.write("/reply 999999 nobody")
    assert (await alice.expect("error:", stream="err")).startswith("error: not_found: ")


async def test_thread_replies_and_threadlog(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    root = await send(bob, {"topic": "den", "body": "release plan"})
    await alice.expect(f"bob: release plan  (id {root['id']})")

    await alice.write(f"/thread {root['id']} I take the notes")
    await alice.expect_all(
        f"[den #2] [thread #{root['id']}] alice: I take the notes",
        f"* thread #{root['id']} in den: 1 reply (alice), last ",
    )
    await send(bob, {"topic": "den", "body": "thanks", "thread": root["id"]})
    await alice.expect_all(
        f"[den #3] [thread #{root['id']}] bob: thanks",
        f"* thread #{root['id']} in den: 2 replies (bob, alice), last ",
    )
    updated = await bob.next("thread:updated")
    assert (updated["topic"], updated["root"], updated["thread_summary"]["count"]) == ("den", root["id"], 1)

    await alice.write(f"/threadlog {root['id']}")
    await alice.expect(f"--- thread #{root['id']}: 2 replies ---")
    assert "alice: I take the notes" in await alice.expect(f"[thread #{root['id']}]")
    assert "bob: thanks" in await alice.expect(f"[thread #{root['id']}]")
    await alice.write("/history 3")  # the root now carries its summary
    line = await alice.expect("bob: release plan")
    assert "[thread: 2 replies, last " in line and line.endswith(f"(id {root['id']})")

    reply = await alice.expect("[den #2]")  # /history 3 shows the replies again
    await alice.write(f"/thread {shown_id(reply)} a thread in a thread")
    assert (await alice.expect("error:", stream="err")).startswith("error: invalid: ")


async def test_react_and_unreact(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    sent = await send(bob, {"topic": "den", "body": "we shipped"})
    await alice.expect(f"bob: we shipped  (id {sent['id']})")

    await alice.write(f"/react {sent['id']} 👍")
    await alice.expect(f"reacted 👍 on message {sent['id']}: [👍 1*]")
    seen_by_bob = await bob.next("reaction:updated")
    assert seen_by_bob["id"] == sent["id"]
    assert [(r["emoji"], r["count"], r["users"], r["me"]) for r in seen_by_bob["reactions"]] == [
        ("👍", 1, ["alice"], False)
    ]

    await bob.ok("reaction:add", {"id": sent["id"], "emoji": ":tada:"})
    await alice.expect(f"* reactions on message {sent['id']} in den: [👍 1*] [:tada: 1]")
    await alice.write(f"/unreact {sent['id']} 👍")
    await alice.expect(f"removed 👍 from message {sent['id']}: [:tada: 1]")
    await alice.write(f"/react {sent['id']} two words")
    await alice.expect("usage: /react ID EMOJI", stream="err")

    await alice.write("/history 1")
    assert (await alice.expect("bob: we shipped")).endswith(f"we shipped  [:tada: 1]  (id {sent['id']})")


async def test_pin_pins_and_unpin(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn)
    sent = await send(bob, {"topic": "den", "body": "the wiki is at /wiki"})
    await alice.expect(f"(id {sent['id']})")

    await alice.write(f"/pin {sent['id']}")
    _, system = await alice.expect_all(
        f"pinned message {sent['id']} in den (1 pin)",
        "] * alice pinned",  # the system message, a message of the topic
    )
    assert system.endswith(f"(message {sent['id']})")
    pins = await bob.next("pins:updated")
    assert (pins["topic"], [p["id"] for p in pins["pins"]]) == ("den", [sent["id"]])

    await alice.write("/pins")
    await alice.expect("--- pins of den: 1 message ---")
    assert (await alice.expect("bob: the wiki")).endswith(f"(pinned)  (id {sent['id']})")

    await bob.ok("topic:create", {"name": "bobs"})
    bob_note = await send(bob, {"topic": "bobs", "body": "mine"})
    await bob.ok("message:pin", {"id": bob_note["id"]})
    await alice.write("/pins bobs")  # public: readable without joining
    await alice.expect("--- pins of bobs: 1 message ---")
    await alice.write(f"/pin {bob_note['id']}")  # not an owner, admin or moderator there
    assert (await alice.expect("error:", stream="err")).startswith("error: forbidden: ")

    await alice.write(f"/unpin {sent['id']}")
    await alice.expect_all(f"unpinned message {sent['id']} in den (0 pins)", "] * alice unpinned")


async def test_notify_and_the_mentions_count(live_server: LiveServer, spawn: Spawn) -> None:
    alice, bob = await den_with_bob(live_server, spawn, "--color", "always")
    await send(bob, {"topic": "den", "body": "@alice look at this, @carol"})
    line = await alice.expect("bob: ")
    assert f"{HIGHLIGHT}@alice{RESET} look at this, @carol" in line  # carol is no member

    await alice.write("/notify mentions")
    await alice.expect("notify den: mentions")
    await alice.write("/topics")
    assert "1 unread, 1 mention, notify mentions, subscribed" in await alice.expect("den ")
    await alice.write("/notify loud")
    await alice.expect("usage: /notify all|mentions|none", stream="err")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()


async def test_listen_shows_reactions_threads_and_pins(live_server: LiveServer, spawn: Spawn) -> None:
    alice, carol, root = await plaza(live_server)
    listener = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "plaza")
    await listener.write(PASSWORD)
    await listener.expect("listening on plaza", stream="err")

    await carol.ok("reaction:add", {"id": root["id"], "emoji": "🍕"})
    await alice.ok("message:pin", {"id": root["id"]})
    await send(carol, {"topic": "plaza", "body": "yes", "thread": root["id"]})
    _, _, pinned, _, _ = await listener.expect_all(
        f"* reactions on message {root['id']} in plaza: [🍕 1]",
        f"* pins in plaza: 1 (ids {root['id']})",
        "] * alice pinned",
        f"[plaza #3] [thread #{root['id']}] carol: yes",
        f"* thread #{root['id']} in plaza: 1 reply (carol), last ",
    )
    assert pinned.endswith(f"(message {root['id']})")


async def test_listen_json_shows_changes_as_events(live_server: LiveServer, spawn: Spawn) -> None:
    alice, carol, root = await plaza(live_server)
    listener = await spawn("--user", "bob", "--password-stdin", "listen", "--topic", "plaza", "--json")
    await listener.write(PASSWORD)
    await listener.expect("listening on plaza", stream="err")

    await carol.ok("reaction:add", {"id": root["id"], "emoji": "🍕"})
    await alice.ok("message:pin", {"id": root["id"]})
    await send(carol, {"topic": "plaza", "body": "yes", "thread": root["id"]})
    lines = await listener.expect_all(
        '"event":"reaction:updated"',
        '"event":"pins:updated"',
        '"event":"thread:updated"',
        '"seq":2',
        '"seq":3',
    )
    reaction, pins, thread, system, reply = [json.loads(line) for line in lines]
    assert reaction["data"]["id"] == root["id"]
    assert [(r["emoji"], r["users"], r["me"]) for r in reaction["data"]["reactions"]] == [
        ("🍕", ["carol"], False)
    ]
    assert [p["id"] for p in pins["data"]["pins"]] == [root["id"]]
    assert (thread["data"]["root"], thread["data"]["thread_summary"]["participants"]) == (
        root["id"],
        ["carol"],
    )
    assert (system["type"], system["system"]["action"], system["system"]["id"]) == (
        "system",
        "pin",
        root["id"],
    )
    assert (reply["thread"], reply["body"]) == (root["id"], "yes")


async def plaza(live_server: LiveServer) -> tuple[Client, Client, dict[str, Any]]:
    """alice's public topic ``plaza`` with one message; carol subscribed; bob registered."""
    alice = await live_server.user("alice")
    carol = await live_server.user("carol")
    await live_server.register("bob")
    await alice.ok("topic:create", {"name": "plaza"})
    await carol.ok("topic:subscribe", {"topic": "plaza"})
    return alice, carol, await send(alice, {"topic": "plaza", "body": "lunch?"})


async def test_a_direct_conversation(live_server: LiveServer, spawn: Spawn) -> None:
    token = await live_server.register("alice")
    bob = await live_server.user("bob")
    alice = await spawn(env=demo_env(PARLEY_TOKEN=token))
    await alice.expect("type /help")
    psst = await send(bob, {"to": "alice", "body": "psst"})
    await alice.expect(f"[@bob #1] bob: psst  (id {psst['id']})")

    # No /join needed: the reply goes where the message was shown.
    await alice.write(f"/reply {psst['id']} what?")
    await alice.expect("[@bob #2] alice: what?")
    assert await alice.expect("> ") == "    > bob: psst"
    await alice.write(f"/pin {psst['id']}")  # both users of a direct conversation may pin
    await alice.expect(f"pinned message {psst['id']} in @bob (1 pin)")
    await alice.write("/join @bob")
    await alice.expect("talking with @bob")
    await alice.write("/pins")  # topic:pins {"with": "bob"}
    await alice.expect("--- pins of @bob: 1 message ---")
    assert (await alice.expect("bob: psst")).endswith(f"(pinned)  (id {psst['id']})")
    await alice.write("/notify none")  # topic:notify {"with": "bob", ...}
    await alice.expect("notify @bob: none")
    listed = {t["name"]: t["notify"] for t in (await bob.ok("topic:list"))["topics"]}
    assert listed["@alice"] == "all"  # alice's level is hers
    await alice.write("/pins @carol")
    assert (await alice.expect("error:", stream="err")).startswith("error: not_found: ")
