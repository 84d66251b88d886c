"""People through the web page (PROTOCOL.md section 14): the profile editor (display name, title,
time zone, an avatar uploaded and scaled down), the status picker, the availability menu, names and
avatars beside messages and in the member list, the profile card, the find-people dialog and `@`
completion by display name, seen from another browser context."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.files_support import png

pytestmark = pytest.mark.browser


async def edit_profile(
    page, display_name: str, title: str = "", timezone: str = "", avatar: bytes | None = None
) -> None:
    await page.by("profile-edit-open").click()
    editor = page.by("profile-editor")
    await expect(editor).to_be_visible()
    await editor.get_by_test_id("profile-display-name").fill(display_name)
    await editor.get_by_test_id("profile-title").fill(title)
    await editor.get_by_test_id("profile-timezone").fill(timezone)
    if avatar is not None:
        await editor.get_by_test_id("profile-avatar-input").set_input_files(
            [{"name": "me.png", "mimeType": "image/png", "buffer": avatar}]
        )
        await expect(editor.get_by_test_id("profile-avatar-state")).to_have_text("Uploaded")
    await editor.get_by_test_id("profile-save").click()
    await expect(editor).to_have_count(0)


async def test_a_profile_status_and_availability_reach_a_direct_peer(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await bob.register("bob")
    await alice.register("alice")
    await alice.start_direct("bob")
    await alice.send("hello bob")

    await edit_profile(alice, "Captain Alice", "Chief Explorer", "Asia/Tokyo", avatar=png(600, 400))
    await expect(alice.by("me-display-name")).to_have_text("Captain Alice")
    await alice.by("status-open").click()
    picker = alice.by("status-picker")
    await picker.get_by_test_id("status-emoji").fill("🌴")
    await picker.get_by_test_id("status-text").fill("On holiday")
    await picker.get_by_test_id("status-clear-after").select_option("3600")
    await picker.get_by_test_id("status-save").click()
    await expect(picker).to_have_count(0)
    await expect(alice.by("me-status")).to_have_text("🌴 On holiday")

    await bob.open_topic("@alice")
    message = bob.message("hello bob")
    await expect(message.get_by_test_id("display-name")).to_have_text("Captain Alice")
    await expect(message.get_by_test_id("username-at")).to_have_text(" @alice")
    picture = message.get_by_test_id("avatar-img")
    await expect(picture).to_have_attribute("src", re.compile(r"^blob:"))
    assert await picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    await expect(bob.topic("@alice").locator(".topic-name")).to_have_text("Captain Alice")

    await bob.open_members()
    await expect(bob.member("alice").get_by_test_id("display-name")).to_have_text("Captain Alice")
    await bob.member("alice").get_by_test_id("member-name").click()
    card = bob.by("profile-card")
    await expect(card.get_by_test_id("profile-card-name")).to_have_text("Captain Alice")
    await expect(card.get_by_test_id("profile-card-title")).to_have_text("Chief Explorer")
    await expect(card.get_by_test_id("profile-card-status")).to_have_text("🌴 On holiday")
    await expect(card.get_by_test_id("profile-card-time")).to_have_text(
        re.compile(r"\d{1,2}:\d{2}.*Asia/Tokyo")
    )
    await expect(card.get_by_test_id("profile-card-availability")).to_have_attribute(
        "data-availability", "online"
    )
    await bob.screenshot("card")
    await card.get_by_test_id("profile-card-close").click()
    await expect(card).to_have_count(0)

    await alice.by("availability-toggle").click()
    await expect(alice.by("availability-menu")).to_be_visible()
    await alice.by("availability-dnd").click()
    await expect(alice.by("availability-menu")).to_be_hidden()
    await expect(alice.by("availability-toggle")).to_have_attribute("data-availability", "dnd")
    await expect(alice.by("availability-word")).to_have_text("Do not disturb")  # not a bare dot
    await alice.screenshot()
    # Everywhere bob sees alice's dot, it says do not disturb, in words too (issue 55, row 4).
    await expect(bob.by("current-topic")).to_have_text("Captain Alice")  # as the sidebar names her
    await expect(bob.by("header-presence-dot")).to_have_attribute("aria-label", "Do not disturb")
    await expect(bob.by("members-toggle")).to_have_text("do not disturb")
    await expect(bob.topic("@alice").get_by_test_id("presence-dot")).to_have_attribute(
        "data-availability", "dnd"
    )
    await expect(bob.topic("@alice").locator(".topic-meta")).to_have_text("do not disturb")
    await bob.open_members()
    await expect(bob.member("alice").locator(".dot")).to_have_attribute("aria-label", "Do not disturb")

    await message.get_by_test_id("avatar").click()
    await expect(card.get_by_test_id("profile-card-availability")).to_have_attribute(
        "data-availability", "dnd"
    )
    await expect(card.get_by_test_id("profile-card-availability")).to_have_text("Do not disturb")
    await bob.screenshot("dnd")


async def test_find_people_by_part_of_a_display_name_and_mention_by_it(new_page) -> None:
    elodie = await new_page("elodie")
    await elodie.register("emartin")
    await edit_profile(elodie, "Élodie Martin")
    alice = await new_page("alice")
    await alice.register("alice")

    await alice.by("find-people-open").click()
    dialog = alice.by("find-people")
    await dialog.get_by_test_id("find-people-input").press_sequentially("elo")
    result = dialog.locator('[data-testid="find-people-result"][data-username="emartin"]')
    await expect(result.get_by_test_id("display-name")).to_have_text("Élodie Martin")
    await alice.screenshot("found")
    await result.click()
    card = alice.by("profile-card")
    await expect(card.get_by_test_id("profile-card-name")).to_have_text("Élodie Martin")
    await card.get_by_test_id("profile-card-message").click()
    await alice.expect_open("@emartin")

    await alice.type("hi @elo")
    option = alice.by("mention-option")
    await expect(option).to_have_count(1)
    await expect(option).to_have_attribute("data-username", "emartin")
    await expect(option.get_by_test_id("mention-display-name")).to_have_text("Élodie Martin")
    await alice.by("composer").press("Enter")
    await expect(alice.by("composer")).to_have_value("hi @emartin ")
    await alice.screenshot("mention")


async def test_the_message_and_invite_boxes_take_a_person_by_name(new_page) -> None:
    """ "Alice Liddell" in the direct-message box answered "A username may use letters, digits..."
    (issue 55, row 8): the boxes list matches from the directory, and a whole name is looked up."""
    alice = await new_page("alice")
    await alice.register("alice")
    await edit_profile(alice, "Alice Liddell")
    bob = await new_page("bob")
    await bob.register("bob")

    await bob.by("dm-username").press_sequentially("Lidd")
    option = bob.by("people-option")
    await expect(option).to_have_attribute("data-username", "alice")
    await expect(option).to_contain_text("Alice Liddell")
    await bob.by("dm-username").press("Enter")  # picks the match; the box holds the username
    await expect(bob.by("dm-username")).to_have_value("alice")
    await bob.by("dm-start").click()
    await bob.expect_open("@alice")

    await bob.by("dm-username").fill("Nobody Atall")
    await bob.by("dm-start").click()
    await expect(bob.by("dm-error")).to_have_text('Nobody is called "Nobody Atall".')

    await bob.create_topic("tea-party")
    await bob.by("invite-toggle").click()
    await bob.by("invite-username").fill("Alice Liddell")  # typed out, not picked: looked up
    await bob.by("invite-submit").click()
    await expect(bob.by("invite-username")).to_be_hidden()
    await expect(alice.topic("tea-party")).to_be_visible()
