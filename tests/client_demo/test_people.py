"""People in the interactive client (PROTOCOL.md section 14), against a real server: /profile,
/status, /away, /dnd, /auto, /who, display names next to senders, and what the others see live."""

from __future__ import annotations

from typing import Any

from client_demo import people, render
from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Demo
from tests.support import LiveServer


async def pair(live_server: LiveServer, spawn: Spawn) -> tuple[Demo, Demo]:
    """alice and bob in the REPL, sharing a direct conversation (each sees the other's presence)."""
    alice = await spawn("--token", await live_server.register("alice"))
    bob = await spawn("--token", await live_server.register("bob"))
    await alice.expect("type /help")
    await bob.expect("type /help")
    await alice.write("/msg bob hi")
    await alice.expect("[@bob #1] alice: hi")
    await bob.expect("[@alice #1] alice: hi")  # no display name: the line as it always was
    return alice, bob


async def test_a_profile_and_status_reach_the_other_user_and_the_directory(
    live_server: LiveServer, spawn: Spawn
) -> None:
    alice, bob = await pair(live_server, spawn)

    await alice.write("/profile name Alice Liddell")
    await alice.expect("your display name is now Alice Liddell")
    await bob.expect('* alice is now "Alice Liddell"')
    await alice.write("/profile title Engineer")
    await alice.expect("your title is now Engineer")
    await bob.expect("* alice — title: Engineer")
    await alice.write("/profile tz Europe/Paris")
    await alice.expect("your time zone is now Europe/Paris")
    await bob.expect("* alice — time zone: Europe/Paris")
    await alice.write("/status On leave for 30")
    assert (await alice.expect("status: ")).startswith("status: On leave (until ")
    assert (await bob.expect("* alice —")).startswith("* alice — status: On leave (until ")

    await bob.write("/who alice")
    line = await bob.expect("(@alice)")
    assert line.startswith("Alice Liddell (@alice) — online — On leave (until "), line
    await bob.write("/who lidd")  # a word of the display name
    assert (await bob.expect("(@alice)")).startswith("Alice Liddell (@alice) — online — On leave")
    await bob.write("/profile alice")
    await bob.expect("Alice Liddell (@alice)")
    assert await bob.expect("title:") == f"{render.INDENT}title: Engineer"
    assert await bob.expect("time zone:") == f"{render.INDENT}time zone: Europe/Paris"
    assert (await bob.expect("status:")).startswith(f"{render.INDENT}status: On leave (until ")
    assert await bob.expect("availability:") == f"{render.INDENT}availability: online"

    # Names next to usernames: live, in history, and our own lines.
    await alice.write("/msg bob back soon")
    await alice.expect("[@bob #2] Alice Liddell (@alice): back soon")
    await bob.expect("[@alice #2] Alice Liddell (@alice): back soon")
    await bob.write("/join @alice")
    await bob.expect("[@alice #1] Alice Liddell (@alice): hi")
    await bob.write("answer")
    await bob.expect("[@alice #3] bob: answer")  # bob has no display name
    await alice.expect("[@bob #3] bob: answer")

    await alice.write("/status clear")
    await alice.expect("status cleared")
    await bob.expect("* alice — status cleared")
    await alice.write("/profile")
    await alice.expect("Alice Liddell (@alice)")
    assert await alice.expect("availability:") == f"{render.INDENT}availability: online"
    assert not any("status:" in line for line in alice.out[-6:])


async def test_availability_shows_in_presence_and_the_directory(
    live_server: LiveServer, spawn: Spawn
) -> None:
    alice, bob = await pair(live_server, spawn)

    await bob.write("/dnd")
    await bob.expect("availability: dnd")
    assert await alice.expect("* bob is ") == "* bob is online (dnd)"
    await alice.write("/who bob")
    assert await alice.expect("@bob") == "@bob — dnd"

    await bob.write("/away")
    await bob.expect("availability: away")
    assert await alice.expect("* bob is ") == "* bob is online (away)"
    await bob.write("/auto")
    await bob.expect("availability: online (automatic)")
    assert await alice.expect("* bob is ") == "* bob is online"
    await alice.write("/who bo")
    assert await alice.expect("@bob") == "@bob — online"


async def test_refusals_and_mistakes_are_said_in_words(live_server: LiveServer, spawn: Spawn) -> None:
    alice, _ = await pair(live_server, spawn)

    await alice.write("/profile tz Mars/Olympus")
    assert (await alice.expect("error:", stream="err")).startswith("error: invalid: ")
    await alice.write("/profile name " + "x" * 65)
    assert (await alice.expect("error:", stream="err")).startswith("error: invalid: ")
    await alice.write("/profile nobody")
    assert (await alice.expect("error:", stream="err")).startswith("error: not_found: ")
    await alice.write("/who")
    await alice.expect("usage: /who QUERY", stream="err")
    await alice.write("/status")
    await alice.expect("usage: /status TEXT [for MINUTES] | /status clear", stream="err")
    await alice.write("/who zzzz")
    await alice.expect("nobody matches zzzz")
    await alice.write("/profile")  # nothing was stored
    await alice.expect("@alice")
    assert await alice.expect("availability:") == f"{render.INDENT}availability: online"
    await alice.write("/help")
    await alice.expect("/who QUERY")
    await alice.write("/quit")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("Traceback" in line for line in alice.err)


def profile(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "username": "alice",
        "display_name": "",
        "avatar": None,
        "title": "",
        "timezone": "",
        "status": None,
        "availability": None,
        "last_seen": None,
        "bot": False,
        "created_at": "2026-11-25T10:00:00Z",
        "online": None,
    }
    base.update(fields)
    return base


def test_server_strings_cannot_drive_the_terminal() -> None:
    evil = profile(
        username="al\x1bice",
        display_name="A\x1b[2J\u202e",
        status={"emoji": "\x07", "text": "x\x1b]8;;http://e\x07y", "expires_at": None},
        title="t\x9b",
    )
    for line in [people.who_line(evil), *people.profile_lines(evil), people.updated_line("a\x1b", ["x"])]:
        assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line and "\x9b" not in line
    said = people.changes(None, evil)
    assert said[0] == 'is now "A\\x1b[2J\\u202e"'
    look = render.Look(names={"alice": "Alice\nLiddell\x1b"})
    assert render.sender_name("alice", look) == "Alice Liddell\\x1b (@alice)"
    assert render.sender_name("bob", look) == "bob"


def test_changes_say_only_what_can_be_told() -> None:
    before = profile(display_name="Alice", status={"emoji": "🌴", "text": "On leave", "expires_at": None})
    assert people.changes(before, before) == []
    assert people.changes(before, profile(display_name="Alice")) == ["status cleared"]
    assert people.updated_line("alice", ["status cleared"]) == "* alice — status cleared"
    after = profile(display_name="", availability="dnd")
    assert people.changes(profile(display_name="Alice"), after) == ["has no display name now"]
    assert people.who_line(before) == "Alice (@alice) — unknown — 🌴 On leave"
    assert people.who_line(profile(bot=True, availability="online")) == "@alice [bot] — online"
