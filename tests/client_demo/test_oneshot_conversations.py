"""The subcommands of PROTOCOL.md section 8 (``send --reply-to/--thread``, ``threadlog``,
``react``/``unreact``, ``pin``/``unpin``, ``pins``, ``notify``) against a real server."""

from __future__ import annotations

import json
from typing import Any

from tests.client_demo.test_oneshot import SENT, demo_as
from tests.support import Client, LiveServer, send


async def den(live_server: LiveServer) -> tuple[Client, dict[str, Any]]:
    """bob's public topic ``den`` with one message of his; alice registered (not a member)."""
    bob = await live_server.user("bob")
    await live_server.register("alice")
    await bob.ok("topic:create", {"name": "den"})
    return bob, await send(bob, {"topic": "den", "body": "shall we meet at 5?"})


async def test_send_reply_to(live_server: LiveServer) -> None:
    _, asked = await den(live_server)
    code, out, err = await demo_as(
        live_server, "alice", "send", "--topic", "den", "--reply-to", str(asked["id"]), "--json", "yes"
    )
    assert code == 0, err
    reply = json.loads(out[0])
    assert reply["reply_to"] == {"id": asked["id"], "sender": "bob", "excerpt": "shall we meet at 5?"}
    assert (reply["body"], reply["thread"]) == ("yes", None)

    code, out, _ = await demo_as(live_server, "alice", "history", "--topic", "den", "--limit", "1")
    assert code == 0
    assert out[0].endswith(f"alice: yes  (id {reply['id']})")
    assert out[1] == "    > bob: shall we meet at 5?"

    code, _, err = await demo_as(live_server, "alice", "send", "--topic", "den", "--reply-to", "999999", "x")
    assert (code, err[-1].split(":")[0:2]) == (1, ["error", " not_found"])


async def test_send_thread_and_threadlog(live_server: LiveServer) -> None:
    bob, root = await den(live_server)
    for body in ("first", "second"):
        code, out, err = await demo_as(
            live_server, "alice", "send", "--topic", "den", "--thread", str(root["id"]), body
        )
        assert code == 0, err
        assert SENT.match(out[0]), out
    await send(bob, {"topic": "den", "body": "third", "thread": root["id"]})

    code, out, err = await demo_as(live_server, "alice", "threadlog", str(root["id"]), "--limit", "2")
    assert code == 0, err
    assert [line.split("] ", 2)[2].split("  (id")[0] for line in out] == ["alice: second", "bob: third"]
    assert all(f"[thread #{root['id']}]" in line for line in out)

    code, out, err = await demo_as(live_server, "alice", "threadlog", str(root["id"]), "--json")
    assert code == 0, err
    replies = [json.loads(line) for line in out]
    assert [(m["body"], m["thread"]) for m in replies] == [
        (b, root["id"]) for b in ("first", "second", "third")
    ]

    reply = replies[0]["id"]  # a reply is no root
    code, _, err = await demo_as(live_server, "alice", "send", "--topic", "den", "--thread", str(reply), "x")
    assert (code, err[-1].split(":")[0:2]) == (1, ["error", " invalid"])


async def test_react_and_unreact(live_server: LiveServer) -> None:
    bob, sent = await den(live_server)
    await bob.ok("reaction:add", {"id": sent["id"], "emoji": ":tada:"})
    await demo_as(live_server, "alice", "send", "--topic", "den", "joining")  # reacting needs membership

    code, out, err = await demo_as(live_server, "alice", "react", str(sent["id"]), "👍")
    assert code == 0, err
    assert out == [f"reactions on message {sent['id']}: [:tada: 1] [👍 1*]"]
    code, out, err = await demo_as(live_server, "alice", "react", str(sent["id"]), ":tada:", "--json")
    assert code == 0, err
    data = json.loads(out[0])
    assert data["id"] == sent["id"]
    assert [(r["emoji"], r["count"], r["users"], r["me"]) for r in data["reactions"]] == [
        (":tada:", 2, ["bob", "alice"], True),
        ("👍", 1, ["alice"], True),
    ]

    code, out, err = await demo_as(live_server, "alice", "unreact", str(sent["id"]), ":tada:")
    assert (code, out) == (0, [f"reactions on message {sent['id']}: [:tada: 1] [👍 1*]"]), err
    # bob saw each change: his own :tada:, alice's 👍, her :tada:, her taking it back.
    seen = [await bob.next("reaction:updated") for _ in range(4)][-1]
    assert seen["reactions"][0] == {"emoji": ":tada:", "count": 1, "users": ["bob"], "me": True}

    code, _, err = await demo_as(live_server, "alice", "react", str(sent["id"]), "a b")
    assert (code, err[-1].split(":")[0:2]) == (1, ["error", " invalid"])


