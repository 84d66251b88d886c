"""``bench.compare`` runs its reaction storm and its mention sends at a tiny size, and its floor.

The orchestrator is run as the command line runs it (a process of its own: it pins itself to a
core), against Node's and plain python-socketio's reference servers and ``parley serve``, each on
a free 127.0.0.1 port; it stops every process it started. The test reads its JSON: every member
got every ``reaction:updated`` once, every reaction and send was acknowledged, and Parley stored
both mentions of every body.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 240.0  # the run bounds itself far below (phases 30 s, each server's scenarios 90 s)

# Its processes are pinned to the two cores: keep it beside no other process-heavy test.
pytestmark = [pytest.mark.node, pytest.mark.xdist_group("processes")]


def run_compare(*args: str) -> tuple[int, str]:
    """``python -m bench.compare ARGS``: exit code and output; past LIMIT interrupted (its cleanup runs)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.compare", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # KeyboardInterrupt: it stops its servers and generator
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        pytest.fail(f"bench.compare ran past {LIMIT} s:\n{output}")
    return process.returncode, output


@pytest.mark.timeout(LIMIT + 60)  # a first run includes npm ci in bench/reference/node
def test_reaction_storm_and_mention_sends_run_at_a_tiny_size(tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the reference server and the load generator")
    members, rate, duration = 6, 20, 1
    returncode, output = run_compare(
        "--only", "node,plain,parley",
        "--scenarios", "reactions,sends-mentions",
        "--reaction-members", str(members), "--reactors", "3", "--reaction-rate", str(rate),
        "--reaction-duration", str(duration),
        "--senders", "2", "--sends-per-client", "3",
        "--settle", "0.2", "--phase-timeout", "30", "--scenario-timeout", "90",
        "--out", str(tmp_path / "compare"),
    )  # fmt: skip

    assert returncode == 0, output
    run: dict[str, Any] = json.loads((tmp_path / "compare.json").read_text())["runs"][0]
    ops = rate * duration
    for server in ("node", "plain", "parley"):
        storm = run[server]["reactions"]
        assert storm["ops"] == storm["acked"] == ops, (server, storm)
        assert storm["errors"] == 0, (server, storm)
        assert storm["deliveries"] == storm["expected"] == ops * members, (server, storm)
        assert storm["uneven_members"] == storm["foreign"] == 0, (server, storm)
        assert storm["add_ack_ms"]["n"] + storm["remove_ack_ms"]["n"] == ops, (server, storm)
        assert storm["cpu_ms_per_delivery"] is not None, (server, storm)
    sends = run["parley"]["sends_mentions"]
    assert len(sends["mentions_per_body"]) == 2, sends
    assert sends["acked"] == sends["mentions_recognised"] == 6, sends
    assert sends["errors"] == 0, sends
    report = (tmp_path / "compare.md").read_text()
    assert "server CPU ms per delivered `reaction:updated`" in report
    assert "server CPU ms per durable send with 2 mentions, SQLite" in report


@pytest.mark.timeout(LIMIT + 60)
def test_the_floor_serves_the_stock_client_connect_and_acked_echo_and_nothing_else(tmp_path: Path) -> None:
    """The bare ASGI floor is a fair lower bound only if the stock client really connects to it,
    gets ``session`` and its echoes back; a scenario it does not serve is refused up front."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the load generator")
    returncode, output = run_compare(
        "--only", "floor",
        "--scenarios", "connect,echo",
        "--clients", "20", "--echo-clients", "4", "--echo-per-client", "5",
        "--settle", "0.2", "--phase-timeout", "30", "--scenario-timeout", "90",
        "--out", str(tmp_path / "floor"),
    )  # fmt: skip

    assert returncode == 0, output
    floor: dict[str, Any] = json.loads((tmp_path / "floor.json").read_text())["runs"][0]["floor"]
    assert floor["connect"]["connected"] == 20 and floor["connect"]["failed"] == 0, floor
    assert floor["echo"]["round_trips"] == 20, floor
    assert floor["echo"]["errors"] == floor["echo"]["mismatches"] == 0, floor

    refused, output = run_compare("--only", "floor", "--scenarios", "fanout", "--out", str(tmp_path / "no"))
    assert refused == 2, output
    assert "floor serves only connect,echo" in output
    assert not (tmp_path / "no.json").exists()
