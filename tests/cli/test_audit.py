"""``parley audit`` (PROTOCOL.md section 16): the operator commands that change data write their
rows as ``cli``, and the listing shows them newest first, filtered by actor, action and time, as a
table or ``--json``; run as subprocesses against one SQLite file, like an operator would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.runner import PASSWORD, Place, parley, place_in

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


async def ok(place: Place, *args: str, stdin: str = "") -> str:
    result = await parley(place, *args, stdin=stdin)
    assert result.code == 0, (args, result.err)
    return result.out


async def audit(place: Place, *args: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(await ok(place, "audit", "--json", *args))["entries"]
    return entries


async def test_operator_commands_are_listed_newest_first_and_filtered(place: Place) -> None:
    await ok(place, "user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    await ok(place, "user", "create", "bobby", "--password-stdin", stdin=PASSWORD + "\n")
    token = await ok(place, "token", "alice", "--ttl", "600")
    await ok(place, "user", "disable", "bobby")
    await ok(place, "bot", "create", "helper", "--owner", "alice")
    refused = await parley(place, "user", "disable", "ghost")  # not_found: no row
    assert refused.code == 1

    entries = await audit(place)
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("cli", "bot.create", "helper"),
        ("cli", "user.disable", "bobby"),
        ("cli", "token.issue", "alice"),
        ("cli", "user.create", "bobby"),
        ("cli", "user.create", "alice"),
    ]
    first = entries[-1]
    assert set(first) == {"id", "at", "actor", "actor_id", "action", "target", "topic", "details"}
    assert first["actor_id"] is None and first["topic"] is None
    assert entries[2]["details"] == {"ttl": 600} and token.strip() not in json.dumps(entries)
    assert datetime.fromisoformat(first["at"].replace("Z", "+00:00")) <= datetime.now(UTC)

    assert [e["target"] for e in await audit(place, "--action", "user.create")] == ["bobby", "alice"]
    assert len(await audit(place, "--actor", "CLI")) == 5
    assert await audit(place, "--actor", "alice") == []
    assert [e["action"] for e in await audit(place, "--limit", "2")] == ["bot.create", "user.disable"]
    assert len(await audit(place, "--since", "1")) == 5  # the last day
    assert len(await audit(place, "--since", "3d")) == 5
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert await audit(place, "--since", tomorrow) == []
    assert await audit(place, "--since", "2000-01-01T00:00:00Z") == entries

    table = await ok(place, "audit", "--action", "user.disable")
    header, line = table.splitlines()
    assert header.split() == ["AT", "ACTOR", "ACTION", "TARGET", "TOPIC", "DETAILS"]
    assert line.split()[1:] == ["cli", "user.disable", "bobby", "-", "-"]
    assert await ok(place, "audit", "--actor", "nobody") == "no audit rows\n"
    assert len(await audit(place)) == 5  # reading the log writes nothing


async def test_bad_filters_are_refused_before_anything_runs(place: Place) -> None:
    for args in (("--since", "last tuesday"), ("--limit", "0"), ("--limit", "many")):
        result = await parley(place, "audit", *args)
        assert result.code == 2, args
        assert "invalid" in result.err and result.out == ""