async def test_pin_unpin_and_pins(live_server: LiveServer) -> None:
    bob, sent = await den(live_server)
    later = await send(bob, {"topic": "den", "body": "the wiki is at /wiki"})

    await bob.ok("topic:invite", {"topic": "den", "username": "alice"})
    code, _, err = await demo_as(live_server, "alice", "pin", str(sent["id"]))  # a member, not an owner
    assert (code, err[-1].split(":")[0:2]) == (1, ["error", " forbidden"])
    await bob.ok("message:pin", {"id": sent["id"]})
    await bob.ok("message:pin", {"id": later["id"]})

    code, out, err = await demo_as(live_server, "alice", "pins", "den")
    assert code == 0, err
    assert [line.rsplit("(id ", 1)[1] for line in out] == [f"{later['id']})", f"{sent['id']})"]
    assert all("(pinned)" in line for line in out)

    code, out, err = await demo_as(live_server, "bob", "unpin", str(later["id"]))
    assert (code, out) == (0, [f"unpinned message {later['id']} in den (1 pin)"]), err
    code, out, err = await demo_as(live_server, "bob", "pin", str(later["id"]), "--json")
    assert code == 0, err
    data = json.loads(out[0])
    assert (data["topic"], [p["id"] for p in data["pins"]]) == ("den", [later["id"], sent["id"]])
    code, out, err = await demo_as(live_server, "alice", "pins", "den", "--json")
    assert [json.loads(line)["id"] for line in out] == [later["id"], sent["id"]], err


async def test_notify(live_server: LiveServer) -> None:
    bob, _ = await den(live_server)
    await bob.ok("topic:invite", {"topic": "den", "username": "alice"})
    await send(bob, {"topic": "den", "body": "@alice and @all: lunch"})

    code, out, err = await demo_as(live_server, "alice", "notify", "den", "mentions")
    assert (code, out) == (0, ["notify den: mentions"]), err
    code, out, err = await demo_as(live_server, "alice", "notify", "den", "none", "--json")
    assert code == 0, err
    topic = json.loads(out[0])
    assert (topic["name"], topic["notify"], topic["mentions"]) == ("den", "none", 1)
    code, out, err = await demo_as(live_server, "alice", "topics")
    assert code == 0, err
    [listed] = [line for line in out if line.startswith("den ")]
    assert listed.endswith(" unread, 1 mention, notify none, subscribed")

    code, _, err = await demo_as(live_server, "alice", "notify", "den", "loud")
    assert code == 2
    assert "invalid choice: 'loud'" in err[-1]


async def test_pins_and_notify_of_a_direct_conversation(live_server: LiveServer) -> None:
    bob = await live_server.user("bob")
    await live_server.register("alice")
    psst = await send(bob, {"to": "alice", "body": "psst"})
    await bob.ok("message:pin", {"id": psst["id"]})

    code, out, err = await demo_as(live_server, "alice", "pins", "@bob")
    assert code == 0, err
    assert [line.split("] ", 1)[1] for line in out] == [f"bob: psst (pinned)  (id {psst['id']})"]
    code, out, err = await demo_as(live_server, "alice", "notify", "@bob", "mentions")
    assert (code, out) == (0, ["notify @bob: mentions"]), err
    code, out, err = await demo_as(live_server, "alice", "topics", "--json")
    listed = [(t["name"], t["notify"]) for t in map(json.loads, out)]
    assert ("@bob", "mentions") in listed, err
    code, _, err = await demo_as(live_server, "alice", "pins", "@nobody")
    assert (code, err[-1].split(":")[0:2]) == (1, ["error", " not_found"])
