"""Browser fixtures: the system Chromium driven by Playwright against a live server.

The tests skip, saying why, when Chromium or the web page's npm bundle is absent
(CI runs with PARLEY_TEST_STRICT=1, where a skip fails the run).

One Playwright driver and one Chromium serve every browser test of a worker: starting them cost
about 2 s of CPU and 3-7 s of a loaded machine's time per test, and the browser tests run one
after another (tests/conftest.py's ``browser`` group). Each page still gets a fresh browser
context (its own storage and cookies, like a new person). The driver's connection lives on the
loop it was made on, so these tests and every async fixture they use run on the session's loop
(``loop_scope="session"``): tests/conftest.py marks the tests, and this module gives them
``live_server``, ``oidc`` and ``sso`` on that loop (a test elsewhere keeps its own loop's).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Playwright, async_playwright, expect

from server.config import Settings
from tests.sso_support import Provider, provider
from tests.support import LiveServer, running_on
from tests.web.chat_page import ChatPage

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.esm.min.js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
# The page exposes window.__parleyTest.chat() (its controller: state, the token refresher's clock)
# only when this is set before it loads.
TEST_HOOKS = "window.__parleyTest = {};"
PHONE = {"width": 390, "height": 844}


# Chromium's headless shell (Debian's chromium-headless-shell, the build Playwright itself runs
# headless) for the page tests: the full browser in headless mode cost 36 s of CPU for
# tests/web/test_workspace.py's twelve tests, the shell 20 s, on two cores the whole suite shares.
# The shell denies notifications outright (Notification.permission is "denied", and a service
# worker may not show one): the tests marked ``full_chromium`` run in the full browser.
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"


def _chromium() -> str | None:
    """The full browser's executable, or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class Chromium:
    """The worker's Playwright driver and browsers (the shell, and the full browser for the tests
    that need it), each started at first use; launched again should it have gone (a crash must
    not fail every browser test after it)."""

    def __init__(self, playwright: Playwright, full: str) -> None:
        self.playwright = playwright
        self.full = full
        self.executable = HEADLESS_SHELL if os.access(HEADLESS_SHELL, os.X_OK) else full
        self.browsers: dict[str, Browser] = {}

    async def running(self, full: bool = False) -> Browser:
        executable = self.full if full else self.executable
        browser = self.browsers.get(executable)
        if browser is None or not browser.is_connected():
            browser = await self.playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            self.browsers[executable] = browser
        return browser


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Chromium]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no system Chromium (/usr/bin/chromium): apt-get install -y chromium")
    if not BUNDLE.exists():
        pytest.skip("web/node_modules is missing: run `npm ci` in web/")
    async with async_playwright() as playwright:
        shared = Chromium(playwright, executable)
        try:
            yield shared
        finally:
            for browser in shared.browsers.values():
                await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium: Chromium, request: pytest.FixtureRequest) -> AsyncIterator[Browser]:
    """The worker's Chromium (the full browser for a test marked ``full_chromium``); whatever
    contexts a test left open are closed after it."""
    expect.set_options(timeout=10_000)
    running = await chromium.running(full=request.node.get_closest_marker("full_chromium") is not None)
    yield running
    for context in running.contexts:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def live_server(settings: Settings, database: str) -> AsyncIterator[LiveServer]:
    """tests/conftest.py's ``live_server``, on the session's loop."""
    async with running_on(settings, database) as server:
        yield server


@pytest_asyncio.fixture(loop_scope="session")
async def oidc(node: str) -> AsyncIterator[Provider]:
    """tests/sso_support.py's ``oidc``, on the session's loop."""
    async with provider(node) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def sso(live_server: LiveServer, oidc: Provider) -> LiveServer:
    """tests/sso_support.py's ``sso``, on the session's loop."""
    await oidc.configure(live_server.url)
    return live_server


NewPage = Callable[..., Awaitable[ChatPage]]
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Note a failed test body for ``new_page``'s teardown, which then prints each page's timeline."""
    outcome = yield
    if call.when == "call":
        item.stash[CALL_FAILED] = outcome.get_result().failed


@pytest.fixture
def page_scripts() -> tuple[str, ...]:
    """What every page of a test runs before its own scripts (a module may add to it)."""
    return (TEST_HOOKS,)


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest, page_scripts: tuple[str, ...]
) -> AsyncIterator[NewPage]:
    """Open a chat page in a fresh browser context (its own sessionStorage, like a new person)."""
    pages: list[ChatPage] = []
    ARTIFACTS.mkdir(exist_ok=True)

    async def open_page(name: str, viewport: dict[str, int] | None = None) -> ChatPage:
        # Reduced motion: the page then has no transitions, so screenshots show settled states.
        context = await browser.new_context(viewport=viewport or DESKTOP, reduced_motion="reduce")
        context.set_default_timeout(10_000)
        for script in page_scripts:
            await context.add_init_script(script)
        page = ChatPage(await context.new_page(), live_server.url, name, ARTIFACTS / request.node.name)
        await page.open()
        pages.append(page)
        return page

    yield open_page
    if request.node.stash.get(CALL_FAILED, False):  # into the failure's report, as a section of its own
        for p in pages:
            text = "\n".join(p.timeline)
            request.node.add_report_section("teardown", f"{p.name}'s page (seconds since it opened)", text)
    errors = [f"{p.name}: {e}" for p in pages for e in p.page_errors]
    for p in pages:
        await p.page.context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
