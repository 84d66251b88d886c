"""axe-core in Chromium on every view of the page (issue 55 item 8): no serious or critical
violation on the login screen, the main page, a conversation (reactions, a reply, an image), a
thread, each dialog and side panel, the administration view, and at phone width.

The assertion message lists each violation's rule and the elements it found (tests/web/axe.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.files_support import png
from tests.web.axe import assert_accessible
from tests.web.chat_page import ChatPage
from tests.web.conftest import PHONE

# node: tests/js/node_modules installed from its lock file, axe-core with it
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("node")]


async def conversation(alice: ChatPage, bob_name: str = "bob") -> None:
    """#general with messages: an image, a reply, a reaction, one of bob's (to report)."""
    await alice.create_topic("general")
    await alice.by("file-input").set_input_files(
        [{"name": "cat.png", "mimeType": "image/png", "buffer": png(64, 48)}]
    )
    await expect(alice.page.locator('[data-testid="attachment"][data-status="done"]')).to_have_count(1)
    await alice.send("a picture of the cat")
    await expect(alice.message("a picture of the cat").get_by_test_id("file-thumbnail-img")).to_be_visible()
    await alice.send("the plan for today")
    await alice.reply("the plan for today", "and for tomorrow")
    await alice.react("the plan for today", "👍")
    await expect(alice.reaction("the plan for today", "👍")).to_have_attribute("data-count", "1")


async def test_the_login_screen_and_the_main_page(new_page) -> None:
    alice = await new_page("alice")
    await expect(alice.by("login-username")).to_be_visible()
    await assert_accessible(alice.page, "the login screen")
    await alice.register("alice")
    await alice.expect_open("lobby")  # a new user lands in #lobby, with its line
    await assert_accessible(alice.page, "the main page (sidebar and #lobby)")


async def test_a_conversation_a_thread_and_the_side_panels(new_page, live_server) -> None:
    bob = await live_server.user("bob")
    alice = await new_page("alice")
    await alice.register("alice")
    await conversation(alice)
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.ok("message:send", {"topic": "general", "body": "hello from bob"})
    await expect(alice.message("hello from bob")).to_be_visible()
    await alice.message("hello from bob").hover()  # its actions shown, as a pointer user sees them
    await assert_accessible(alice.page, "a conversation with an image, a reply and a reaction")

    await alice.message("a picture of the cat").get_by_test_id("file-thumbnail").click()
    await expect(alice.by("lightbox-img")).to_be_visible()
    await assert_accessible(alice.page, "the image's lightbox")
    await alice.page.keyboard.press("Escape")
    await expect(alice.by("lightbox")).to_have_count(0)

    await alice.open_thread("the plan for today")
    await alice.reply_in_thread("in the thread")
    await assert_accessible(alice.page, "the thread panel")

    await alice.pin("the plan for today")
    await alice.by("pins-toggle").click()
    await expect(alice.by("pins-panel")).to_be_visible()
    await assert_accessible(alice.page, "the pins panel")

    await alice.open_members()
    await expect(alice.member("bob")).to_be_visible()
    await assert_accessible(alice.page, "the members panel")

    await alice.open_settings()
    await assert_accessible(alice.page, "the topic settings")

    await alice.by("search-toggle").click()
    await alice.by("search-input").fill("plan")
    await alice.by("search-input").press("Enter")
    await expect(alice.by("search-panel").get_by_test_id("search-hit").first).to_be_visible()
    await assert_accessible(alice.page, "the search panel with hits")


