"""Conversations through the web page (issue 20): replies, threads, reactions, mentions,
notification levels and pins, seen live by a second person."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.web.chat_page import ChatPage
from tests.web.conftest import PHONE, NewPage

pytestmark = pytest.mark.browser


async def two_in(new_page: NewPage, topic: str) -> tuple[ChatPage, ChatPage]:
    """alice creates a topic (she owns it) and bob joins it."""
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic(topic)
    await bob.register("bob")
    await bob.join(topic)
    return alice, bob


async def test_a_reply_quotes_the_message_it_answers(new_page) -> None:
    alice, bob = await two_in(new_page, "lunch")
    await alice.send("Lunch at noon?")
    await expect(bob.message("Lunch at noon?")).to_be_visible()

    await bob.act_on("Lunch at noon?", "reply")  # changes his mind: the cancel button drops the quote
    await expect(bob.by("reply-preview-sender")).to_have_text("alice")
    await bob.screenshot("replying")
    await bob.by("reply-cancel").click()
    await expect(bob.by("reply-preview")).to_be_hidden()
    await expect(bob.by("composer")).to_be_focused()

    await bob.reply("Lunch at noon?", "Yes, count me in")
    for page in (alice, bob):
        quote = page.quote_in("Yes, count me in")
        await expect(quote.get_by_test_id("reply-quote-sender")).to_have_text("alice")
        await expect(quote.get_by_test_id("reply-quote-excerpt")).to_have_text("Lunch at noon?")
    await expect(alice.quote_in("Lunch at noon?")).to_have_count(0)
    await alice.screenshot()

    await alice.quote_in("Yes, count me in").click()  # the quote leads to the message quoted
    await expect(alice.message("Lunch at noon?")).to_be_focused()


async def test_a_thread_is_opened_answered_and_summarised_live(new_page) -> None:
    alice, bob = await two_in(new_page, "release")
    await alice.send("Release plan for Friday")
    await expect(bob.message("Release plan for Friday")).to_be_visible()

    await bob.open_thread("Release plan for Friday")
    await expect(bob.by("thread-count")).to_have_text("0 replies")
    await expect(bob.by("thread-composer")).to_be_focused()
    await bob.reply_in_thread("I will write the notes")

    summary = alice.message("Release plan for Friday").get_by_test_id("thread-summary")
    await expect(summary).to_have_text(re.compile(r"^1 reply · last at \d"))
    # The reply is in the main stream too, marked as a reply in a thread.
    await expect(alice.message("I will write the notes").get_by_test_id("thread-mark")).to_be_visible()

    await summary.click()
    await expect(alice.thread_panel).to_be_visible()
    await expect(alice.thread_reply("I will write the notes")).to_have_attribute("data-sender", "bob")
    await alice.reply_in_thread("Thanks @bob, nice")
    await expect(bob.thread_reply("Thanks @bob, nice")).to_be_visible()
    await expect(bob.message("Release plan for Friday").get_by_test_id("thread-summary")).to_have_text(
        re.compile(r"^2 replies · ")
    )
    await expect(bob.by("thread-count")).to_have_text("2 replies")
    await alice.screenshot()
    await bob.screenshot()

    await bob.by("thread-close").click()
    await expect(bob.thread_panel).to_be_hidden()


async def test_reactions_are_counted_and_toggled(new_page) -> None:
    alice, bob = await two_in(new_page, "shipping")
    await alice.send("Ship it")
    await expect(bob.message("Ship it")).to_be_visible()

    # bob reacts with the keyboard: the react button, then the picker's first emoji.
    await bob.message("Ship it").hover()
    await bob.message("Ship it").get_by_test_id("react").focus()
    await bob.page.keyboard.press("Enter")
    await expect(bob.by("reaction-picker").get_by_test_id("pick-emoji").first).to_be_focused()
    await bob.page.keyboard.press("Enter")
    await expect(bob.reaction("Ship it", "👍")).to_have_attribute("data-me", "true")
    await expect(alice.reaction("Ship it", "👍")).to_have_attribute("data-count", "1")
    await expect(alice.reaction("Ship it", "👍")).to_have_attribute("aria-pressed", "false")

    await alice.reaction("Ship it", "👍").click()
    await alice.react("Ship it", "🎉")
    for page in (alice, bob):
        await expect(page.reaction("Ship it", "👍")).to_have_attribute("data-count", "2")
        await expect(page.reaction("Ship it", "🎉")).to_have_attribute("data-count", "1")
    await expect(alice.reaction("Ship it", "👍")).to_have_attribute("aria-pressed", "true")
    await expect(bob.reaction("Ship it", "🎉")).to_have_attribute("data-me", "false")
    await bob.screenshot("two")

    await bob.reaction("Ship it", "👍").click()  # takes his back
    for page in (alice, bob):
        await expect(page.reaction("Ship it", "👍")).to_have_attribute("data-count", "1")
    await expect(bob.reaction("Ship it", "👍")).to_have_attribute("data-me", "false")
    await alice.reaction("Ship it", "🎉").click()
    await expect(bob.reaction("Ship it", "🎉")).to_have_count(0)


async def test_a_mention_is_completed_highlighted_and_counted(new_page) -> None:
    alice, bob = await two_in(new_page, "general")
    await alice.create_topic("random")  # alice looks elsewhere

    await bob.type("Hey @AL")
    options = bob.by("mention-option")
    await expect(options).to_have_count(2)  # alice, then @all
    await expect(options.first).to_have_attribute("data-username", "alice")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await bob.screenshot("autocomplete")
    await bob.by("composer").press("ArrowDown")
    await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    await bob.by("composer").press("Escape")
    await expect(bob.by("composer")).to_have_attribute("aria-expanded", "false")
    await expect(options.first).to_be_hidden()
    await bob.by("composer").press("Backspace")
    await expect(options).to_have_count(2)
    await bob.by("composer").press("Tab")
    await expect(bob.by("composer")).to_have_value("Hey @alice ")
    await bob.by("composer").press_sequentially("look at this")
    await bob.by("composer").press("Enter")
    await expect(bob.message("Hey @alice look at this")).to_have_attribute("data-state", "sent")
    await expect(bob.message("Hey @alice look at this")).to_have_attribute("data-mentioned", "false")
    await bob.send("and this one is for nobody")

    await expect(alice.mentions("general")).to_have_text("@1")
    await expect(alice.unread("general")).to_have_text("2")
    await alice.screenshot("sidebar")
    await alice.open_topic("general")
    mentioned = alice.message("Hey @alice look at this")
    await expect(mentioned).to_have_attribute("data-mentioned", "true")
    await expect(mentioned.get_by_test_id("mention")).to_have_text("@alice")
    await expect(alice.message("and this one is for nobody")).to_have_attribute("data-mentioned", "false")
    await expect(alice.mentions("general")).to_have_count(0)
    await alice.screenshot()


async def test_the_bell_sets_which_badges_a_topic_shows(new_page) -> None:
    alice, bob = await two_in(new_page, "busy")
    await expect(alice.by("notify-toggle")).to_have_attribute("aria-label", "Notifications: All messages")
    await alice.set_notify("mentions")
    await expect(alice.by("notify-toggle")).to_have_attribute("aria-label", "Notifications: Mentions only")
    await alice.create_topic("elsewhere")

    await bob.send("chatter nobody needs to see")
    await bob.send("@alice this one matters")
    await expect(alice.mentions("busy")).to_have_text("@1")  # both have arrived
    await expect(alice.unread("busy")).to_have_count(0)
    await alice.screenshot("mentions")

    await alice.open_topic("busy")
    await alice.set_notify("none")
    await alice.open_topic("elsewhere")
    await bob.send("@alice even this")
    await alice.page.reload()  # the level is the server's: the topic list brings it with the counts
    await expect(alice.topic("busy")).to_have_attribute("data-notify", "none")
    await expect(alice.topic("busy").get_by_test_id("muted-mark")).to_be_visible()
    await expect(alice.topic("busy")).not_to_have_class(re.compile(r"has-unread"))
    await expect(alice.mentions("busy")).to_have_count(0)
    await expect(alice.unread("busy")).to_have_count(0)

    await alice.open_topic("busy")
    await alice.by("notify-toggle").focus()
    await alice.page.keyboard.press("Enter")
    await expect(alice.by("notify-none")).to_be_focused()
    await alice.page.keyboard.press("ArrowDown")
    await expect(alice.by("notify-all")).to_be_focused()
    await alice.page.keyboard.press("Enter")
    await expect(alice.topic("busy")).to_have_attribute("data-notify", "all")
    await alice.open_topic("elsewhere")
    await bob.send("back to normal")
    await expect(alice.unread("busy")).to_have_text("1")


async def test_a_pinned_message_is_marked_listed_and_announced(new_page) -> None:
    alice, bob = await two_in(new_page, "office")
    await alice.send("The wifi password is on the fridge")
    pinned = bob.message("The wifi password is on the fridge")
    await expect(pinned).to_be_visible()
    await pinned.hover()
    await expect(pinned.get_by_test_id("pin")).to_have_count(0)  # bob is a member: pins are for moderators

    await bob.by("pins-toggle").click()
    await expect(bob.by("pins-empty")).to_be_visible()
    await alice.pin("The wifi password is on the fridge")

    await expect(pinned.get_by_test_id("pinned-mark")).to_be_visible()
    await expect(bob.by("pinned-item")).to_have_count(1)
    await expect(bob.by("pinned-item").get_by_test_id("message-body")).to_have_text(
        "The wifi password is on the fridge"
    )
    for page in (alice, bob):
        line = page.by("system-message")
        await expect(line).to_have_count(1)
        await expect(line).to_have_attribute("data-action", "pin")
        await expect(line.get_by_test_id("system-text")).to_have_text(re.compile(r"alice pinned"))
        await expect(page.messages).to_have_count(1)  # a system message is a line, not a bubble
    await bob.screenshot()
    await alice.screenshot()

    await alice.by("pins-toggle").click()
    await alice.by("pinned-item").get_by_test_id("pinned-unpin").click()
    await expect(bob.by("pins-empty")).to_be_visible()
    await expect(pinned.get_by_test_id("pinned-mark")).to_have_count(0)
    await expect(bob.by("system-message")).to_have_count(2)
    await expect(bob.by("system-message").last).to_have_attribute("data-action", "unpin")


async def test_the_thread_panel_covers_a_phone_screen(new_page) -> None:
    alice = await new_page("alice", viewport=PHONE)
    await alice.register("alice")
    await alice.create_topic("pocket")
    await alice.send("A thread on a small screen")

    await alice.message("A thread on a small screen").click()  # a tap shows the message's actions
    await alice.message("A thread on a small screen").get_by_test_id("thread").click()
    await expect(alice.thread_panel).to_be_in_viewport()
    box = await alice.thread_panel.bounding_box()
    assert box is not None
    assert (box["x"], box["width"]) == (0, PHONE["width"])
    await alice.reply_in_thread("It fits")
    assert await alice.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await alice.screenshot("thread")

    await alice.page.keyboard.press("Escape")
    await expect(alice.thread_panel).to_be_hidden()
    await expect(alice.message("It fits").get_by_test_id("thread-mark")).to_be_visible()
    await expect(alice.message("A thread on a small screen").get_by_test_id("thread-summary")).to_have_text(
        re.compile(r"^1 reply")
    )
    await alice.message("It fits").click()
    await expect(alice.message("It fits").get_by_test_id("react")).to_be_visible()
    assert await alice.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await alice.screenshot("actions")


async def test_both_sides_of_a_direct_conversation_may_pin(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await bob.register("bob")
    await alice.start_direct("bob")
    await alice.send("Our meeting is on Tuesday")
    await bob.open_topic("@alice")

    await bob.pin("Our meeting is on Tuesday")
    await expect(alice.message("Our meeting is on Tuesday").get_by_test_id("pinned-mark")).to_be_visible()
    await expect(alice.by("system-message")).to_have_attribute("data-action", "pin")
    await alice.by("pins-toggle").click()  # topic:pins {"with": "bob"} lists them (issue 21)
    pinned = alice.by("pinned-item").get_by_test_id("message-body")
    await expect(pinned).to_have_text("Our meeting is on Tuesday")
    await alice.by("pins-close").click()
    await alice.act_on("Our meeting is on Tuesday", "pin")  # and she takes it back
    await expect(bob.message("Our meeting is on Tuesday").get_by_test_id("pinned-mark")).to_have_count(0)
    await expect(bob.by("system-message")).to_have_count(2)
    await alice.set_notify("mentions")  # the bell too: topic:notify {"with": "bob"}
    await alice.page.reload()
    await expect(alice.topic("@bob")).to_have_attribute("data-notify", "mentions")


async def test_a_mention_in_a_topic_of_every_account_is_found_by_the_server(new_page, live_server) -> None:
    """#lobby holds every account: the page never asks for all its members, so the `@` completion
    asks the server for the name typed (``topic:members`` with a query) and offers its matches."""
    from sqlalchemy import text

    async with live_server.chat.db.write() as repos:  # 500 accounts more, seeded in bulk: all in #lobby
        names = [{"name": f"member{n}"} for n in range(500)] + [{"name": "zara.lovelace"}]
        await repos.session.execute(
            text(
                "INSERT INTO users (username, username_key, password_hash, created_at, token_version)"
                " VALUES (:name, :name, '!', CURRENT_TIMESTAMP, 0)"
            ),
            names,
        )
        await repos.session.execute(
            text(
                "INSERT INTO memberships (topic_id, user_id, role, joined_at, delivered_seq, read_seq)"
                " SELECT t.id, u.id, 'member', CURRENT_TIMESTAMP, 0, 0 FROM users u, topics t"
                " WHERE t.name_key = 'lobby'"
            )
        )
        words = "INSERT INTO user_words (word, user_id) SELECT {word}, id FROM users"
        await repos.session.execute(text(words.format(word="username_key")))
        await repos.session.execute(
            text(words.format(word="'lovelace'") + " WHERE username_key = 'zara.lovelace'")
        )
    bob = await new_page("bob")
    asked: list[str] = []  # what the page sent that asks for members

    def note(frame: object) -> None:
        if "topic:members" in str(frame):
            asked.append(str(frame))

    bob.page.on("websocket", lambda ws: ws.on("framesent", note))
    await bob.register("bob")
    await bob.open_topic("lobby")
    await expect(bob.by("members-toggle")).to_contain_text("502 members")

    await bob.type("thanks @love")
    option = bob.by("mention-option")
    await expect(option).to_have_count(1)
    await expect(option).to_have_attribute("data-username", "zara.lovelace")
    await expect(option).to_be_visible()
    await bob.by("composer").press("Tab")
    await expect(bob.by("composer")).to_have_value("thanks @zara.lovelace ")
    await bob.screenshot("found")
    assert asked and all('"query"' in frame for frame in asked), asked  # never the whole list
