"""``parley serve --workers``: a count or ``auto`` (one per core this process may use), parsed in-process.

The refusals (no Redis, polling) run the command: ``tests/cli/test_commands.py``.
"""

from __future__ import annotations

import os

import pytest

from server.cli import _parser
from server.cli.serve import usable_cores


def workers(*args: str) -> int:
    return int(_parser().parse_args(["serve", *args]).workers)


def test_one_worker_unless_asked():
    assert workers() == 1


def test_a_count_is_taken_as_given():
    assert workers("--workers", "3") == 3


def test_auto_is_one_per_core_this_process_may_use():
    assert workers("--workers", "auto") == usable_cores() == len(os.sched_getaffinity(0))


def test_auto_follows_the_affinity_not_the_machine():
    """A container's cpuset or ``taskset -c 0`` leaves fewer cores than ``os.cpu_count()``."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        assert workers("--workers", "auto") == 1
    finally:
        os.sched_setaffinity(0, allowed)


@pytest.mark.parametrize("value", ["0", "-2", "many", ""])
def test_anything_else_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exited:
        workers("--workers", value)
    assert exited.value.code == 2
    assert "a positive number of workers, or auto" in capsys.readouterr().err