async def test_each_dialog(new_page, live_server) -> None:
    bob = await live_server.user("bob")
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("general")
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.ok("message:send", {"topic": "general", "body": "hello from bob"})
    await expect(alice.message("hello from bob")).to_be_visible()

    async def check(opener: str, testid: str, view: str) -> None:
        await alice.by(opener).click()
        dialog = alice.page.locator(f'dialog[open][data-testid="{testid}"]')
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_text("Loading…")).to_have_count(0)
        await assert_accessible(alice.page, view)
        await alice.page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        await expect(alice.by(opener)).to_be_focused()  # Escape gives the focus back to the opener

    await check("account-open", "account-dialog", "my account (password, sessions, data)")
    await check("notify-settings-open", "notify-settings", "the notification settings")
    await alice.by("account-open").click()  # the deletion is asked from "My account"
    await alice.by("delete-account-open").click()
    deletion = alice.page.locator('dialog[open][data-testid="delete-account"]')
    await expect(deletion).to_be_visible()
    await assert_accessible(alice.page, "the delete-account dialog")
    await alice.page.keyboard.press("Escape")
    await expect(deletion).to_have_count(0)
    await check("profile-edit-open", "profile-editor", "the profile editor")
    await check("status-open", "status-picker", "the status picker")
    await check("find-people-open", "find-people", "the find-people dialog")

    await alice.message("hello from bob").get_by_test_id("message-sender").get_by_role("button").click()
    card = alice.by("profile-card")
    await expect(card.get_by_test_id("profile-card-availability")).not_to_have_text("")
    await assert_accessible(alice.page, "the profile card")
    await alice.page.keyboard.press("Escape")
    await expect(card).to_have_count(0)

    await alice.act_on("hello from bob", "report")
    await expect(alice.by("report-dialog")).to_be_visible()
    await assert_accessible(alice.page, "the report dialog")
    await alice.page.keyboard.press("Escape")
    await expect(alice.by("report-dialog")).to_have_count(0)


async def test_the_administration_view(new_page, live_server) -> None:
    alice = await new_page("alice")
    await alice.register("alice")  # the first account: the owner
    await live_server.user("bob")  # a second account in the users' table
    await alice.by("admin-open").click()
    view = alice.by("admin-view")
    await expect(view).to_be_visible()
    for tab in ("users", "invites", "registration", "topics", "keys", "reports", "audit"):
        await alice.by(f"admin-tab-{tab}").click()
        panel = alice.by(f"admin-panel-{tab}")
        await expect(panel).to_be_visible()
        await expect(panel.get_by_text("Loading…")).to_have_count(0)
        await assert_accessible(alice.page, f"the administration view, tab {tab}")


async def test_phone_width(new_page, live_server) -> None:
    bob = await live_server.user("bob")
    alice = await new_page("alice", viewport=PHONE)
    await alice.register("alice")
    await assert_accessible(alice.page, "the main page at phone width")
    await conversation(alice)
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.ok("message:send", {"topic": "general", "body": "hello from bob"})
    await expect(alice.message("hello from bob")).to_be_visible()
    await assert_accessible(alice.page, "a conversation at phone width")
    await alice.by("sidebar-toggle").click()
    await expect(alice.by("sidebar")).to_be_in_viewport()
    await assert_accessible(alice.page, "the sidebar drawer at phone width")


async def test_states_have_words_not_only_a_colour(new_page, live_server) -> None:
    bob = await live_server.user("bob")
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("general")
    await bob.ok("topic:subscribe", {"topic": "general"})
    await alice.open_members()
    await expect(alice.member("alice").get_by_role("img")).to_have_accessible_name("Online")
    words = re.compile(r"^(Online|Away|Do not disturb|Offline)$")
    await expect(alice.member("bob").get_by_role("img")).to_have_accessible_name(words)
    await expect(alice.by("sidebar").get_by_role("img", name="Online")).to_be_visible()  # my connection

    toggle = alice.by("availability-toggle")
    await expect(toggle).to_have_accessible_name("Availability: Online")
    await toggle.click()
    await alice.by("availability-dnd").click()
    await expect(toggle).to_have_accessible_name("Availability: Do not disturb")

    await bob.ok("message:send", {"topic": "general", "body": "@alice look"})
    mentioned = re.compile(r"^bob at .*, mentions you$")  # the highlight's colour, in words
    await expect(alice.message("@alice look")).to_have_accessible_name(mentioned)
    await alice.set_notify("none")
    await expect(alice.topic("general")).to_have_accessible_name(re.compile("Notifications off"))
