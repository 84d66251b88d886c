"""Section 12 in the page: an owner creates an incoming webhook from the topic settings, the URL
shown once posts as the hook's bot, and the message shows the BOT tag; the Bots section makes a
bot and a token that connects."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_a_hook_made_in_the_page_posts_a_bot_message_with_the_badge(new_page, live_server) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("ops")
    await alice.open_settings()

    await alice.by("hook-create").click()
    await expect(alice.by("hook-url")).to_be_visible()
    url = await alice.by("hook-url-value").input_value()
    await expect(alice.by("hook-item")).to_have_count(1)
    await expect(alice.by("hook-item")).to_contain_text("ops-hook")
    posted = await live_server.http.post(url, json={"text": "deploy finished"})
    assert posted.status_code == 200, posted.text

    message = alice.message("deploy finished")
    await expect(message).to_be_visible()
    await expect(message).to_have_attribute("data-bot", "true")
    await expect(message.get_by_test_id("bot-badge")).to_have_text("BOT")
    await expect(message.get_by_test_id("message-sender")).to_contain_text("ops-hook")

    await alice.by("hook-revoke").click()
    await expect(alice.by("hook-item")).to_have_count(0)
    assert (await live_server.http.post(url, json={"text": "late"})).status_code == 404


async def test_the_bots_section_makes_a_bot_and_a_token_shown_once(new_page, live_server) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("ops")
    await alice.open_settings()

    await alice.by("bot-name").fill("helper")
    await alice.by("bot-create").click()
    await expect(alice.by("bot-item")).to_have_count(1)
    await alice.by("bot-token-create").click()
    await expect(alice.by("bot-token")).to_be_visible()
    token = await alice.by("bot-token-value").input_value()
    assert token.startswith("pb_")
    await expect(alice.by("bot-token-item")).to_have_count(1)

    me = await live_server.http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.json()["username"], me.json()["bot"]) == ("helper", True)
    await alice.by("bot-token-revoke").click()
    await expect(alice.by("bot-token-item")).to_have_count(0)
    me = await live_server.http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
