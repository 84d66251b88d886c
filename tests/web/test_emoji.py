"""Emoji in the page (issue 55 item 5; PROTOCOL.md sections 8 and 13), in Chromium as people use
it: the picker (search, categories, keyboard only, recent ones first next time), any Unicode
emoji as a reaction, `:` autocomplete in the composer, the composer's picker, and custom emoji an
admin uploads in the administration view that another person then picks, reacts with and sees in
a body (and sees as `:name:` text once removed); the picker at phone width."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import expect

from tests.web.chat_page import ChatPage
from tests.web.conftest import PHONE
from tests.web.test_conversations import two_in

pytestmark = pytest.mark.browser


def picture(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGBA", (96, 96), (240, 120, 0, 255)).save(out, format="PNG")
    path.write_bytes(out.getvalue())
    return path


async def open_reaction_picker_by_keyboard(page: ChatPage, text: str) -> None:
    await page.message(text).hover()
    await page.message(text).get_by_test_id("react").focus()
    await page.page.keyboard.press("Enter")
    await expect(page.by("reaction-picker")).to_be_visible()


async def test_react_with_any_emoji_by_keyboard_and_it_comes_first_next_time(new_page) -> None:
    alice, bob = await two_in(new_page, "emoji")
    await alice.send("Release is out")
    await alice.send("Docs are up")
    await expect(bob.message("Docs are up")).to_be_visible()

    await open_reaction_picker_by_keyboard(bob, "Release is out")
    picker = bob.by("reaction-picker")
    await expect(picker.get_by_test_id("pick-emoji").first).to_be_focused()  # on the first emoji
    await expect(picker.get_by_test_id("pick-emoji").first).to_have_attribute("data-emoji", "👍")
    await bob.page.keyboard.type("sparkles")  # typing searches
    await expect(picker.get_by_test_id("emoji-search")).to_be_focused()
    await expect(picker.get_by_test_id("emoji-search")).to_have_value("sparkles")
    sparkles = picker.locator('[data-testid="pick-emoji"][data-emoji="✨"]')
    await expect(sparkles).to_have_attribute("aria-label", "React with sparkles")
    await bob.page.keyboard.press("ArrowDown")
    await expect(picker.get_by_test_id("pick-emoji").first).to_be_focused()
    await bob.screenshot("search")
    await bob.page.keyboard.press("Enter")
    await expect(bob.reaction("Release is out", "✨")).to_have_attribute("data-me", "true")
    await expect(alice.reaction("Release is out", "✨")).to_have_attribute("data-count", "1")
    await expect(bob.by("reaction-picker")).to_have_count(0)
    await expect(bob.message("Release is out").get_by_test_id("react")).to_be_focused()  # focus returns

    # Next time the recent one comes first; categories by keyboard; Escape closes and returns focus.
    await open_reaction_picker_by_keyboard(bob, "Docs are up")
    first = picker.get_by_test_id("pick-emoji").first
    await expect(first).to_have_attribute("data-emoji", "✨")
    await expect(first).to_be_focused()
    await bob.page.keyboard.press("ArrowRight")
    await expect(picker.get_by_test_id("pick-emoji").nth(1)).to_be_focused()
    await bob.page.keyboard.press("Shift+Tab")  # the categories: one Tab stop, arrows inside
    frequent = picker.locator('[data-testid="emoji-category"][data-category="frequent"]')
    await expect(frequent).to_be_focused()
    await bob.page.keyboard.press("ArrowRight")
    await expect(picker.locator('[data-testid="emoji-category"][data-category="0"]')).to_be_focused()
    await bob.page.keyboard.press("Enter")
    await expect(picker.locator('[role="group"]')).to_have_attribute("aria-label", "Smileys & emotion")
    await expect(picker.get_by_test_id("pick-emoji").first).to_be_focused()
    await expect(picker.get_by_test_id("pick-emoji").first).to_have_attribute(
        "aria-label", "React with grinning face"
    )
    await bob.page.keyboard.press("Escape")
    await expect(bob.by("reaction-picker")).to_have_count(0)
    await expect(bob.message("Docs are up").get_by_test_id("react")).to_be_focused()
    stored = await bob.evaluate("JSON.parse(localStorage.getItem('parley.emoji.recent'))")
    assert stored[0] == "✨"


async def test_colon_autocomplete_and_the_composer_picker_insert_emoji(new_page) -> None:
    alice, bob = await two_in(new_page, "typing")
    composer = bob.by("composer")
    await composer.click()
    await bob.type("Great job :tada")
    options = bob.by("emoji-list").get_by_test_id("emoji-option")
    await expect(options.first).to_have_attribute("data-emoji", "🎉")
    await expect(composer).to_have_attribute("aria-expanded", "true")
    await bob.screenshot("autocomplete")
    await composer.press("Enter")  # inserts, does not send
    await expect(composer).to_have_value("Great job 🎉 ")
    await expect(bob.by("emoji-list")).to_be_hidden()
    await bob.type(":smi")
    await expect(options.first).to_be_visible()
    await composer.press("Tab")
    value = await composer.input_value()
    assert value.startswith("Great job 🎉 ") and ":smi" not in value and value.endswith(" ")

    await composer.fill("Party")
    await bob.by("composer-emoji").click()
    picker = bob.by("composer-picker")
    await expect(picker.get_by_test_id("pick-emoji").first).to_be_focused()
    await picker.get_by_test_id("emoji-search").fill("rocket")
    await picker.locator('[data-testid="pick-emoji"][data-emoji="🚀"]').click()
    await expect(composer).to_have_value("Party 🚀")
    await expect(composer).to_be_focused()
    await composer.press("Enter")
    await expect(alice.message("Party 🚀")).to_be_visible()


async def test_a_custom_emoji_uploaded_by_an_admin_is_picked_reacted_with_and_shown(new_page, tmp_path):
    alice, bob = await two_in(new_page, "custom")  # alice registered first: the owner
    await alice.send("Shipped the release")
    await expect(bob.message("Shipped the release")).to_be_visible()

    await alice.by("admin-open").click()
    view = alice.by("admin-view")
    panel = view.get_by_test_id("admin-panel-emoji")
    await view.get_by_test_id("admin-tab-emoji").click()
    await view.get_by_test_id("admin-emoji-name").fill("parley_cat")
    await view.get_by_test_id("admin-emoji-file").set_input_files(picture(tmp_path / "cat.png"))
    await view.get_by_test_id("admin-emoji-add").click()
    item = view.locator('[data-testid="admin-emoji-item"][data-name="parley_cat"]')
    await expect(item).to_be_visible()
    await expect(panel.get_by_test_id("admin-status")).to_contain_text(":parley_cat: added")
    await expect(item.get_by_test_id("custom-emoji")).to_have_js_property("naturalWidth", 96)
    await alice.screenshot("admin-emoji")
    await view.get_by_test_id("admin-emoji-name").fill("parley_cat")  # a taken name: said in words
    await view.get_by_test_id("admin-emoji-file").set_input_files(picture(tmp_path / "cat2.png"))
    await view.get_by_test_id("admin-emoji-add").click()
    await expect(panel.get_by_test_id("admin-error")).to_contain_text("already")
    await view.get_by_test_id("admin-close").click()

    # bob's page heard emoji:updated: the picker has a Custom category with it.
    await bob.act_on("Shipped the release", "react")
    picker = bob.by("reaction-picker")
    await picker.locator('[data-testid="emoji-category"][data-category="custom"]').click()
    custom = picker.locator('[data-testid="pick-emoji"][data-emoji=":parley_cat:"]')
    await expect(custom).to_have_attribute("aria-label", "React with parley_cat")
    await custom.click()
    for page in (alice, bob):
        chip = page.reaction("Shipped the release", ":parley_cat:")
        await expect(chip).to_have_attribute("data-count", "1")
        await expect(chip.get_by_test_id("custom-emoji")).to_have_js_property("naturalWidth", 96)

    # In a body: `:name:` as the picture, inserted by `:` autocomplete.
    await bob.by("composer").click()
    await bob.type("Look :parley")
    option = bob.by("emoji-list").locator('[data-testid="emoji-option"][data-emoji=":parley_cat:"]')
    await expect(option).to_be_visible()
    await option.click()
    await expect(bob.by("composer")).to_have_value("Look :parley_cat: ")
    await bob.by("composer").press("Enter")
    body = alice.messages.filter(has_text="Look").get_by_test_id("message-body")
    shown = body.get_by_test_id("custom-emoji")
    await expect(shown).to_have_attribute("alt", ":parley_cat:")
    await expect(shown).to_have_js_property("naturalWidth", 96)
    await bob.screenshot("custom-in-body")

    # Removed: bodies and chips show its `:name:` as text.
    await alice.by("admin-open").click()
    await view.get_by_test_id("admin-tab-emoji").click()
    await item.get_by_test_id("admin-emoji-remove").click()
    await expect(item).to_have_count(0)
    await view.get_by_test_id("admin-close").click()
    bob_body = bob.messages.filter(has_text="Look").get_by_test_id("message-body")
    await expect(bob_body.get_by_test_id("custom-emoji")).to_have_count(0)
    await expect(bob_body).to_have_text("Look :parley_cat:")
    await expect(bob.reaction("Shipped the release", ":parley_cat:")).to_have_text(":parley_cat:1")


async def test_the_picker_at_phone_width(new_page) -> None:
    alice = await new_page("alice", viewport=PHONE)
    await alice.register("alice")
    await alice.create_topic("phone")
    await alice.send("Small screen")
    await alice.act_on("Small screen", "react")
    picker = alice.by("reaction-picker")
    await expect(picker).to_be_visible()
    box = await picker.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1  # all of it on screen
    assert box["y"] + box["height"] <= PHONE["height"] + 1
    await picker.get_by_test_id("emoji-search").fill("heart")
    await expect(picker.locator('[data-testid="pick-emoji"][data-emoji="❤️"]')).to_be_visible()
    await alice.screenshot("phone")
    await picker.locator('[data-testid="pick-emoji"][data-emoji="❤️"]').click()
    await expect(alice.reaction("Small screen", "❤️")).to_have_attribute("data-me", "true")
