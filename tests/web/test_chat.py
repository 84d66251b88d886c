"""Two people chat in a topic through the web page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_two_people_talk_in_a_topic(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("general")
    await bob.register("bob")
    await bob.join("general")

    await alice.send("Hello Bob, welcome to #general!")
    await expect(bob.message("Hello Bob, welcome to #general!")).to_have_attribute("data-sender", "alice")
    await bob.send("Thanks Alice, glad to be here.")
    await expect(alice.message("Thanks Alice, glad to be here.")).to_be_visible()
    await expect(alice.by("members-toggle")).to_have_text("2 members · 2 online")
    await expect(bob.message("Thanks Alice, glad to be here.").get_by_test_id("read-mark")).to_have_text(
        "Seen by alice"
    )

    await alice.type("I am typing")
    await expect(bob.by("typing-indicator")).to_have_text("alice is typing…")
    await alice.by("composer").fill("")

    await alice.edit("Hello Bob, welcome to #general!", "Hello Bob, welcome to the general topic!")
    edited = bob.message("Hello Bob, welcome to the general topic!")
    await expect(edited.get_by_test_id("edited-mark")).to_be_visible()
    await expect(bob.message("Hello Bob, welcome to #general!")).to_have_count(0)

    await bob.screenshot()
    await alice.screenshot()


async def test_a_message_is_shown_at_once_and_confirmed(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("notes")

    await alice.by("composer").fill("first line")
    await alice.by("composer").press("Shift+Enter")
    await alice.by("composer").press_sequentially("second line")
    await alice.by("composer").press("Enter")

    message = alice.message("first line\nsecond line")
    await expect(message).to_have_attribute("data-state", "sent")
    await expect(message).to_have_attribute("data-id", re.compile(r"^\d+$"))
    await expect(alice.by("composer")).to_have_value("")
    await expect(alice.messages).to_have_count(1)


async def test_bob_gets_what_he_missed_exactly_once(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("news")
    await bob.register("bob")
    await bob.join("news")
    await alice.send("before you left")
    await expect(alice.message("before you left").get_by_test_id("read-mark")).to_have_text("Seen by bob")
    await alice.page.reload()  # the mark is rebuilt from the members' read marks (issue 55, row 5)
    await alice.expect_open("news")
    await expect(alice.message("before you left").get_by_test_id("read-mark")).to_have_text("Seen by bob")
    await bob.page.context.close()

    missed = ["one while you were away", "two while you were away", "three while you were away"]
    for text in missed:
        await alice.send(text)

    bob = await new_page("bob-again")
    await bob.log_in("bob")
    await expect(bob.unread("news")).to_have_text("3")
    await bob.open_topic("news")
    for text in missed:
        await expect(bob.message(text)).to_have_count(1)
    await expect(bob.messages).to_have_count(4)
    await expect(bob.unread("news")).to_have_count(0)
    await bob.screenshot()


async def test_the_author_deletes_a_message_for_everyone(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("oops")
    await bob.register("bob")
    await bob.join("oops")
    await alice.send("this was a mistake")
    await expect(bob.message("this was a mistake")).to_be_visible()

    await alice.delete("this was a mistake")

    await expect(bob.message("this was a mistake")).to_have_count(0)
    await expect(bob.message("This message was deleted.")).to_be_visible()


async def test_escape_cancels_an_edit(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("drafts")
    await alice.send("keep me as I am")

    message = alice.message("keep me as I am")
    await message.hover()
    await message.get_by_test_id("edit").click()
    await alice.by("edit-input").fill("something else")
    await alice.by("edit-input").press("Escape")

    await expect(alice.by("edit-input")).to_have_count(0)
    await expect(alice.message("keep me as I am").get_by_test_id("edited-mark")).to_have_count(0)


async def test_a_refused_message_can_be_retried(new_page, live_server) -> None:
    token = await live_server.register("alice")
    alice = await new_page("alice")
    await alice.log_in("alice")
    await alice.create_topic("flaky")
    other_tab = await live_server.connect("alice", token)
    await other_tab.ok("topic:unsubscribe", {"topic": "flaky"})  # the page does not know yet

    await alice.by("composer").fill("will this get through?")
    await alice.by("send").click()
    refused = alice.message("will this get through?")
    await expect(refused).to_have_attribute("data-state", "failed")
    await expect(refused.get_by_test_id("send-error")).not_to_be_empty()
    await alice.screenshot()

    await other_tab.ok("topic:subscribe", {"topic": "flaky"})
    await refused.get_by_test_id("retry").click()
    await expect(alice.message("will this get through?")).to_have_attribute("data-state", "sent")
    await expect(alice.messages).to_have_count(1)


async def test_a_new_public_topic_appears_in_others_sidebars_without_a_reload(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await bob.register("bob")  # bob's page has loaded its topics: only a live event can add more
    await alice.create_topic("hidden", private=True)
    await alice.create_topic("news")

    await expect(bob.by("browse-list").locator('[data-topic="news"]')).to_be_attached(timeout=10_000)
    await expect(bob.topic("hidden")).to_have_count(0)
    await bob.join("news")
    await alice.send("live news")
    await expect(bob.message("live news")).to_be_visible()
