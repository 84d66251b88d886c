"""/docs (Swagger UI) and /redoc work offline: their assets come from npm via the server, never a
CDN, and they run under their Content-Security-Policy without a violation."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.web.offline import offline_page

pytestmark = pytest.mark.browser

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# ReDoc lays out the whole OpenAPI document before its first heading, and its search worker
# indexes all of it: each took over the usual 10 s bound on a loaded 2-core machine (beside other
# test runs; under 2 s idle), so these two waits have a longer deadline.
REDOC = 30_000


async def test_swagger_ui_renders_the_operations_with_the_network_cut_off(browser, live_server) -> None:
    async with offline_page(browser) as watched:
        response = await watched.page.goto(f"{live_server.url}/docs")
        assert response is not None and response.status == 200
        assert "content-security-policy" in response.headers
        page = watched.page
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Parley")
        login = page.locator(".opblock-post", has_text="/api/auth/login")
        await expect(login).to_be_visible()
        # Every /api route and the ops routes. Past about 125 operations Swagger UI renders them as a
        # virtual list (only what is in view is in the page), so they are counted in its state.
        assert await page.evaluate("window.ui.specSelectors.operations().size") >= 120
        await login.locator(".opblock-summary").click()  # an operation opens: the UI is live
        await expect(login.locator(".opblock-body")).to_be_visible()

        # Authorize with a token, then try an operation of the main API: it goes out with the token.
        token = await live_server.register("alice")
        await page.locator(".auth-wrapper .authorize").click()
        dialog = page.locator(".dialog-ux .modal-ux")
        await expect(dialog).to_contain_text("POST /api/auth/login")  # the scheme says where tokens come from
        users = dialog.locator("form").filter(has_text="bearer (http, Bearer)")  # the server keys' is apart
        await expect(dialog.locator("form").filter(has_text="serverKey (http, Bearer)")).to_be_visible()
        await users.locator("input").fill(token)
        await users.locator(".auth-btn-wrapper .authorize").click()
        await dialog.locator(".auth-btn-wrapper .btn-done").first.click()
        topics = page.locator(".opblock-get").filter(has=page.locator("[data-path='/api/topics']"))
        for _ in range(40):  # the operations are a virtual list: scrolled into view, they are drawn
            if await topics.count():
                break
            await page.mouse.wheel(0, 600)
            await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")
        await topics.locator(".opblock-summary").click()
        await topics.locator(".try-out__btn").click()
        await topics.locator(".execute").click()
        status = topics.locator(".live-responses-table .response .response-col_status")
        await expect(status).to_have_text("200")
        await watched.assert_clean()


async def test_redoc_renders_the_operations_with_the_network_cut_off(browser, live_server) -> None:
    async with offline_page(browser) as watched:
        response = await watched.page.goto(f"{live_server.url}/redoc")
        assert response is not None and response.status == 200
        assert "content-security-policy" in response.headers
        page = watched.page
        await expect(page.locator(".api-info h1")).to_contain_text("Parley", timeout=REDOC)
        await expect(page.get_by_role("heading", name="Login", exact=False).first).to_be_visible()
        await page.get_by_placeholder("Search...").fill("login")  # the search runs in a blob: worker
        await expect(page.locator("[data-role='search:results']")).to_be_visible(timeout=REDOC)
        # ReDoc always shows Redocly's logo from its CDN (no option turns it off): the policy's
        # img-src blocks it before any request is made, and ReDoc hides the broken image.
        assert set(await watched.violations()) <= {f"img-src {REDOCLY_LOGO}"}
        watched.console_errors = [text for text in watched.console_errors if REDOCLY_LOGO not in text]
        await watched.page.evaluate("window.__violations = []")
        await watched.assert_clean()
