"""The Socket.IO Admin UI at /admin/, served by Parley from npm, in Chromium with the network cut
off: log in with the configured credentials, see the chat sockets (and their users) and rooms."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support import general_with, running
from tests.support import test_settings as make_settings
from tests.web.offline import offline_page

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "tangerine-kettle-49"


async def test_an_admin_logs_in_and_sees_the_sockets_and_topic_rooms(browser, tmp_path) -> None:
    settings = make_settings(tmp_path / "data", admin_ui=True, admin_password=ADMIN_PASSWORD)
    async with running(settings) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        await general_with(alice, bob)
        sids = [client.sio.get_sid("/") for client in (alice, bob)]
        manager = server.app.state.admin.sio.manager
        ids = {room for sid in sids for room in manager.get_rooms(sid, "/") if room.startswith("topic:")}
        assert len(ids) == 2  # the lobby and general, by id on the server
        topic_rooms = ["topic:lobby", "topic:general", "user:alice", "user:bobby"]  # by name in the UI

        async with offline_page(browser, viewport={"width": 1400, "height": 900}) as watched:
            page = watched.page
            response = await page.goto(f"{server.url}/admin/")
            assert response is not None and response.status == 200
            await expect(page.get_by_label("Server URL")).to_have_value(server.url)  # same origin by default
            await page.get_by_label("Username").fill("admin")
            await page.get_by_label("Password").fill(ADMIN_PASSWORD)
            await page.get_by_role("button", name="Connect").click()
            await expect(page.get_by_text("connected", exact=True).first).to_be_visible()

            await page.locator("nav").get_by_text("Sockets", exact=True).click()
            for sid in sids:
                await expect(page.get_by_text(sid)).to_be_visible()

            await page.locator("nav").get_by_text("Rooms", exact=True).click()
            for room in topic_rooms:
                await expect(page.get_by_text(room, exact=True)).to_be_visible()
            for room in ids:
                await expect(page.get_by_text(room, exact=True)).to_have_count(0)
            await watched.assert_clean()
