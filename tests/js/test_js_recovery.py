"""Connection-state recovery with the official ``socket.io-client`` (``recovery.mjs``).

The script connects with ``{token, recover: true}``, loses its connection while another user
sends, reconnects by itself and checks ``socket.recovered`` and that every missed message
arrives once, in order. Its connection is lost either by closing its own transport, or (the
script prints ``KILL ME``) by a real ``parley serve`` being killed with -9 and started again on
the same database and port: the pid and the messages come back from the database.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.cli.runner import Place, place_in
from tests.databases import fresh_postgres_database, postgres_url
from tests.durability.test_kill9 import free_port, server
from tests.js.conftest import JS_DIR, run_script
from tests.support import LiveServer

LIMIT = 60.0  # the script bounds itself at 40 s

pytestmark = pytest.mark.node


def passed(returncode: int, stdout: str, stderr: str) -> None:
    report = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert returncode == 0, report
    assert stdout.rstrip().endswith("PASS"), report


@pytest.mark.both_databases
@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_the_js_client_recovers_its_session_after_its_connection_dropped(
    node: str, live_server: LiveServer
) -> None:
    passed(*await run_script(node, "recovery.mjs", live_server.url, limit=LIMIT))


async def recover_across_a_restart(node: str, place: Place) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with server(place, port) as first:
        script = await asyncio.create_subprocess_exec(
            node,
            "recovery.mjs",
            url,
            "--restart",
            cwd=JS_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert script.stdout is not None and script.stderr is not None
        lines = []
        try:
            while (line := (await asyncio.wait_for(script.stdout.readline(), LIMIT)).decode()) != "KILL ME\n":
                assert line, f"the script ended before asking for the kill:\n{''.join(lines)}"
                lines.append(line)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            async with server(place, port):  # same database, same port
                out, err = await asyncio.wait_for(script.communicate(), LIMIT)
        finally:
            if script.returncode is None:
                script.kill()
                await script.wait()
    assert script.returncode is not None
    passed(script.returncode, "".join(lines) + out.decode(), err.decode())


@pytest.mark.timeout(300)
async def test_the_js_client_recovers_its_session_across_a_server_killed_with_9_on_sqlite(
    node: str, tmp_path: Path
) -> None:
    await recover_across_a_restart(node, place_in(tmp_path))


@pytest.mark.postgres
@pytest.mark.timeout(300)
async def test_the_js_client_recovers_its_session_across_a_server_killed_with_9_on_postgresql(
    node: str, tmp_path: Path
) -> None:
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        await recover_across_a_restart(node, place_in(tmp_path).with_env(PARLEY_DATABASE_URL=url))
