"""Link previews in the demo against a real server that makes them (PROTOCOL.md section 13).

The server fetches the pages from a real local site (tests/preview_site.py) after the send is
acknowledged: the demo shows them on ``message:previews`` (interactive and ``listen --json``),
under a message of the backlog or history that already has them, and ``/unpreview`` removes them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Demo, demo_env
from tests.preview_site import Site, serving
from tests.support import Client, LiveServer
from tests.support import test_settings as settings_for

ARROW = "\u21b3"


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with serving() as found:
        yield found


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Previews on, the local site let through the guard (as tests/chat/previews/ does)."""
    return settings_for(tmp_path / "data", previews=True, preview_allow_hosts=["127.0.0.1"])


def preview_line(site: Site, path: str) -> str:
    """The line the demo draws for one of the site's Open Graph pages (without its indent)."""
    return f"{ARROW} preview: Release notes {path} \u2014 Example Notes ({site.at(path)})"


async def start(spawn: Spawn, live_server: LiveServer, name: str) -> Demo:
    demo = await spawn(env=demo_env(PARLEY_TOKEN=await live_server.register(name)))
    await demo.expect("connected to")
    return demo


def shown_id(line: str) -> int:
    """The id at the end of a message line: ``... (id 12)``."""
    return int(line.rsplit("(id ", 1)[1].rstrip(")"))


async def next_previews(client: Client, message_id: int) -> list[dict[str, object]]:
    """The next ``message:previews`` of ``message_id`` a socket client gets (others are skipped)."""
    while True:
        event = await client.next("message:previews")
        if event["id"] == message_id:
            previews: list[dict[str, object]] = event["previews"]
            return previews


async def test_previews_arrive_live_and_the_sender_removes_them(
    live_server: LiveServer, spawn: Spawn, site: Site
) -> None:
    bob = await start(spawn, live_server, "bob")
    await bob.write("/create links")
    await bob.expect("created links (public)")
    await bob.write("/join links")
    await bob.expect("joined links")
    alice = await start(spawn, live_server, "alice")
    await alice.write("/join links")
    await alice.expect("joined links")

    url = site.at("/og-anything")
    await bob.write(f"notes at {url}")
    ident = shown_id(await bob.expect("bob: notes at"))
    assert shown_id(await alice.expect("bob: notes at")) == ident

    # Alice's demo draws the previews the server made after the ack, under a head line.
    await alice.expect(f"* previews of message {ident} in links:")
    line = await alice.expect(f"{ARROW} preview:")
    assert line.strip() == preview_line(site, "/og-anything"), alice.transcript()
    assert (await alice.expect("Notes & plans")).strip() == "Notes & plans for the release"
    await bob.expect(f"* previews of message {ident} in links:")
    assert site.hits["/og-anything"] == 1

    # /history renders the stored previews under the message too.
    await alice.write("/history")
    await alice.expect("--- history of links: 1 message ---")
    assert shown_id(await alice.expect("bob: notes at")) == ident
    assert (await alice.expect(f"{ARROW} preview:")).strip() == preview_line(site, "/og-anything")

    # Not alice's message: the server says exactly why.
    await alice.write(f"/unpreview {ident}")
    refusal = await alice.expect("error:", stream="err")
    assert refusal.startswith("error: forbidden: "), alice.transcript()

    # The sender removes them: one line for bob (the echo is not shown again), one for alice.
    await bob.write(f"/unpreview {ident}")
    await bob.expect(f"removed the previews of message {ident}")
    await alice.expect(f"* previews of message {ident} in links removed")
    # A message alice sends after seeing the removal reaches bob after the removal's echo.
    await alice.write("seen")
    await bob.expect("alice: seen")
    removals = [line for line in bob.out if f"previews of message {ident}" in line and "removed" in line]
    assert removals == [f"removed the previews of message {ident}"], bob.transcript()

    await alice.write("/history")
    await alice.expect("--- history of links: 2 messages ---")
    await alice.expect("alice: seen")
    after = alice.out[alice.out.index("--- history of links: 2 messages ---") :]
    assert not any(f"{ARROW} preview:" in line for line in after), alice.transcript()

    for demo in (alice, bob):
        await demo.write("/quit")
        assert await demo.wait() == 0, demo.transcript()
        assert not any("Traceback" in line for line in demo.err), demo.transcript()


async def test_a_backlog_message_shows_the_previews_it_already_has(
    live_server: LiveServer, spawn: Spawn, site: Site
) -> None:
    token = await live_server.register("alice")
    bob = await live_server.user("bob")
    url = site.at("/og-anything")
    sent = await bob.ok("message:send", {"to": "alice", "body": f"while you were out: {url}"})
    made = await next_previews(bob, sent["id"])  # made before alice connects
    assert [p["url"] for p in made] == [url]

    alice = await spawn("--token", token)
    await alice.expect("connected to")
    line = await alice.expect("bob: while you were out")
    assert shown_id(line) == sent["id"]
    # The preview line comes right under its message, with no previews event to announce it.
    below = alice.out[alice.out.index(line) + 1]
    assert below.strip() == preview_line(site, "/og-anything"), alice.transcript()
    assert not any("* previews of message" in line for line in alice.out), alice.transcript()
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()


async def test_listen_json_prints_the_previews_event(
    live_server: LiveServer, spawn: Spawn, site: Site
) -> None:
    token = await live_server.register("alice")
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "links"})
    listener = await spawn("--token", token, "listen", "--topic", "links", "--count", "2", "--json")
    await listener.expect("listening on links", stream="err")

    url = site.at("/og-anything")
    sent = await bob.ok("message:send", {"topic": "links", "body": f"see {url}"})
    await listener.expect('"body":"see ')
    event = json.loads(await listener.expect('"event":"message:previews"'))
    assert event["data"]["id"] == sent["id"] and event["data"]["topic"] == "links"
    (preview,) = event["data"]["previews"]
    assert (preview["url"], preview["title"], preview["site_name"]) == (
        url,
        "Release notes /og-anything",
        "Example Notes",
    )
    await bob.ok("message:send", {"topic": "links", "body": "done"})  # the second message ends it
    assert await listener.wait() == 0, listener.transcript()
    printed = [json.loads(line) for line in listener.out]
    assert [p.get("event", "message") for p in printed] == ["message", "message:previews", "message"]
