"""An echo transcript is bounded by what it really costs in memory (server.chat.echo.service).

A flood of tiny echoes used to be counted as JSON bytes while each line lived as a dict (about 20x
the JSON): the cap held on paper and not in memory. Measured here with tracemalloc, on the session
alone (no server, no transport), so the number is the transcript's.
"""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime

import pytest

from server.chat.echo.service import MAX_DEPTH, EchoSession
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.views import iso

CAP = 256 * 1024


async def test_a_flood_of_tiny_echoes_stops_growing_at_the_cap_in_real_memory() -> None:
    gc.collect()
    tracemalloc.start()
    try:
        session = EchoSession(Actor(1, "alice"), None, CAP)
        sizes = []
        for n in range(40_000):
            assert await session.echo(n % 10) == n % 10
            if n % 10_000 == 9_999:
                sizes.append(session.size)
        gc.collect()
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert all(size <= CAP for size in sizes), sizes
    assert sizes[-1] == sizes[-2] or sizes[-1] > CAP - 1024, sizes  # stopped growing: at the cap
    assert session.dropped > 0
    assert held < CAP * 3 // 2, f"the transcript holds {held} bytes for a cap of {CAP}"
    stored = session.lines
    assert stored[0]["from"] == "dropped" and stored[0]["payload"] == session.dropped
    assert [line["from"] for line in stored[-2:]] == ["client", "server"]
    assert stored[-1]["payload"] == 39_999 % 10


async def test_each_line_is_stamped_as_every_other_time_on_the_wire() -> None:
    """ISO 8601 UTC with a ``Z`` (``server.chat.kernel.views.iso``), between the echo's start and end."""
    session = EchoSession(Actor(1, "alice"), None, CAP)
    before = datetime.now(UTC)
    await session.echo({"hello": "there"})
    after = datetime.now(UTC)
    stamps = [line["at"] for line in session.lines]
    assert len(stamps) == 2
    for stamp in stamps:
        moment = datetime.fromisoformat(stamp)
        assert stamp == iso(moment)
        assert before <= moment <= after


PAYLOADS = [
    "hi",
    "",
    "é 😀 \u2028",
    0,
    -1.5,
    2**63 - 1,
    True,
    None,
    [],
    {},
    [1, [2, [3]]],
    {"a": {"b": [None, "x"]}},
]


async def test_each_payload_is_kept_as_said_and_answered_on_its_own_two_lines() -> None:
    session = EchoSession(Actor(1, "alice"), None, CAP)
    for payload in PAYLOADS:
        assert await session.echo(payload) == payload
    lines = session.lines
    assert [line["from"] for line in lines] == ["client", "server"] * len(PAYLOADS)
    assert [line["payload"] for line in lines] == [p for p in PAYLOADS for _ in range(2)]
    assert all(set(line) == {"from", "payload", "at"} for line in lines)
    assert all(lines[i]["at"] == lines[i + 1]["at"] for i in range(0, len(lines), 2))  # one instant


async def test_a_payload_nested_past_the_limit_is_refused_and_not_kept() -> None:
    session = EchoSession(Actor(1, "alice"), None, CAP)
    deep: list[object] = []
    for _ in range(MAX_DEPTH):
        deep = [deep]
    with pytest.raises(ChatError) as refused:
        await session.echo(deep)
    assert refused.value.code is ErrorCode.INVALID
    assert session.lines == []
    assert await session.echo(deep[0]) == deep[0]  # one level less: the limit itself is kept
    assert len(session.lines) == 2


async def test_a_payload_json_cannot_hold_is_refused_and_not_kept() -> None:
    session = EchoSession(Actor(1, "alice"), None, CAP)
    with pytest.raises(ChatError) as refused:
        await session.echo({"big": 2**70})  # what a decoder other than orjson's could hand over
    assert (refused.value.code, refused.value.message) == (ErrorCode.INVALID, "the payload is not JSON")
    assert session.lines == []
