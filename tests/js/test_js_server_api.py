"""The official ``socket.io-client`` from npm as a backend's user (``server_api.mjs``): added to a
private topic and removed from it through the server API, and answering an ``app:`` event's
acknowledgement (PROTOCOL.md section 17)."""

from __future__ import annotations

import pytest

from tests.js.conftest import run_script
from tests.support import LiveServer

pytestmark = pytest.mark.node


@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_the_official_js_client_follows_server_side_members_and_acks_app_events(
    node: str, live_server: LiveServer
) -> None:
    key = (await live_server.chat.server_keys.create("shop")).key
    returncode, stdout, stderr = await run_script(node, "server_api.mjs", live_server.url, key, limit=30.0)
    report = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert returncode == 0, report
    assert stdout.rstrip().endswith("PASS"), report
