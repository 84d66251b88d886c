"""The test's time bound paused while its report is written (a plugin of tests/conftest.py).

pytest-timeout bounds a test with SIGALRM from its setup to its teardown. A test that failed near
its bound had the alarm go off inside the report's formatting, which walks the failing source's
syntax tree and is slow on a loaded machine: the exception escaped the hook wrappers as an internal
error, the xdist worker crashed and took the whole run down with it (a CI run under load: one
Chromium test past 60 s, then ``INTERNALERROR ... assert not crashitem`` and 2,700 tests unrun).
Writing a report is our own in-process work and cannot hang, so it is left out of the bound.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # the outermost wrapper: it covers the others
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    if remaining:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining)
