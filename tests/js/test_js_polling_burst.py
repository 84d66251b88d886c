"""A burst of acknowledged sends from the official ``socket.io-client`` over long-polling (``burst.mjs``).

socket.io-client queues emits while a POST is in flight and sends them
together in the next one; PROTOCOL.md 5a: every packet of a polling POST is
handled, up to the byte limit. The script prints every ack; here each must be
ok, and the topic must hold every message, once, in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.config import Settings
from tests.js.conftest import run_script
from tests.support import LiveServer, bearer
from tests.support import test_settings as settings_for

BURST = 200
SCRIPT_LIMIT = 60.0  # the script bounds itself at 40 s

pytestmark = pytest.mark.node


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Room in the socket's rate bucket for the topic, the burst and the checks."""
    return settings_for(tmp_path / "data", socket_burst=BURST + 50)


async def stored_bodies(live: LiveServer, token: str, topic: str) -> list[str]:
    """Every message body of ``topic``, oldest first, paged over REST."""
    bodies: list[str] = []
    before: dict[str, Any] = {}
    while True:
        page = await live.http.get(
            f"/api/topics/{topic}/messages", params={"limit": 200, **before}, headers=bearer(token)
        )
        assert page.status_code == 200, page.text
        messages, has_more = page.json()["messages"], page.json()["has_more"]
        bodies = [m["body"] for m in messages] + bodies
        if not has_more:
            return bodies
        before = {"before_seq": messages[0]["seq"]}


@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_a_polling_burst_of_sends_is_acknowledged_and_stored_in_full(
    node: str, live_server: LiveServer
) -> None:
    returncode, stdout, stderr = await run_script(
        node, "burst.mjs", live_server.url, str(BURST), limit=SCRIPT_LIMIT
    )

    assert returncode == 0, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    result = json.loads(stdout.strip().splitlines()[-1])
    acks = result["acks"]
    assert len(acks) == BURST
    failed = [(i, ack) for i, ack in enumerate(acks) if ack.get("ok") is not True]
    assert failed == [], f"{len(failed)} of {BURST} sends not acknowledged ok, first: {failed[:3]}"
    assert [ack["data"]["body"] for ack in acks] == [f"burst {i}" for i in range(BURST)]
    stored = await stored_bodies(live_server, result["token"], result["topic"])
    assert stored == [f"burst {i}" for i in range(BURST)]
