"""Token refresh with the official ``socket.io-client`` (``refresh.mjs``, PROTOCOL.md section 10):
``auth:expiring``, ``POST /api/auth/refresh``, ``auth:refresh`` on the live socket, the socket
of a user who does not refresh disconnected at the expiry, and a reconnection with the new token.
The server's tokens live a few seconds here; the script registers its users itself, so its
tokens are fresh whenever node gets going."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.js.conftest import run_script
from tests.support import LiveServer
from tests.support import test_settings as settings_for

LIMIT = 45.0  # the script bounds itself at 30 s

pytestmark = [pytest.mark.node, pytest.mark.both_databases]


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", token_ttl=6, expiry_notice=3.0)


@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_the_js_client_refreshes_a_live_socket(node: str, live_server: LiveServer) -> None:
    returncode, stdout, stderr = await run_script(node, "refresh.mjs", live_server.url, limit=LIMIT)
    report = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert returncode == 0, report
    assert stdout.rstrip().endswith("PASS"), report
