"""The Admin UI's Reports page at /admin/reports (PROTOCOL.md section 10), in Chromium with the
network cut off: log in with the Admin UI's account, see the reports, delete a reported message
and disable its sender; the chat's clients see both happen."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.support import WAIT, running, send
from tests.support import test_settings as make_settings
from tests.web.offline import offline_page

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "tangerine-kettle-49"


async def test_an_operator_lists_reports_deletes_the_message_and_disables_the_sender(
    browser, tmp_path
) -> None:
    settings = make_settings(
        tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD, admin_read_only=False
    )
    async with running(settings) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        await alice.ok("topic:create", {"name": "general"})
        await bob.ok("topic:subscribe", {"topic": "general"})
        rude = await send(alice, {"topic": "general", "body": "you are all fools"})
        assert (await bob.next("message"))["id"] == rude["id"]
        await bob.ok("message:report", {"id": rude["id"], "reason": "insults everyone"})

        async with offline_page(browser, viewport={"width": 1400, "height": 900}) as watched:
            page = watched.page
            response = await page.goto(f"{server.url}/admin/reports")
            assert response is not None and response.status == 200
            await page.get_by_label("Username").fill("admin")
            await page.get_by_label("Password").fill(ADMIN_PASSWORD)
            await page.get_by_role("button", name="Show reports").click()

            row = page.locator("#reports tbody tr")
            await expect(row).to_have_count(1)
            for text in ("bobby", "insults everyone", "general", "alice", "you are all fools"):
                await expect(row.get_by_text(text, exact=False).first).to_be_visible()
            link = row.get_by_role("link", name=f"#{rude['id']}")
            assert await link.get_attribute("href") == (
                f"/api/topics/general/messages?before_seq={rude['seq'] + 1}&limit=1"
            )

            await row.get_by_role("button", name="Delete message").click()
            await expect(page.get_by_role("status")).to_have_text(f"deleted message {rude['id']}")
            assert await bob.next("message:deleted") == {"id": rude["id"], "topic": "general"}
            await expect(row.get_by_text("(deleted)")).to_be_visible()
            await expect(row.get_by_role("button", name="Delete message")).to_have_count(0)

            await row.get_by_role("button", name="Disable alice").click()
            await expect(page.get_by_role("status")).to_have_text(
                "disabled alice: tokens revoked, open sockets close"
            )
            await asyncio.wait_for(alice.sio.wait(), WAIT)  # her socket was closed
            async with server.chat.db.read() as repos:
                user = await repos.users.by_name("alice")
            assert user is not None and user.disabled_at is not None
            await watched.assert_clean()
