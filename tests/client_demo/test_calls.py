"""Calls (PROTOCOL.md section 18) in the interactive client, against a real server with bob as a
real client: the live view shows calls starting and ending, ``/call`` starts one (or joins the
one running) without media and ``/hangup`` leaves it."""

from __future__ import annotations

from client_demo import calls
from tests.client_demo.conftest import Spawn
from tests.client_demo.test_conversations import den_with_bob
from tests.support import LiveServer


async def test_a_call_heard_started_and_ended_and_one_made_and_left(
    live_server: LiveServer, spawn: Spawn
) -> None:
    alice, bob = await den_with_bob(live_server, spawn)

    started = await bob.ok("call:start", {"topic": "den", "media": "video"})
    assert (await bob.next("call:started"))["id"] == started["call"]["id"]  # the caller hears it too
    await alice.expect("* bob started a video call in den")
    await bob.ok("call:leave", {"call": started["call"]["id"]})
    await alice.expect("* the call in den ended after ")

    await alice.write("/call video")
    await alice.expect("in a video call in den, waiting for the others (no media here: /hangup to leave)")
    heard = await bob.next("call:started")
    assert (heard["started_by"], heard["media"], heard["participants"]) == ("alice", "video", ["alice"])
    joined = await bob.ok("call:join", {"call": heard["id"]})
    assert [peer["username"] for peer in joined["peers"]] == ["alice"]

    await alice.write("/hangup")
    await alice.expect("left the call in den")
    assert (await bob.next("call:left"))["username"] == "alice"
    await alice.write("/hangup")
    await alice.expect("you are in no call")
    await alice.write("/call hologram")
    await alice.expect("usage: /call [audio|video]", stream="err")


def test_durations_read_as_a_sentence_says_them() -> None:
    assert [calls.spoken(s) for s in (0, 40, 60, 125, 3600, 3780)] == [
        "0 s",
        "40 s",
        "1 min",
        "2 min 5 s",
        "1 h",
        "1 h 3 min",
    ]
    log = calls.CallLog()
    assert log.started_line({"id": 7, "with": "bob", "media": "audio", "started_by": "bob"}) == (
        "* bob started an audio call in @bob"
    )
    assert log.ended_line({"call": 7, "duration_s": 125}) == "* the call in @bob ended after 2 min 5 s"
    assert log.ended_line({"call": 8, "duration_s": 3}) == "* the call ended after 3 s"
