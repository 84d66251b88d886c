"""A test that fails near its time bound is reported as a failure, and the run goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Writing the report takes longer than what is left of the test's bound (a stand-in for the
# formatting of a failure's source on a loaded machine), innermost among the hook wrappers.
SLOW_REPORT = """
import time
import pytest

@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item, call):
    if call.when == "call":
        time.sleep(1.5)
    yield
"""
TESTS = """
import pytest

@pytest.mark.timeout(1)
def test_fails_within_its_bound():
    assert False

def test_after_it():
    pass
"""


def run(tmp_path: Path, *plugins: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(SLOW_REPORT)
    (tmp_path / "test_inner.py").write_text(TESTS)
    # its own rootdir and only pytest-timeout: none of this suite's configuration or plugins
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_timeout"]
    for plugin in plugins:
        args += ["-p", plugin]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [*args, "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_failure_is_reported_and_the_next_test_runs(tmp_path: Path) -> None:
    result = run(tmp_path, "tests.report_bound")
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "INTERNALERROR" not in result.stdout + result.stderr


def test_without_the_pause_the_alarm_breaks_the_report(tmp_path: Path) -> None:
    """What the plugin is for: the same run without it ends in an internal error, the next test unrun."""
    result = run(tmp_path)
    assert "INTERNALERROR" in result.stdout + result.stderr
    assert "1 passed" not in result.stdout
