"""The web page's "Download my data" (PROTOCOL.md section 16): in "My account", the button
asks for an export, waits while it is built and saves the ZIP (a real download in Chromium), which
holds what the user sent; within the hour the server refuses another, and the button fetches the
same export again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.exports_support import read
from tests.support import PASSWORD, LiveServer, bearer
from tests.web.conftest import NewPage

pytestmark = pytest.mark.browser


async def open_account(page) -> Any:  # type: ignore[no-untyped-def]
    """ "My account", beside the password and the sessions (not in Notifications: issue 55, row 13)."""
    await page.by("account-open").click()
    dialog = page.by("account-dialog")
    await expect(dialog).to_be_visible()
    return dialog


async def test_download_my_data_saves_the_zip(live_server: LiveServer, new_page: NewPage) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    login = {"username": "alice", "password": PASSWORD}
    headers = bearer((await live_server.http.post("/api/auth/login", json=login)).json()["token"])
    made = await live_server.http.post("/api/topics", json={"name": "general"}, headers=headers)
    assert made.status_code == 201, made.text
    message = {"topic": "general", "body": "mine to keep"}
    said = await live_server.http.post("/api/messages", json=message, headers=headers)
    assert said.status_code == 201, said.text
    dialog = await open_account(alice)
    button = dialog.get_by_test_id("export-download")
    await expect(button).to_have_text("Download my data")

    async with alice.page.expect_download() as started:
        await button.click()
    download = await started.value
    name = download.suggested_filename
    assert name.startswith("parley-export-") and name.endswith(".zip")
    saved = Path(await download.path())
    export = read(saved.read_bytes())
    assert [line["body"] for line in export.messages] == ["mine to keep"]
    assert export.profile["username"] == "alice"
    await expect(dialog.get_by_test_id("export-state")).to_have_attribute("data-state", "ready")

    async with alice.page.expect_download() as again:  # within the hour: the same export once more
        await button.click()
    assert (await again.value).suggested_filename == download.suggested_filename
