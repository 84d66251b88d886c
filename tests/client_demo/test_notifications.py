"""Notification settings in the interactive client (PROTOCOL.md section 15), against a real server:
/notify shows the preferences and each form of it changes one, as the server stores it."""

from __future__ import annotations

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Demo
from tests.support import PASSWORD, LiveServer

NO_MAIL = "email: not available (the server has no mail settings)"


async def shown(demo: Demo) -> list[str]:
    """The four lines a /notify answers with."""
    return [await demo.expect(key) for key in ("push:", "email:", "digest:", "quiet hours:")]


async def test_notify_shows_and_changes_the_preferences(live_server: LiveServer, spawn: Spawn) -> None:
    token = await live_server.register("alice")
    alice = await spawn("--token", token)
    await alice.expect("type /help")

    await alice.write("/notify")
    assert await shown(alice) == [
        "push: on",
        NO_MAIL,
        "digest: at most every 60 minutes",
        "quiet hours: none",
    ]

    await alice.write("/notify push off")
    assert (await shown(alice))[0] == "push: off"
    await alice.write("/notify digest 30")
    assert (await shown(alice))[2] == "digest: at most every 30 minutes"
    await alice.write("/notify quiet 22:30-07:00")
    assert (await shown(alice))[3] == "quiet hours: 22:30-07:00"

    stored = (
        await live_server.http.get(
            "/api/users/me/notifications", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert stored["push"] is False and stored["email_digest_minutes"] == 30
    assert stored["quiet_hours"] == {"from": "22:30", "to": "07:00"}

    await alice.write("/notify quiet off")
    assert (await shown(alice))[3] == "quiet hours: none"


async def test_a_bad_notify_line_says_how_and_a_refused_value_says_why(
    live_server: LiveServer, spawn: Spawn
) -> None:
    alice = await spawn("--token", await live_server.register("alice"))
    await alice.expect("type /help")

    await alice.write("/notify push maybe")
    assert "/notify all|mentions|none | [push|email on|off" in await alice.expect("usage", stream="err")
    await alice.write("/notify digest 5")
    assert "invalid" in await alice.expect("error", stream="err")
    await alice.write("/notify quiet 25:00-07:00")
    assert "invalid" in await alice.expect("error", stream="err")
    await alice.write("/notify")
    assert (await shown(alice))[2] == "digest: at most every 60 minutes"  # nothing changed


async def test_notify_with_a_level_still_sets_the_current_conversation(
    live_server: LiveServer, spawn: Spawn
) -> None:
    """The preferences took the /notify word over; the conversation's level keeps its form."""
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("connected to")
    await alice.write("/create den")
    await alice.expect("created den")
    await alice.write("/join den")
    await alice.expect("joined den")

    await alice.write("/notify mentions")
    await alice.expect("notify den: mentions")
    await alice.write("/notify")
    await alice.expect("push: ")
