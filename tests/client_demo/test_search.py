"""Search from the client demo (PROTOCOL.md section 9) against a real server: the ``search``
subcommand (lines, ``--json``, ``--limit`` and ``--cursor``, ``--topic``, colour) and the
interactive ``/search`` with ``/more``."""

from __future__ import annotations

import json
import re

from client_demo.searching import MARK_OFF, MARK_ON
from tests.client_demo.conftest import Spawn
from tests.client_demo.test_oneshot import demo_as
from tests.support import PASSWORD, Client, LiveServer, send

HIT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d \[(\S+) #(\d+)\] (\S+): (.*)  \(id (\d+)\)$")


async def deploy_talk(live_server: LiveServer) -> tuple[Client, list[dict[str, object]]]:
    """bob's public topic ``ops`` with three messages about deploying, one not; alice registered."""
    bob = await live_server.user("bob")
    await live_server.register("alice")
    await bob.ok("topic:create", {"name": "ops"})
    bodies = ["we deploy on friday", "lunch?", 'a <b> & "deploy" again', "deploy done"]
    return bob, [await send(bob, {"topic": "ops", "body": body}) for body in bodies]


async def test_search_prints_the_hits_newest_first(live_server: LiveServer) -> None:
    _, sent = await deploy_talk(live_server)
    code, out, err = await demo_as(live_server, "alice", "search", "deploy", "--color", "never")
    assert code == 0, err
    found = [HIT.match(line) for line in out]
    assert all(found), out
    # The highlight's marks are dropped and its entities unescaped off a terminal.
    rows = [(m[1], m[3], m[4], int(m[5])) for m in found if m]
    expected = [("ops", "bob", str(s["body"]), s["id"]) for s in reversed(sent) if "deploy" in str(s["body"])]
    assert rows == expected
    assert not any(line.startswith("next:") for line in err)

    code, out, err = await demo_as(live_server, "alice", "search", "deploy", "done", "--color", "always")
    assert code == 0, err
    assert len(out) == 1
    assert f"{MARK_ON}deploy{MARK_OFF} {MARK_ON}done{MARK_OFF}" in out[0]

    code, out, err = await demo_as(live_server, "alice", "search", "nothing-like-this")
    assert (code, out) == (0, [])

    code, out, err = await demo_as(live_server, "alice", "search", "--json", "--", "-friday", "deploy")
    assert code == 0, err
    assert [json.loads(line)["message"]["id"] for line in out] == [sent[3]["id"], sent[2]["id"]]


async def test_search_json_limit_and_cursor_page_without_repeats(live_server: LiveServer) -> None:
    _, sent = await deploy_talk(live_server)
    code, out, err = await demo_as(live_server, "alice", "search", "deploy", "--limit", "2", "--json")
    assert code == 0, err
    first = [json.loads(line) for line in out]
    assert [hit["message"]["id"] for hit in first] == [sent[3]["id"], sent[2]["id"]]
    assert "<mark>deploy</mark>" in first[0]["highlight"]
    assert "&lt;b&gt; &amp;" in first[1]["highlight"]  # as sent: HTML
    cursor = err[-1].removeprefix("next: --cursor ")
    assert err[-1].startswith("next: --cursor ") and cursor

    code, out, err = await demo_as(
        live_server, "alice", "search", "deploy", "--limit", "2", "--cursor", cursor, "--json"
    )
    assert code == 0, err
    assert [json.loads(line)["message"]["id"] for line in out] == [sent[0]["id"]]
    assert not any(line.startswith("next:") for line in err)


async def test_search_in_one_topic_and_refusals(live_server: LiveServer) -> None:
    bob, _ = await deploy_talk(live_server)
    await bob.ok("topic:create", {"name": "dev"})
    elsewhere = await send(bob, {"topic": "dev", "body": "deploy the docs"})
    code, out, err = await demo_as(live_server, "alice", "search", "deploy", "--topic", "dev", "--json")
    assert code == 0, err
    assert [json.loads(line)["message"]["id"] for line in out] == [elsewhere["id"]]

    await bob.ok("topic:create", {"name": "vault", "private": True})
    code, _, err = await demo_as(live_server, "alice", "search", "deploy", "--topic", "vault")
    assert code == 1
    assert err[-1].startswith("error: not_found: ")

    code, _, err = await demo_as(live_server, "alice", "search", "deploy", "--limit", "101")
    assert code == 2  # argparse: 1-100


async def test_interactive_search_and_more(live_server: LiveServer, spawn: Spawn) -> None:
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "ops"})
    sent = [await send(bob, {"topic": "ops", "body": f"release {n} &amp; <ok>"}) for n in range(1, 24)]
    alice = await spawn("--user", "alice", "--password-stdin", "--register", "--color", "never")
    await alice.write(PASSWORD)
    await alice.expect("type /help")

    await alice.write("/search release")
    await alice.expect("--- results 1-20 for release, newest first ---")
    newest = await alice.expect("[ops #")
    assert newest.endswith(f"bob: release 23 &amp; <ok>  (id {sent[-1]['id']})")
    await alice.expect("--- more: /more ---")
    await alice.write("/more")
    await alice.expect("--- results 21-23 for release, newest first ---")
    lines = [await alice.expect("[ops #") for _ in range(3)]
    assert [line.split("bob: ")[1].split(" &")[0] for line in lines] == [
        "release 3",
        "release 2",
        "release 1",
    ]
    await alice.expect("--- end of results ---")
    await alice.write("/more")
    await alice.expect("--- no more results for release ---")

    await alice.write("/search zebra")
    await alice.expect("--- no messages found for zebra ---")
    await alice.write("/search")
    await alice.expect("usage: /search QUERY", stream="err")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("Traceback" in line for line in alice.err)
