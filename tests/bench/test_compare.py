"""``bench.compare`` runs its reaction storm and its mention sends at a tiny size, its floor, and its
connect curve over several generator processes and source addresses.

The orchestrator is run as the command line runs it (a process of its own: it pins itself to a
core), against Node's and plain python-socketio's reference servers and ``parley serve``, each on
a free 127.0.0.1 port; it stops every process it started. The test reads its JSON: every member
got every ``reaction:updated`` once, every reaction and send was acknowledged, and Parley stored
both mentions of every body. The curve's planning (how many generators, which addresses, what
one server can hold) and its table are checked as functions, and its refusals on the command line.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.compare import (
    EPHEMERAL_PORTS,
    curve_fanout_shape,
    curve_table,
    fleet_plan,
    max_sockets,
    nofile_limit,
    refuse_sizes,
)

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 240.0  # the run bounds itself far below (phases 30 s, each server's scenarios 90 s)

# Its processes are pinned to the two cores: keep those tests beside no other process-heavy test.


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


@pytest.mark.node
@pytest.mark.xdist_group("processes")
@pytest.mark.timeout(LIMIT + 60)  # a first run includes npm ci in bench/reference/node
def test_reaction_storm_mention_sends_and_heard_sends_and_publishes_run_at_a_tiny_size(
    tmp_path: Path,
) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the reference server and the load generator")
    members, rate, duration = 6, 20, 1
    returncode, output = run_compare(
        "--only", "node,plain,parley",
        "--scenarios", "reactions,sends-mentions,sends-heard,publish-heard",
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
    heard_sends, heard_publishes = run["parley"]["sends_heard"], run["parley"]["publish_heard"]
    assert heard_sends["acked"] == heard_sends["heard"] == 6, heard_sends  # the second member got each
    assert heard_sends["errors"] == 0, heard_sends
    assert heard_publishes["published"] == heard_publishes["heard"] == 6, heard_publishes
    assert heard_publishes["errors"] == 0, heard_publishes
    report = (tmp_path / "compare.md").read_text()
    assert "server CPU ms per delivered `reaction:updated`" in report
    assert "server CPU ms per durable send with 2 mentions, SQLite" in report
    assert "server CPU ms per message published and heard by a second member, SQLite" in report


@pytest.mark.node
@pytest.mark.xdist_group("processes")
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


def test_the_open_files_limit_is_the_hard_limit_and_a_server_keeps_some_for_its_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert nofile_limit() == (65536 if hard == resource.RLIM_INFINITY else hard)
    assert 0 < max_sockets() < nofile_limit()


def test_a_size_one_server_process_cannot_hold_is_refused_naming_the_limit() -> None:
    why = refuse_sizes([1000, max_sockets() + 1], 5000)

    assert why is not None
    assert f"{max_sockets() + 1} sockets" in why
    assert str(nofile_limit()) in why and str(max_sockets()) in why
    assert "1000," not in why  # only the size that does not fit is named
    assert refuse_sizes([1000, max_sockets()], 5000) is None
    assert refuse_sizes([0], 5000) == "socket counts must be positive"


def test_a_generator_larger_than_its_descriptors_or_its_address_ports_is_refused() -> None:
    most = min(max_sockets(), EPHEMERAL_PORTS)
    assert refuse_sizes([100], most) is None
    assert "--clients-per-generator" in (refuse_sizes([100], most + 1) or "")
    assert "--clients-per-generator" in (refuse_sizes([100], 0) or "")


def test_the_clients_are_spread_evenly_over_generators_each_on_its_own_loopback_address() -> None:
    plan = fleet_plan(19000, 5000)

    assert [count for _, count in plan] == [4750, 4750, 4750, 4750]
    assert [address for address, _ in plan] == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    uneven = fleet_plan(10001, 5000)
    assert [count for _, count in uneven] == [3334, 3334, 3333]
    assert fleet_plan(200, 5000) == [("127.0.0.2", 200)]


def test_the_curve_fan_out_keeps_the_delivery_rate_whatever_the_room() -> None:
    assert curve_fanout_shape(19000, 1000, 5000, 10) == (1000, 5.0, 50)
    assert curve_fanout_shape(500, 1000, 5000, 10) == (500, 10.0, 100)  # the room is all of them
    members, rate, messages = curve_fanout_shape(50000, 0, 5000, 10)  # 0: every socket is in the room
    assert (members, rate, messages) == (50000, 0.1, 1)


def test_the_curve_table_has_a_block_per_size_with_medians_and_ratios_to_node() -> None:
    def point(cpu: float, p99: float) -> dict[str, Any]:
        return {"cpu_ms_per_connect": cpu, "wall_s": 1.0, "failed": 0, "fanout": {"latency_ms": {"p99": p99}}}

    runs: list[dict[str, Any]] = [
        {"node": {"curve": {"1000": point(0.3, 10)}}, "parley": {"curve": {"1000": point(0.6, 30)}}},
        {"node": {"curve": {"1000": point(0.3, 20)}}, "parley": {"curve": {"1000": point(0.9, 40)}}},
        {
            "node": {"curve": {"1000": point(0.3, 30)}},
            "parley": {"curve": {"1000": point(1.2, 60), "error": "x"}},
        },
    ]

    lines = curve_table(runs, ["node", "parley"]).splitlines()

    assert lines[0] == "| sockets | metric | node | parley | parley/node |"
    assert "| 1,000 | server CPU ms per connect | 0.3 | 0.9 (0.6-1.2) | 3 (2-4) |" in lines
    assert "| 1,000 | fan-out p99 ms | 20 (10-30) | 40 (30-60) | 2 (2-3) |" in lines
    assert "| 1,000 | clients that did not connect | 0 | 0 |  |" in lines  # a count, no ratio
    assert not any("RSS" in line for line in lines)  # no server measured it


def test_the_command_line_refuses_a_curve_past_the_open_files_limit_before_starting_anything(
    tmp_path: Path,
) -> None:
    size = max_sockets() + 1
    refused, output = run_compare("--connect-curve", f"1000,{size}", "--out", str(tmp_path / "curve"))

    assert refused == 2, output
    assert f"{size} sockets" in output and f"is {nofile_limit()}" in output
    assert not (tmp_path / "curve.json").exists()


@pytest.mark.node
@pytest.mark.xdist_group("processes")
@pytest.mark.timeout(LIMIT + 60)
def test_the_connect_curve_spreads_clients_over_generators_and_fans_out_to_a_room_of_them(
    tmp_path: Path,
) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the reference server and the load generator")
    returncode, output = run_compare(
        "--only", "node,parley", "--connect-curve", "12,30", "--clients-per-generator", "10",
        "--curve-room", "8", "--curve-deliveries", "40", "--curve-fanout-seconds", "1",
        "--settle", "0.2", "--phase-timeout", "30", "--scenario-timeout", "90",
        "--out", str(tmp_path / "curve"),
    )  # fmt: skip

    assert returncode == 0, output
    run: dict[str, Any] = json.loads((tmp_path / "curve.json").read_text())["runs"][0]
    for server in ("node", "parley"):
        small, big = run[server]["curve"]["12"], run[server]["curve"]["30"]
        assert [g["address"] for g in big["generators"]] == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        assert [g["sockets"] for g in small["generators"]] == [6, 6]
        for size, point in ((12, small), (30, big)):
            assert point["connected"] == size and point["failed"] == 0, (server, point)
            assert point["session_ms"]["n"] == size, (server, point)
            assert point["cpu_ms_per_connect"] is not None and point["rss_kb_per_socket"] is not None
        # The room is generator 0's share when that is smaller than asked (6 < 8): rate kept at 40/s.
        assert small["fanout"]["room"] == 6 and big["fanout"]["room"] == 8, run[server]
        for point in (small, big):
            fanout = point["fanout"]
            assert fanout["missing"] == fanout["out_of_order"] == fanout["send_errors"] == 0, (server, fanout)
            assert fanout["deliveries"] == fanout["room"] * fanout["messages"], (server, fanout)
    report = (tmp_path / "curve.md").read_text()
    assert "## Connect curve" in report and "| 30 | fan-out p99 ms |" in report
