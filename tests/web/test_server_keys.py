"""The server API's keys in the administration view (PROTOCOL.md sections 17 and 19): an owner
makes a key with chosen scopes and sees it once, the list shows it without the key, the key
works on the server API, and revoking it in the view makes the server refuse it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.support import LiveServer, bearer

pytestmark = pytest.mark.browser


async def test_an_owner_makes_a_key_sees_it_once_and_revokes_it(new_page, live_server: LiveServer) -> None:
    owner = await new_page("owner")
    await owner.register("alice")  # the first account of an empty server: its owner
    await owner.by("admin-open").click()
    view = owner.by("admin-view")
    panel = view.get_by_test_id("admin-panel-keys")
    await view.get_by_test_id("admin-tab-keys").click()
    await expect(panel.get_by_text("No server key yet.")).to_be_visible()
    await view.get_by_test_id("admin-key-label").fill("Billing backend")
    await view.locator("#admin-key-scope-presence").uncheck()
    await view.get_by_test_id("admin-key-create").click()
    created = view.get_by_test_id("admin-key-created")
    await expect(created).to_contain_text("Key for Billing backend: psk_")
    key = re.search(r"psk_\S+", await created.inner_text())
    assert key is not None
    item = view.get_by_test_id("admin-key")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("disconnect, members, publish, users")
    await expect(item).to_contain_text("sends as Billing-backend")
    assert key.group(0) not in await view.get_by_test_id("admin-keys").inner_text()
    await owner.screenshot("admin-keys")

    headers = bearer(key.group(0))
    body = {"topic": "lobby", "body": "from the backend"}
    sent = await live_server.http.post("/api/server/messages", headers=headers, json=body)
    assert sent.status_code == 201, sent.text
    await item.get_by_test_id("admin-key-revoke").click()
    await expect(item).to_have_count(0)
    await expect(panel.get_by_test_id("admin-status")).to_contain_text("The key Billing backend is revoked.")
    refused = await live_server.http.post("/api/server/messages", headers=headers, json=body)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
