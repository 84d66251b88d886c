"""Alerts in the open tab (issue 55, row 1): a browser notification and a sound for a direct
message, a mention, or a topic at the "all" level, while the page is open in another conversation;
nothing for the conversation being read, nothing on do-not-disturb; the permission asked when the
switch is turned on, not at load; a click opens the message.

The browser's ``Notification`` and the audio element's ``play`` are stubbed in the page (the issue
allows it): headless Chromium shows no notification and plays no sound, and the stubs record what
the page asked for."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.web.chat_page import ChatPage

pytestmark = pytest.mark.browser

STUBS = """
window.__alerts = { notes: [], sounds: 0, asked: 0 };
window.Notification = class {
  static permission = "default";
  static async requestPermission() {
    window.__alerts.asked += 1;
    this.permission = "granted";
    return "granted";
  }
  constructor(title, options = {}) {
    Object.assign(this, options, { title });
    window.__alerts.notes.push(this);
  }
  close() {}
};
HTMLMediaElement.prototype.play = function () { window.__alerts.sounds += 1; return Promise.resolve(); };
"""


async def stubbed(page: ChatPage) -> None:
    await page.page.context.add_init_script(STUBS)
    await page.page.reload()


async def alerts(page: ChatPage) -> dict[str, Any]:
    seen: dict[str, Any] = await page.evaluate(
        "({notes: window.__alerts.notes.map((n) => ({title: n.title, body: n.body, tag: n.tag})),"
        " sounds: window.__alerts.sounds, asked: window.__alerts.asked})"
    )
    return seen


async def test_a_direct_message_and_a_topic_alert_in_the_open_tab_and_the_one_read_does_not(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await bob.register("bob")
    await alice.register("alice")
    await stubbed(bob)
    await expect(bob.by("me")).to_have_text("bob")
    assert (await alerts(bob))["asked"] == 0  # nothing asked at load

    await bob.by("notify-settings-open").click()
    await bob.by("notify-alerts-notify").check()
    await expect(bob.by("notify-alerts-notify")).to_be_checked()
    assert (await alerts(bob))["asked"] == 1  # asked when turned on
    await bob.by("notify-close").click()
    await bob.open_topic("lobby")

    await alice.start_direct("bob")
    await alice.send("are you there?")
    await bob.page.wait_for_function("window.__alerts.notes.length === 1")
    seen = await alerts(bob)
    assert seen["notes"][0]["title"] == "alice"
    assert seen["notes"][0]["body"] == "are you there?"
    assert seen["sounds"] == 1

    await alice.open_topic("lobby")
    await alice.send("a word for everyone in the lobby")  # bob is reading the lobby
    await alice.send("@bob look at this")  # ...and a mention where he is reading: nothing either
    await expect(bob.message("@bob look at this")).to_be_visible()
    assert len((await alerts(bob))["notes"]) == 1

    await bob.page.evaluate("window.__alerts.notes[0].onclick()")  # the click opens the message
    await bob.expect_open("@alice")
    await expect(bob.message("are you there?")).to_be_visible()
    await alice.send("and now the lobby")  # a topic at "all", bob elsewhere: it alerts
    await bob.page.wait_for_function("window.__alerts.notes.length === 2")
    assert (await alerts(bob))["notes"][1]["title"] == "alice in #lobby"


async def test_do_not_disturb_holds_the_alerts(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await bob.register("bob")
    await alice.register("alice")
    await stubbed(bob)
    await expect(bob.by("me")).to_have_text("bob")
    await bob.by("notify-settings-open").click()
    await bob.by("notify-alerts-notify").check()
    await bob.by("notify-close").click()
    await bob.by("availability-toggle").click()
    await bob.by("availability-dnd").click()
    await expect(bob.by("availability-toggle")).to_have_attribute("data-availability", "dnd")

    await alice.start_direct("bob")
    await alice.send("while you focus")
    await expect(bob.topic("@alice").get_by_test_id("unread-badge")).to_have_text("1")  # it arrived

    seen = await alerts(bob)
    assert (seen["notes"], seen["sounds"]) == ([], 0)
