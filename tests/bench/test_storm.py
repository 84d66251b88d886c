"""``bench.storm``: the reconnect storm at a tiny size, and how its answers are merged and reported.

The command runs as on the command line: Node's reference server and ``parley serve`` on a free
127.0.0.1 port each, the stock client in two generator processes on two source addresses, the
server killed (SIGKILL) and then stopped cleanly (SIGTERM) and started again on the same port and
data directory. What must hold: every client comes back by itself, none gives up, and every Parley
client gets each of its backlog's messages once and in order after every restart.
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

from bench.compare import max_sockets
from bench.storm import merge_waits, parse_args, storm_table

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 240.0


def wait_answer(**fields: Any) -> dict[str, Any]:
    """One generator's ``storm_wait`` answer: nothing went wrong unless a field says so."""
    answer: dict[str, Any] = {
        "sockets": 2, "reconnected": 2, "caught_up": 2, "reconnect_ms": [1000, 1500],
        "caught_up_ms": [1100, 1600], "missing": 0, "duplicates": 0, "out_of_order": 0,
        "connect_errors": 0, "connect_errors_after_up": 0, "first_connect_errors": [], "gave_up": 0,
        "disconnected_twice": 0, "disconnect_reasons": {"transport close": 2}, "timed_out": False,
    }  # fmt: skip
    answer.update(fields)
    return answer


def test_the_generators_answers_merge_into_one_storm() -> None:
    merged = merge_waits(
        [
            wait_answer(),
            wait_answer(
                reconnect_ms=[900, 3000], caught_up_ms=[950], caught_up=1, missing=3, duplicates=1,
                connect_errors=5, connect_errors_after_up=1, first_connect_errors=["websocket error"],
                disconnect_reasons={"transport close": 1, "io server disconnect": 1}, gave_up=1,
                last_failed_attempt_ms=850,
            ),
        ],
        clients=4,
        expected=20,
    )  # fmt: skip

    assert merged["reconnected"] == 4 and merged["all_reconnected_s"] == 3.0
    assert merged["caught_up"] == 3 and merged["all_caught_up_s"] is None  # one never caught up
    assert merged["reconnect_ms"]["n"] == 4 and merged["reconnect_ms"]["max"] == 3000
    assert (merged["missing"], merged["duplicates"], merged["connect_errors"]) == (3, 1, 5)
    assert merged["connect_errors_after_up"] == 1 and merged["gave_up"] == 1
    assert merged["disconnect_reasons"] == {"transport close": 3, "io server disconnect": 1}
    assert merged["first_connect_errors"] == ["websocket error"]
    assert merged["last_failed_attempt_s"] == 0.85  # the one generator that saw a failed attempt


def test_a_storm_without_backlog_reports_only_reconnection_and_a_missing_client_leaves_no_total() -> None:
    merged = merge_waits([wait_answer(reconnected=1, reconnect_ms=[700])], clients=2, expected=0)

    assert merged["all_reconnected_s"] is None  # one of the two never came back
    assert merged["caught_up"] is None and merged["all_caught_up_s"] is None


def test_the_table_compares_parley_catching_up_with_node_reconnecting() -> None:
    node = merge_waits([wait_answer()], clients=2, expected=0)
    parley = merge_waits([wait_answer(caught_up_ms=[2000, 4500])], clients=2, expected=20)
    results = {"servers": {"node": {"kill": node}, "parley": {"kill": parley, "term": parley}}}

    lines = storm_table(results).splitlines()

    assert lines[0] == "| metric | node (kill) | parley (kill) | parley (term) |"
    assert "| s until every backlog delivered (from the stop) | - | 4.5 | 4.5 |" in lines
    # 4.5 s against Node's 1.5 s for the kill; no Node column for the clean stop to compare with
    assert lines[-1] == "| all back and caught up / node's all reconnected | - | 3.00 | - |"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--only", "parley", "--clients", "10", "--topics", "11"],
            "--topics must be between 1 and --clients",
        ),
        (["--backlog", "1001"], "--backlog must be 1-1000"),
        (["--restarts", "kill,reboot"], "--restarts takes kill,term"),
        (["--clients", str(max_sockets() + 1)], "open-files limit"),
    ],
)
def test_what_cannot_run_is_refused_before_anything_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        parse_args(argv)

    assert refused.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.node
@pytest.mark.xdist_group("processes")
@pytest.mark.timeout(LIMIT + 60)
def test_every_client_comes_back_after_a_kill_and_a_clean_stop_with_its_backlog_once_and_in_order(
    tmp_path: Path,
) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the reference server and the load generator")
    clients, backlog = 24, 5
    process = subprocess.Popen(
        [
            sys.executable, "-m", "bench.storm", "--only", "node,parley", "--clients", str(clients),
            "--topics", "4", "--backlog", str(backlog), "--clients-per-generator", "12",
            "--phase-timeout", "60", "--settle", "0.2", "--out", str(tmp_path / "storm"),
        ],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # it stops its servers and generators
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"bench.storm ran past {LIMIT} s:\n{output}")

    assert process.returncode == 0, output
    servers: dict[str, Any] = json.loads((tmp_path / "storm.json").read_text())["servers"]
    for kind in ("node", "parley"):
        assert [g["address"] for g in servers[kind]["generators"]] == ["127.0.0.2", "127.0.0.3"]
        for how in ("kill", "term"):
            storm = servers[kind][how]
            assert storm["reconnected"] == clients and storm["all_reconnected_s"] is not None, (
                kind,
                how,
                storm,
            )
            assert storm["gave_up"] == storm["connect_errors_after_up"] == 0, (kind, how, storm)
            assert not storm["timed_out"], (kind, how, storm)
    for how in ("kill", "term"):
        storm = servers["parley"][how]
        assert storm["caught_up"] == clients and storm["all_caught_up_s"] is not None, (how, storm)
        assert storm["missing"] == storm["duplicates"] == storm["out_of_order"] == 0, (how, storm)
        assert storm["all_caught_up_s"] >= storm["up_s"], (how, storm)  # not before the server was back
        # the port listened after the stop and well before the app answered (``listening_socket``:
        # the app is imported and built after the bind, about a second here)
        assert storm["stop_s"] <= storm["listen_s"] < storm["up_s"], (how, storm)
    report = (tmp_path / "storm.md").read_text()
    assert "| metric | node (kill) | node (term) | parley (kill) | parley (term) |" in report
