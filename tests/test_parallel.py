"""The groups of ``tests/parallel.py`` hold under ``make test``'s workers.

pytest-xdist 3.8 on pytest 9 silently ignores ``xdist_group`` (tests/parallel.py says why), so a
group (Chromium, the nginx stack, kill -9) would run on several workers at once without our
scheduler. This runs a small suite under ``-n 3 --dist loadgroup`` with our plugin, as
tests/conftest.py registers it, and reads which worker ran each test: a group's on one worker,
and each module's on one worker (its module-scoped server made once).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
import pytest

def pytest_configure(config):
    if config.pluginmanager.hasplugin("xdist"):
        from tests import parallel
        parallel.register(config)
"""

TESTS = """
import json, os, time
import pytest

def record(name, out):
    with open(out, "a") as f:
        f.write(json.dumps([name, os.environ["PYTEST_XDIST_WORKER"], time.monotonic()]) + "\\n")

@pytest.mark.xdist_group("solo")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n, tmp_path_factory):
    record(f"grouped{n}", os.environ["RECORD"])
    time.sleep(0.05)  # long enough for the other workers to be free and take work

@pytest.mark.parametrize("n", range(4))
def test_free(n):
    record(f"free{n}", os.environ["RECORD"])
    time.sleep(0.05)
"""

# Two more modules of free tests: each module is one unit (its module fixtures made once).
MODULE = """
import json, os, time
import pytest

@pytest.mark.parametrize("n", range(4))
def test_free(n):
    with open(os.environ["RECORD"], "a") as f:
        f.write(json.dumps([f"{__name__}:{n}", os.environ["PYTEST_XDIST_WORKER"], time.monotonic()]) + "\\n")
    time.sleep(0.05)
"""


def test_a_group_runs_on_one_worker_one_test_after_another(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_groups.py").write_text(TESTS)
    (tmp_path / "test_second.py").write_text(MODULE)
    (tmp_path / "test_third.py").write_text(MODULE)
    record = tmp_path / "record.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "3", "--dist", "loadgroup"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RECORD": str(record)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in record.read_text().splitlines()]
    grouped = [worker for name, worker, _ in rows if name.startswith("grouped")]
    assert len(grouped) == 6
    assert len(set(grouped)) == 1, f"the group ran on {sorted(set(grouped))}"
    by_module: dict[str, set[str]] = {}
    for name, worker, _ in rows:
        if not name.startswith("grouped"):
            by_module.setdefault(name.split(":")[0] if ":" in name else "test_groups", set()).add(worker)
    assert sorted(by_module) == ["test_groups", "test_second", "test_third"]
    assert all(len(workers) == 1 for workers in by_module.values()), by_module  # a module: one worker
    assert len(set().union(*by_module.values()) | set(grouped)) >= 2  # the units are shared out
