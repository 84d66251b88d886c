"""``parley reports [--json]`` (PROTOCOL.md section 10): the reported messages, newest first, with
the message's topic, sender, excerpt and a link; reports made by real clients of a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import Place, parley, place_in
from tests.support import bearer, running, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


async def test_reports_lists_the_newest_first_as_a_table_and_as_json(place: Place) -> None:
    async with running(settings_for(place.data_dir)) as server:
        alice = await server.user("alice")
        bob_token = await server.register("bob")
        bob = await server.connect("bob", bob_token)
        await alice.ok("topic:create", {"name": "general"})
        rude = await send(alice, {"topic": "general", "body": "a rude remark " + "x" * 120})
        direct = await send(alice, {"to": "bob", "body": "psst"})
        await bob.ok("message:report", {"id": rude["id"], "reason": "insulting"})
        reported = await server.http.post(
            f"/api/messages/{direct['id']}/report", json={"reason": "spam\nagain"}, headers=bearer(bob_token)
        )
        assert reported.status_code == 200
        page = await server.http.get(
            f"/api/topics/general/messages?before_seq={rude['seq'] + 1}&limit=1", headers=bearer(bob_token)
        )
        assert [m["id"] for m in page.json()["messages"]] == [rude["id"]]  # what the link gives

    result = await parley(place, "reports", "--json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)["reports"]
    assert [r["reason"] for r in listed] == ["spam\nagain", "insulting"]
    newest, oldest = listed
    assert newest["reporter"] == "bob" and newest["message"] == {
        "id": direct["id"],
        "topic": "@alice/@bob",
        "kind": "direct",
        "seq": 1,
        "sender": "alice",
        "excerpt": "psst",
        "deleted": False,
        "link": "/api/conversations/alice/messages?before_seq=2&limit=1",
    }
    assert oldest["message"]["topic"] == "general" and oldest["message"]["sender"] == "alice"
    assert oldest["message"]["excerpt"] == rude["body"][:100]
    assert oldest["message"]["link"] == f"/api/topics/general/messages?before_seq={rude['seq'] + 1}&limit=1"
    assert oldest["created_at"] <= newest["created_at"]

    table = await parley(place, "reports")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["REPORTED", "BY", "TOPIC", "SENDER", "MESSAGE", "EXCERPT", "REASON", "LINK"]
    assert len(lines) == 3
    assert "@alice/@bob" in lines[1] and "spam again" in lines[1] and "psst" in lines[1]
    assert "general" in lines[2] and "insulting" in lines[2] and "\u2026" in lines[2]  # the excerpt, cut


async def test_no_reports(place: Place) -> None:
    await parley(place, "migrate")
    result = await parley(place, "reports")
    assert (result.code, result.out) == (0, "no reports\n")
    assert json.loads((await parley(place, "reports", "--json")).out) == {"reports": []}
