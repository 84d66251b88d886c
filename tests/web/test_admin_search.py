"""The operators' message search (/admin/search, beside the Socket.IO Admin UI) in Chromium with
the network cut off: reached from the Admin UI's page, signed in with the Admin UI's credentials,
it finds the messages of every conversation (a private topic, a direct one) with their highlights."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.support import running, send
from tests.support import test_settings as make_settings
from tests.web.conftest import ARTIFACTS
from tests.web.offline import offline_page

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "tangerine-kettle-49"


async def test_an_operator_searches_every_conversation(browser, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD)
    async with running(settings) as server:
        alice, _bob = await server.user("alice"), await server.user("bobby")
        await alice.ok("topic:create", {"name": "vault", "private": True})
        hidden = await send(alice, {"topic": "vault", "body": "the <b>kiwi</b> plan"})
        direct = await send(alice, {"to": "bobby", "body": "a kiwi for you"})

        async with offline_page(browser, viewport={"width": 1280, "height": 800}) as watched:
            page = watched.page
            await page.goto(f"{server.url}/admin/")
            await page.locator("#parley-search-link").click()  # the link the Admin UI's page gets
            await expect(page).to_have_url(f"{server.url}/admin/search")
            await page.get_by_test_id("admin-user").fill("admin")
            await page.get_by_test_id("admin-password").fill(ADMIN_PASSWORD)
            await page.get_by_test_id("admin-login").click()
            await page.get_by_test_id("admin-search-input").fill("kiwi")
            await page.get_by_test_id("admin-search-input").press("Enter")

            hits = page.get_by_test_id("admin-search-hit")
            await expect(hits).to_have_count(2)
            await expect(hits.nth(0)).to_have_attribute("data-id", str(direct["id"]))
            await expect(hits.nth(1)).to_have_attribute("data-id", str(hidden["id"]))
            await expect(hits.nth(1).get_by_test_id("admin-search-place")).to_have_text("#vault")
            text = hits.nth(1).get_by_test_id("admin-search-highlight")
            await expect(text).to_have_text("the <b>kiwi</b> plan")
            await expect(text.locator("mark")).to_have_text("kiwi")
            await expect(page.get_by_test_id("admin-search-status")).to_have_text(re.compile("^2 messages"))
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "test_an_operator_searches_every_conversation.png"))
            await watched.assert_clean()
