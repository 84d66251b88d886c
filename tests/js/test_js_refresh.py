"""Token refresh with the official ``socket.io-client`` (``refresh.mjs``, PROTOCOL.md section 10):
``auth:expiring``, ``POST /api/auth/refresh``, ``auth:refresh`` on the live socket, the socket
of a user who does not refresh disconnected at the expiry, and a reconnection with the new token.
The tokens are the server's own, issued for a few seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.js.conftest import run_script
from tests.support import LiveServer
from tests.support import test_settings as settings_for

LIMIT = 40.0  # the script bounds itself at 25 s
SHORT = 4  # seconds the tokens given to the script live; the notice comes 2 s before the end

pytestmark = [pytest.mark.node, pytest.mark.both_databases]


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", expiry_notice=2.0)


@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_the_js_client_refreshes_a_live_socket(node: str, live_server: LiveServer) -> None:
    tokens = []
    for name in ("alice", "bob"):
        await live_server.register(name)
        tokens.append((await live_server.chat.users.issue_token(name, ttl_seconds=SHORT)).token)
    returncode, stdout, stderr = await run_script(node, "refresh.mjs", live_server.url, *tokens, limit=LIMIT)
    report = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert returncode == 0, report
    assert stdout.rstrip().endswith("PASS"), report
