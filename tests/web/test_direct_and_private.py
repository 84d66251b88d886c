"""Direct conversations and private topics."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_a_direct_conversation_between_two_people(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await bob.register("bob")

    await alice.start_direct("bob")
    await alice.send("Hi Bob, just between us.")

    await expect(bob.unread("@alice")).to_have_text("1")
    await bob.open_topic("@alice")
    await expect(bob.message("Hi Bob, just between us.")).to_have_attribute("data-sender", "alice")
    await bob.send("Sure, Alice.")
    await expect(alice.message("Sure, Alice.")).to_be_visible()
    await expect(alice.topic("@bob").get_by_test_id("presence-dot")).to_have_attribute("data-online", "true")

    await alice.screenshot()
    await bob.screenshot()

    await bob.page.context.close()
    await expect(alice.topic("@bob").get_by_test_id("presence-dot")).to_have_attribute("data-online", "false")
    await expect(alice.by("members-toggle")).to_contain_text("last seen")


async def test_an_invitation_adds_a_private_topic_live(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await bob.register("bob")

    await alice.create_topic("secret-plans", private=True)
    await expect(bob.topic("secret-plans")).to_have_count(0)
    await alice.invite("bob")

    await expect(bob.by("toast")).to_contain_text("alice added you to #secret-plans")
    await bob.open_topic("secret-plans")
    await bob.send("Thanks for the invite!")
    await expect(alice.message("Thanks for the invite!")).to_be_visible()

    await alice.by("members-toggle").click()
    await expect(alice.by("member")).to_have_count(2)
    await expect(alice.member("bob")).to_have_attribute("data-online", "true")
    await alice.screenshot()


async def test_inviting_someone_unknown_says_so(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("club", private=True)

    await alice.by("invite-toggle").click()
    await alice.by("invite-username").fill("nobody")
    await alice.by("invite-submit").click()

    await expect(alice.by("invite-error")).to_be_visible()
    await expect(alice.by("invite-error")).not_to_be_empty()


async def test_a_conversation_with_an_unknown_user_is_refused_in_words(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")

    await alice.by("dm-username").fill("nobody")
    await alice.by("dm-start").click()

    await expect(alice.by("dm-error")).to_contain_text("nobody")
    await expect(alice.topic("@nobody")).to_have_count(0)


async def test_a_failed_create_leaves_nothing_behind_after_moving_elsewhere(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("club")

    await alice.by("create-topic-name").fill("club")  # taken
    await alice.by("create-topic-submit").click()
    await expect(alice.by("create-topic-error")).to_be_visible()
    await alice.by("dm-username").fill("nobody")
    await alice.by("dm-start").click()
    await expect(alice.by("dm-error")).to_be_visible()

    await alice.open_topic("lobby")

    await expect(alice.by("create-topic-error")).to_be_hidden()
    await expect(alice.by("create-topic-name")).to_have_value("")
    await expect(alice.by("dm-error")).to_be_hidden()
    await expect(alice.by("dm-username")).to_have_value("")
