"""``bench.workers``: how each step's sockets are shared out among the generators, the report's
table (ratios only where one means something), and the refusals of its command line, as functions.

The curve itself needs tens of thousands of sockets and minutes: it is a benchmark, not a test
(its run is in ``bench/results/workers-curve-2026-11-28.md``); ``tests/bench/test_compare.py``
runs the generators and the reference servers it shares with ``bench.compare``.
"""

from __future__ import annotations

import pytest

from bench.compare import fleet_plan
from bench.workers import held_during, parse_args, shares, table


def test_each_step_keeps_the_plans_proportions_and_adds_up():
    plan = fleet_plan(50_000, 10_000)
    assert [count for _, count in plan] == [10_000] * 5
    steps = [shares(size, plan) for size in (10_000, 25_000, 50_000)]
    assert steps == [[2_000] * 5, [5_000] * 5, [10_000] * 5]
    uneven = fleet_plan(7, 3)  # 3, 2, 2
    for size in range(1, 8):
        got = shares(size, uneven)
        assert sum(got) == size
        assert all(a <= b for a, b in zip(got, [3, 2, 2], strict=True))  # within each generator's share


def test_a_later_step_never_takes_a_socket_back():
    plan = fleet_plan(25_001, 10_000)
    before = shares(10_000, plan)
    after = shares(25_001, plan)
    assert all(b >= a for a, b in zip(before, after, strict=True))


def test_the_table_gives_ratios_to_node_only_for_measures_not_for_counts():
    point = {"cpu_ms_per_connect": 1.0, "failed": 0, "fanout": {"latency_ms": {"p99": 50.0}, "missing": 0}}
    results = {
        "meta": {"sizes": [10_000]},
        "servers": {
            "node": {"points": {"10000": point}},
            "parley": {"points": {"10000": {**point, "cpu_ms_per_connect": 2.5}}},
        },
    }
    rows = {line.split(" | ")[1]: line for line in table(results).splitlines()[2:]}
    assert rows["server CPU ms per connect (this step's connects)"].endswith("| 2.50 |")
    assert rows["fan-out p99 ms"].endswith("| 1.00 |")
    assert rows["clients that did not connect"].endswith("|  |")


def test_the_held_sockets_cost_their_idle_cpu_over_the_step_at_their_mean_count():
    # 20 us per socket per second, 10,000 held rising to 20,000 over 10 s: 15,000 on average
    assert held_during(20.0, 10_000, 20_000, 10.0) == pytest.approx(3.0)
    assert held_during(20.0, 0, 10_000, 10.0) == pytest.approx(1.0)  # the first step: from none
    assert held_during(0.0, 10_000, 20_000, 10.0) == 0.0


@pytest.mark.parametrize(
    "argv",
    [
        ["--sizes", "25000,10000"],  # steps go up
        ["--sizes", "10000,10000"],
        ["--sizes", "ten"],
        ["--only", "plain"],
        ["--clients-per-generator", "20000"],  # a generator's descriptors
        ["--workers", "0"],
        ["--ping-interval", "0.1"],  # a round per tick: nothing but heartbeats
        ["--ping-interval", "7200"],
    ],
)
def test_the_command_line_refuses_what_cannot_run(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_a_ping_interval_is_taken_and_the_idle_cpu_read_back_per_round():
    args = parse_args(["--ping-interval", "2"])
    assert args.ping_interval == 2.0
    assert parse_args([]).ping_interval is None  # the servers' own 25 s
    point = {"idle": {"us_per_socket_s": 25.0, "us_per_ping_round": 50.0}}
    results = {
        "meta": {"sizes": [10_000]},
        "servers": {"node": {"points": {"10000": point}}, "parley": {"points": {"10000": point}}},
    }
    rows = {line.split(" | ")[1]: line for line in table(results).splitlines()[2:]}
    assert rows["idle CPU us per socket per PING round (with --ping-interval)"].endswith("| 1.00 |")
