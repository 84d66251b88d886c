"""Browser fixtures: the system Chromium driven by Playwright against a live server.

The tests skip, saying why, when Chromium or the web page's npm bundle is absent
(CI runs with PARLEY_TEST_STRICT=1, where a skip fails the run).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect

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


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = _chromium()
    if executable is None:
        pytest.skip("no system Chromium (/usr/bin/chromium): apt-get install -y chromium")
    if not BUNDLE.exists():
        pytest.skip("web/node_modules is missing: run `npm ci` in web/")
    expect.set_options(timeout=10_000)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


NewPage = Callable[..., Awaitable[ChatPage]]
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Note a failed test body for ``new_page``'s teardown, which then prints each page's timeline."""
    outcome = yield
    if call.when == "call":
        item.stash[CALL_FAILED] = outcome.get_result().failed


@pytest.fixture
async def new_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> AsyncIterator[NewPage]:
    """Open a chat page in a fresh browser context (its own sessionStorage, like a new person)."""
    pages: list[ChatPage] = []
    ARTIFACTS.mkdir(exist_ok=True)

    async def open_page(name: str, viewport: dict[str, int] | None = None) -> ChatPage:
        # Reduced motion: the page then has no transitions, so screenshots show settled states.
        context = await browser.new_context(viewport=viewport or DESKTOP, reduced_motion="reduce")
        context.set_default_timeout(10_000)
        await context.add_init_script(TEST_HOOKS)
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
