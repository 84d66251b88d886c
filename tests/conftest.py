"""Shared fixtures. In CI (PARLEY_TEST_STRICT=1) a skipped test is a failure."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from server.collector import MIDDLE, OLD, YOUNG
from tests import services
from tests.app_tokens_support import app_site  # noqa: F401 (a fixture: an application's key set, served)
from tests.js.conftest import node  # noqa: F401 (a fixture: the single sign-on tests' provider runs on Node)
from tests.ports import free_port
from tests.sso_support import oidc, sso  # noqa: F401 (fixtures: single sign-on's provider, tests/sso_support.py)
from tests.support import LiveServer, forget_apps, running_on, test_settings

pytest_plugins = ["tests.report_bound"]  # a failing test's report is written outside its time bound

# Hypothesis (the fuzz tests): "ci" is small, fixed and database-less so a run is repeatable;
# HYPOTHESIS_PROFILE=deep explores more, with a new seed each run and the example database.
# No "explain" phase: its line tracer makes a failing example minutes slow before Python 3.12.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
hypothesis_settings.register_profile(
    "ci", max_examples=30, deadline=None, derandomize=True, database=None, phases=PHASES, print_blob=True
)
hypothesis_settings.register_profile("deep", max_examples=400, deadline=None, phases=PHASES)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return test_settings(tmp_path / "data")


@pytest.fixture
def unused_tcp_port() -> int:
    """pytest-asyncio's, from tests/ports.py: a port below the ephemeral range, which another
    worker's in-process servers (port 0) are never given."""
    return free_port()


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """Which database the server under test uses: ``sqlite`` unless parametrized."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def live_server(settings, database) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    """A real uvicorn on 127.0.0.1:0 over a fresh SQLite file (or a fresh PostgreSQL database)."""
    async with running_on(settings, database) as server:
        yield server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_databases`` run on SQLite and on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_databases") and "database" in metafunc.fixturenames:
        metafunc.parametrize(
            "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
        )


# Parallel workers (``make test`` runs ``-n 3 --dist loadgroup``, see tests/parallel.py): tests are
# independent (their own tmp_path, SQLite file, PostgreSQL database, Redis channel, port 0) except
# these groups, each run on one worker, one test after another (a test joins the first that
# matches): Chromium is heavy and its 10 s page waits are the first to starve on two cores; the
# nginx module shares one module-scoped stack (two nodes and nginx); the crash and process tests
# spawn real servers and time them (kill -9, the presence TTL, worker processes). The tests that
# run Node.js have no group: tests/js/conftest.py installs its packages under a lock.
BROWSER_SECOND = tuple(
    f"tests/web/test_{name}.py"
    for name in ("calls", "chat", "workspace", "notifications", "session", "search", "accessibility", "emoji")
)
GROUPS = {
    "nginx": lambda item: item.nodeid.startswith("tests/deploy/test_nginx.py"),
    # Two Chromium groups, each on its own worker with its own browser: one group held all 128
    # page tests one after another, and with the calls' media tests (a minute each) that worker
    # alone took most of the run's 22 minutes while the other two had long finished. The second
    # holds the costliest files (media, many pages or many users), about half the time.
    "browser-2": lambda item: (
        "browser" in getattr(item, "fixturenames", ()) and item.nodeid.startswith(BROWSER_SECOND)
    ),
    "browser": lambda item: "browser" in getattr(item, "fixturenames", ()),
    # tests on the shared database's own schemas (``postgres_engine``): a migration creates the
    # ``unaccent`` extension in its schema and dropping that schema drops it, so two at once race
    # (one finds it gone, or both create it: a unique violation in ``pg_extension``)
    "pg-schemas": lambda item: "postgres_engine" in getattr(item, "fixturenames", ()),
    # tests/test_dockerfile.py's module fixture runs ``pip install .``, which builds in the source
    # tree's build/: two workers each running it at once collide there ("File exists")
    "image": lambda item: item.nodeid.startswith("tests/test_dockerfile.py"),
    # Two groups of them, so that two workers share them: each test has its own ports, data
    # directory, PostgreSQL database (the retention sweep's advisory lock is per database) and
    # Redis channel, so one of each group at a time is safe; one group held them all, about
    # 1,000 s of one worker in CI, near the whole run's 20-minute target.
    "processes": lambda item: item.nodeid.startswith(
        (
            "tests/durability/test_kill9.py",
            "tests/durability/test_retention_kill9.py",
            "tests/scaleout/test_node_crash.py",
            "tests/scaleout/test_workers.py",
        )
    ),
    "processes-outboxes": lambda item: item.nodeid.startswith(
        (
            "tests/durability/test_webhooks_kill9.py",
            "tests/durability/test_push_kill9.py",
            "tests/durability/test_erasure_kill9.py",
            # a kill -9 under a storm of reconnecting clients: beside the other workers' load
            # it passed the default 60 s bound (CI: both tests, 60.6 s each, with 200 clients)
            "tests/edge/sio/test_reconnect_storm.py",
        )
    ),
}
# The crash tests push hundreds of acknowledged sends through a real server process, and start a
# server two or three times each: beside the other workers on a loaded machine, past the default
# 60 s bound.
TIMEOUTS = {"processes": 180, "processes-outboxes": 180}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark a test of a group as it is collected (tests/parallel.py hands the marks to xdist)."""
    group = next((name for name, member in GROUPS.items() if member(item)), None)
    if group:
        item.add_marker(pytest.mark.xdist_group(group))
    if group in TIMEOUTS and item.get_closest_marker("timeout") is None:  # a test's own bound wins
        item.add_marker(pytest.mark.timeout(TIMEOUTS[group]))
    if "browser" in getattr(item, "fixturenames", ()):
        # One Chromium per worker (tests/web/conftest.py): its Playwright connection lives on the
        # session's loop, so the test does too (before the marker pytest-asyncio's auto mode gave it).
        item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PARLEY_TEST_STRICT") == "1" and report.skipped and call.when in ("setup", "call"):
        report.outcome = "failed"
        report.longrepr = f"skipped in strict mode (CI must run everything): {report.longrepr}"


@pytest.hookimpl(trylast=True)  # after the test's fixtures are torn down (its server stopped)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    forget_apps()


SERVICES: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    SERVICES[:] = services.detect()
    if config.pluginmanager.hasplugin("xdist"):  # absent with -p no:xdist
        from tests import parallel

        parallel.register(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return SERVICES


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = [
        str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for report in skipped
    ]
    lines = services.skip_summary(reasons)
    if lines:
        terminalreporter.section("what was skipped, and how to run it")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test process collects its garbage as a served process does (``server.collector``): what
    the imports and the collection made is frozen, and the young generation is collected every
    20,000 allocations instead of 700. A test process hosts hundreds of apps one after another,
    and each default collection walked them: 49.9-53.9 -> 41.5-50.0 s of CPU for four live-server
    files (163 tests, two runs each, alternated). Per app it stays off (``gc_tuning`` False):
    each app's ``gc.freeze()`` would keep every earlier app of the process for good."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
