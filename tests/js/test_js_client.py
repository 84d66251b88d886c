"""The official ``socket.io-client`` from npm runs a scripted session (``session.mjs``).

The script registers two users, talks in a topic and a direct conversation,
acknowledges delivery, checks the backlog and how refused connections are
reported; it exits non-zero and says what differed on any mismatch. Its
dependencies are installed with ``npm ci`` from the lock file when missing.
"""

from __future__ import annotations

import pytest

from tests.js.conftest import run_script
from tests.support import LiveServer

SESSION_LIMIT = 30.0  # the script bounds itself at 20 s

pytestmark = pytest.mark.node


@pytest.mark.timeout(300)  # a first run includes npm ci
@pytest.mark.parametrize("transports", [None, "polling", "websocket", "default"])
async def test_the_official_js_client_runs_a_whole_session(
    node: str, live_server: LiveServer, transports: str | None
) -> None:
    """Without a choice one user upgrades from polling and one is websocket-only; else both use it."""
    extra = [transports] if transports else []
    returncode, stdout, stderr = await run_script(
        node, "session.mjs", live_server.url, *extra, limit=SESSION_LIMIT
    )

    report = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert returncode == 0, report
    assert stdout.rstrip().endswith("PASS"), report
