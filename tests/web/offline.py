"""A browser page with the network cut off except the server under test, watched for
console errors, uncaught errors and Content-Security-Policy violations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, ConsoleMessage, Page, Route

# Every violation the page's policy reports, whatever the console says about it.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Watched:
    page: Page
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    async def violations(self) -> list[str]:
        found: list[str] = await self.page.evaluate("window.__violations")
        return found

    async def assert_clean(self) -> None:
        """Nothing left the machine, nothing failed, the policy blocked nothing."""
        assert self.blocked == [], self.blocked
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert await self.violations() == []


@asynccontextmanager
async def offline_page(browser: Browser, **context_options: object) -> AsyncIterator[Watched]:
    """A page in a fresh context whose requests to anything but 127.0.0.1 are aborted (and listed)."""
    context = await browser.new_context(**context_options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    watched = Watched(page)

    async def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            watched.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            watched.console_errors.append(message.text)

    await context.route("**/*", only_local)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    try:
        yield watched
    finally:
        await context.close()
