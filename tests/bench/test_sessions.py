"""``bench.sessions`` runs the chat's own connect work for real users at a tiny size.

Its figure is a lower bound in issue 25's reasoning (the floor plus it), so it must measure real
opens: every session opened with a real token, all still open at the end, one line per slice.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(120)
def test_every_user_opens_a_session_and_every_slice_is_measured() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sessions", "--users", "30", "--concurrency", "7", "--slice", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    slices = re.findall(r"opens +(\d+)-(\d+) +([\d.]+) us CPU/open", done.stdout)
    assert [(int(a), int(b)) for a, b, _ in slices] == [(1, 10), (11, 20), (21, 30)], done.stdout
    assert all(float(cpu) > 0 for _, _, cpu in slices), done.stdout
    assert "30 sessions open at the end" in done.stdout
    assert "Traceback" not in done.stderr
