"""The ``node`` fixture: the node executable with ``tests/js/node_modules`` installed from the lock file."""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent
# oidc-provider: tests/sso_support.py; axe-core: tests/web/axe.py
PACKAGES = ("socket.io-client", "wscat", "oidc-provider", "axe-core")


@pytest.fixture(scope="session")
def node() -> str:
    """The node executable, with ``tests/js/node_modules`` installed from the lock file.

    ``make test`` installs them first; a pytest run without it installs them here, one worker at a
    time (a lock file: two ``npm ci`` into one folder break each other), so the tests that use
    Node need no group of their own and spread over the workers."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the socket.io-client scripts")
    with (JS_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((JS_DIR / "node_modules" / package).is_dir() for package in PACKAGES):
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=240,
            )
            assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    return node


async def run_script(node: str, *args: str, limit: float, terminal: bool = False) -> tuple[int, str, str]:
    """Run ``node *args`` in ``tests/js``; its exit code, stdout and stderr (killed after ``limit`` s).

    ``terminal``: its stdin stays open and empty, as a terminal nobody types in (wscat quits when
    its input ends).
    """
    process = await asyncio.create_subprocess_exec(
        node,
        *args,
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE if terminal else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()
