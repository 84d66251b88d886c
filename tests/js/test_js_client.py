"""The official ``socket.io-client`` from npm runs a scripted session (``session.mjs``).

The script registers two users, talks in a topic and a direct conversation,
acknowledges delivery, checks the backlog and how refused connections are
reported; it exits non-zero and says what differed on any mismatch. Its
dependencies are installed with ``npm ci`` from the lock file when missing.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import LiveServer

JS_DIR = Path(__file__).resolve().parent
SESSION_LIMIT = 30.0  # the script bounds itself at 20 s

pytestmark = pytest.mark.node


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with ``tests/js/node_modules`` installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the socket.io-client session")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True, timeout=240
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    return node


@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_the_official_js_client_runs_a_whole_session(node: str, live_server: LiveServer) -> None:
    process = await asyncio.create_subprocess_exec(
        node,
        "session.mjs",
        live_server.url,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), SESSION_LIMIT)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise

    report = f"stdout:\n{stdout.decode()}\nstderr:\n{stderr.decode()}"
    assert process.returncode == 0, report
    assert stdout.decode().rstrip().endswith("PASS"), report
