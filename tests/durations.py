"""Where the suite's time goes: ``python -m tests.durations REPORT.xml`` (``make test-durations``).

Reads a JUnit report of a pytest run (``--junitxml``) and prints the time spent per kind of test
and the costliest files, so that a slower suite says where it got slower. The time is the sum of
the tests' own durations (setup, call and teardown) on every worker: with three workers the wall
time is about a third of it, less whatever one group that runs one test after another holds up.

A file's kind is the costliest thing it starts, read from its source (the first that matches).
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Chromium", re.compile(r"\bnew_page\b|\bbrowser\b.*\)|playwright")),
    ("kill -9", re.compile(r"SIGKILL|kill -9|crashable_nodes")),
    ("two nodes", re.compile(r"\btwo_nodes\b|\bnodes\(|node_b\b")),
    ("process", re.compile(r"serving_process|create_subprocess_exec|subprocess\.(run|Popen)|Popen\(")),
    ("Node.js", re.compile(r"\bnode\b: str|\bnode\(|\bnode\b\)|run_node|npm")),
    (
        "outside party",
        re.compile(r"smtp_server|push_service|preview_site|receiving\(|own_postgres|own_redis"),
    ),
    ("live server", re.compile(r"\blive_server\b|\brunning\(")),
)
IN_PROCESS = "in-process"


def kind_of(path: str) -> str:
    """The kind of test file ``path`` holds (relative to the checkout)."""
    try:
        source = (ROOT / path).read_text()
    except OSError:
        return IN_PROCESS
    return next((name for name, pattern in KINDS if pattern.search(source)), IN_PROCESS)


def file_times(report: Path) -> dict[str, tuple[int, float]]:
    """Per test file: how many tests ran and the seconds they took."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for case in ElementTree.parse(report).iter("testcase"):
        module = case.get("classname", "").split("[")[0]
        parts = module.split(".")
        while parts and not parts[-1].startswith("test_"):
            parts.pop()  # a test class's name
        path = "/".join(parts) + ".py"
        totals[path][0] += 1
        totals[path][1] += float(case.get("time", 0.0))
    return {path: (int(count), seconds) for path, (count, seconds) in totals.items()}


def table(report: Path, top: int = 25) -> str:
    files = file_times(report)
    kinds: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for path, (count, seconds) in files.items():
        row = kinds[kind_of(path)]
        row[0] += 1
        row[1] += count
        row[2] += seconds
    total = sum(seconds for _, seconds in files.values())
    lines = [f"{'kind':<14} {'files':>6} {'tests':>6} {'seconds':>9} {'share':>6}"]
    for name, (count, tests, seconds) in sorted(kinds.items(), key=lambda item: -item[1][2]):
        lines.append(f"{name:<14} {int(count):>6} {int(tests):>6} {seconds:>9.0f} {seconds / total:>6.1%}")
    lines.append(f"{'all':<14} {len(files):>6} {sum(c for c, _ in files.values()):>6} {total:>9.0f}")
    lines.append("")
    lines.append(f"{'file':<64} {'kind':<14} {'tests':>5} {'seconds':>8} {'per test':>8}")
    for path, (count, seconds) in sorted(files.items(), key=lambda item: -item[1][1])[:top]:
        lines.append(f"{path:<64} {kind_of(path):<14} {count:>5} {seconds:>8.1f} {seconds / count:>8.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.durations REPORT.xml")
    sys.stdout.write(table(Path(sys.argv[1])) + "\n")
