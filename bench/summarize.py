"""Median and spread of several ``bench.load --json`` files, as a markdown table.

``python -m bench.summarize bench/results/run-1.json bench/results/run-2.json ...``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

KEY_METRICS = {
    "fanout": [
        "stored_per_s",
        "deliveries_per_s",
        "send_ack_ms.p50",
        "send_ack_ms.p95",
        "send_ack_ms.p99",
        "e2e_ms.p50",
        "e2e_ms.p95",
        "e2e_ms.p99",
        "server_cpu_ms_per_message",
        "server_cpu_ms_per_delivery",
        "cpu.server_cores",
        "cpu.server_loop_thread_cores",
        "cpu.server_other_threads_cores",
        "cpu.server_kernel_share",
        "cpu.client_cores",
        "cpu.other_processes_cores",
        "violations.send_failures",
        "violations.missing",
        "violations.duplicates",
        "violations.out_of_order",
        "violations.dropped_sockets",
    ],
    "connect": [
        "connects_per_s",
        "connect_to_session_ms.p50",
        "connect_to_session_ms.p95",
        "connect_to_session_ms.p99",
        "server_cpu_ms_per_connect",
        "rss_mb_before",
        "rss_mb_connected",
        "rss_kb_per_socket",
        "server_threads",
        "cpu.server_cores",
        "cpu.client_cores",
        "cpu.other_processes_cores",
        "failures",
    ],
    "backlog": [
        "connect_to_last_ms_median",
        "backlog_msgs_per_s",
        "server_cpu_ms_per_backlog_message",
        "fill_stored_per_s",
        "fill_send_ack_ms.p50",
        "fill_server_cpu_ms_per_message",
    ],
    "login": [
        "logins_per_s",
        "login_ms.p50",
        "login_ms.p95",
        "healthz_idle_ms.p50",
        "healthz_idle_ms.p99",
        "healthz_during_storm_ms.p50",
        "healthz_during_storm_ms.p95",
        "healthz_during_storm_ms.p99",
        "healthz_during_storm_ms.max",
        "server_cpu_ms_per_login",
        "server_threads_peak",
        "cpu.server_cores",
        "cpu.other_processes_cores",
        "failures",
    ],
}


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def fmt(value: float) -> str:
    if value == int(value) and abs(value) >= 10:
        return f"{int(value)}"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def summarize(paths: list[Path]) -> str:
    runs = [json.loads(p.read_text()) for p in paths]
    lines = [
        "| run | file | date (UTC) | server code | calibration ms (start/end) |",
        "|---|---|---|---|---|",
    ]
    for i, (path, run) in enumerate(zip(paths, runs, strict=True)):
        meta = run.get("meta", {})
        calibration = f"{meta.get('calibration_ms_start', '-')} / {meta.get('calibration_ms_end', '-')}"
        code = meta.get("server_code", "-")
        lines.append(f"| {i + 1} | {path.name} | {meta.get('date', '-')} | {code} | {calibration} |")
    lines.append("")
    for scenario, metrics in KEY_METRICS.items():
        results = [r["scenarios"].get(scenario) for r in runs]
        if not any(results):
            continue
        runs_header = " | ".join(f"run {i + 1}" for i in range(len(runs)))
        header = f"| metric | median | min | max | {runs_header} |"
        lines += [f"### {scenario}", "", header, "|---" * (4 + len(runs)) + "|"]
        for metric in metrics:
            values = [lookup(r, metric) if r else None for r in results]
            numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if not numbers:
                continue
            cells = [fmt(float(v)) if isinstance(v, (int, float)) else "-" for v in values]
            lines.append(
                f"| {metric} | **{fmt(statistics.median(numbers))}** | {fmt(min(numbers))} | "
                f"{fmt(max(numbers))} | " + " | ".join(cells) + " |"
            )
        errors = [r.get("error") for r in results if r and r.get("error")]
        notes = [n for r in results if r for n in r.get("notes", [])]
        lines.append("")
        for error in errors:
            lines.append(f"- error: `{error}`")
        for note in notes:
            lines.append(f"- note: {note.splitlines()[0][:300]}")
        if errors or notes:
            lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.summarize", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    sys.stdout.write(summarize(args.files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
