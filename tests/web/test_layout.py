"""The page on a phone, and a long history read by scrolling back."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.web.conftest import PHONE

pytestmark = pytest.mark.browser


async def test_the_chat_is_usable_at_phone_width(new_page) -> None:
    alice = await new_page("alice", viewport=PHONE)
    await alice.register("alice")
    await alice.expect_open("lobby")  # a new user lands in the lobby, the drawer closed
    await expect(alice.by("sidebar")).not_to_be_in_viewport()
    await alice.screenshot("start")

    await alice.create_topic("pocket")
    await expect(alice.by("sidebar")).not_to_be_in_viewport()
    await alice.send("Typed on a small screen, and it fits.")
    await alice.screenshot("conversation")

    assert await alice.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await alice.by("sidebar-toggle").click()
    await expect(alice.by("sidebar")).to_be_in_viewport()
    await expect(alice.topic("pocket")).to_be_visible()
    await alice.screenshot("sidebar")

    await alice.page.keyboard.press("Escape")
    await expect(alice.by("sidebar")).not_to_be_in_viewport()


async def test_scrolling_up_reads_the_whole_history(new_page, live_server) -> None:
    carol = await live_server.user("carol")
    await carol.ok("topic:create", {"name": "archive"})
    for n in range(1, 121):
        await carol.ok("message:send", {"topic": "archive", "body": f"archived message {n}"})
    alice = await new_page("alice")
    await alice.register("alice")

    await alice.open_topic("archive")  # a public topic can be read before joining
    await expect(alice.messages).to_have_count(50)
    await expect(alice.message("archived message 120")).to_be_in_viewport()

    for expected in (100, 120):
        await alice.by("messages").evaluate("pane => { pane.scrollTop = 0; }")
        await expect(alice.messages).to_have_count(expected)
    await expect(alice.by("history-top")).to_have_text("This is the beginning of #archive.")
    await expect(alice.message("archived message 1")).to_have_count(1)
    await alice.screenshot()
    await alice.by("join-topic").click()
    await expect(alice.by("composer")).to_be_visible()
    await expect(alice.messages).to_have_count(120)
