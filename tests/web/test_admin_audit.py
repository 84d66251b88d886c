"""The Admin UI's Audit log page at /admin/audit (PROTOCOL.md section 16), in Chromium with the
network cut off: a wrong password is refused, then the operator signs in (itself a row), sees a
moderator's kick and filters the list by actor and action."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support import running
from tests.support import test_settings as make_settings
from tests.web.offline import offline_page

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "tangerine-kettle-49"


async def test_an_operator_signs_in_and_filters_the_audit_log(browser, tmp_path) -> None:
    settings = make_settings(tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD)
    async with running(settings) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        await alice.ok("topic:create", {"name": "general"})
        await bob.ok("topic:subscribe", {"topic": "general"})
        await alice.ok("topic:kick", {"topic": "general", "username": "bobby", "reason": "noise"})

        async with offline_page(browser, viewport={"width": 1400, "height": 900}) as watched:
            page = watched.page
            response = await page.goto(f"{server.url}/admin/audit")
            assert response is not None and response.status == 200
            await page.get_by_label("Username").fill("admin")
            await page.get_by_label("Password").fill("not-the-password")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("status")).to_have_text("invalid credentials")
            await expect(page.locator("#entries")).to_be_hidden()

            await page.get_by_label("Password").fill(ADMIN_PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            rows = page.locator("#entries tbody tr")
            await expect(rows).to_have_count(3)  # the sign-in, the refused one, the kick
            await expect(rows.nth(0)).to_contain_text("admin.login")
            await expect(rows.nth(1)).to_contain_text("admin.login_refused")
            await expect(rows.nth(2)).to_contain_text("topic.kick")
            await expect(rows.nth(2)).to_contain_text('{"reason":"noise"}')

            await page.get_by_label("Actor").fill("ALICE")
            await page.get_by_role("button", name="Show").click()
            await expect(rows).to_have_count(1)
            for text in ("alice", "topic.kick", "bobby", "general"):
                await expect(rows.first.get_by_text(text, exact=True)).to_be_visible()
            await page.get_by_label("Actor").fill("")
            await page.get_by_label("Action").fill("admin.login")
            await page.get_by_role("button", name="Show").click()
            await expect(rows).to_have_count(1)
            await expect(page.get_by_role("status")).to_have_text("1 rows, newest first")

            await page.reload()  # signed in for the tab: straight to the list, no new sign-in row
            await expect(rows).to_have_count(3)
            # the refused sign-in's 401 is the browser's one console line; nothing else went wrong
            refusal = "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
            assert watched.console_errors == [refusal]
            watched.console_errors.clear()
            await watched.assert_clean()
