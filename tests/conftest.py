"""Shared fixtures. In CI (PARLEY_TEST_STRICT=1) a skipped test is a failure."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import LiveServer, running, test_settings


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return test_settings(tmp_path / "data")


@pytest.fixture
async def live_server(settings) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    """A real uvicorn on 127.0.0.1:0 over a fresh SQLite file."""
    async with running(settings) as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PARLEY_TEST_STRICT") == "1" and report.skipped and call.when in ("setup", "call"):
        report.outcome = "failed"
        report.longrepr = f"skipped in strict mode (CI must run everything): {report.longrepr}"
