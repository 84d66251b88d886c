"""Moderation and safety through the web page (issue 21): roles and a member's menu, kick,
ban, mute, topic settings and archives, blocking and reports, seen live by the others."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.web.chat_page import ChatPage
from tests.web.conftest import PHONE, NewPage

pytestmark = pytest.mark.browser


async def three_in(
    new_page: NewPage, topic: str, private: bool = False, phone: str = ""
) -> tuple[ChatPage, ChatPage, ChatPage]:
    """alice creates a topic (she owns it); bob and carol join it (are invited to a private one).
    The page of ``phone`` (a name) is phone-sized."""
    names = ("alice", "bob", "carol")
    alice, bob, carol = [await new_page(n, viewport=PHONE if n == phone else None) for n in names]
    for page in (alice, bob, carol):
        await page.register(page.name)
    await alice.create_topic(topic, private=private)
    for page in (bob, carol):
        if private:
            await alice.invite(page.name)
            await page.open_topic(topic)
        else:
            await page.join(topic)
    return alice, bob, carol


async def test_a_moderator_mutes_and_kicks_from_the_member_list(new_page) -> None:
    alice, bob, carol = await three_in(new_page, "town")
    await alice.open_members()
    await expect(alice.role_of("alice")).to_have_text("owner")

    # alice makes bob a moderator with the keyboard: his menu, then its second item.
    await alice.member("bob").get_by_test_id("member-menu-toggle").focus()
    await alice.page.keyboard.press("Enter")
    await expect(alice.by("member-menu").get_by_role("menuitem").first).to_be_focused()
    await expect(alice.by("member-menu").get_by_role("menuitem")).to_have_text(
        ["Make admin", "Make moderator", "Mute…", "Kick…", "Ban…", "Block"]  # Unmute: only if muted
    )
    await alice.page.keyboard.press("ArrowDown")
    await expect(alice.by("make-moderator")).to_be_focused()
    await alice.screenshot("member-menu")
    await alice.page.keyboard.press("Enter")
    await expect(alice.role_of("bob")).to_have_text("moderator")
    await expect(bob.system_message("alice made bob a moderator")).to_be_visible()
    await expect(bob.system_message("alice made bob a moderator")).to_have_attribute("data-action", "role")

    # bob (a moderator now) may act on carol, and not on alice, the owner.
    await bob.open_members()
    await expect(bob.member("alice").get_by_test_id("member-menu-toggle")).to_have_count(1)  # blocking only
    await bob.member("alice").get_by_test_id("member-menu-toggle").click()
    await expect(bob.by("member-menu").get_by_role("menuitem")).to_have_text(["Block"])
    await bob.page.keyboard.press("Escape")
    await expect(bob.by("member-menu")).to_have_count(0)
    await expect(bob.member("alice").get_by_test_id("member-menu-toggle")).to_be_focused()

    await bob.member_action("carol", "mute")
    await bob.fill_dialog(minutes="5")
    await expect(carol.by("read-only-bar")).to_have_attribute("data-reason", "muted")
    await expect(carol.by("read-only-bar")).to_contain_text(re.compile(r"You are muted in #town until \d"))
    await expect(carol.by("composer")).to_be_hidden()
    for page in (alice, bob, carol):
        await expect(page.system_message("bob muted carol for 5 minutes")).to_be_visible()
    await carol.screenshot("muted")
    # The members list marks her, with the mute's end, and offers Unmute, not Mute (issue 55, row 9).
    await expect(bob.member("carol").get_by_test_id("muted-tag")).to_have_text(re.compile(r"^muted until \d"))
    await bob.member("carol").get_by_test_id("member-menu-toggle").click()
    await expect(bob.by("member-menu").get_by_test_id("mute")).to_have_count(0)
    await bob.page.keyboard.press("Escape")
    await bob.screenshot("muted-mark")

    await bob.member_action("carol", "unmute")
    await expect(bob.member("carol").get_by_test_id("muted-tag")).to_have_count(0)
    await expect(carol.by("composer")).to_be_visible()
    await carol.send("I will behave")

    await bob.member_action("carol", "kick")
    await bob.fill_dialog(reason="spamming the town")
    await expect(carol.toast("You were removed from #town: spamming the town")).to_be_visible()
    await expect(carol.by("browse-list").get_by_test_id("topic-item")).to_have_attribute("data-topic", "town")
    await expect(carol.by("join-bar")).to_contain_text("You were removed from #town: spamming the town. Join")
    await carol.screenshot("kicked")
    for page in (alice, bob):
        await expect(page.system_message("bob removed carol (spamming the town)")).to_have_attribute(
            "data-action", "kick"
        )
    await expect(bob.member("carol")).to_have_count(0)
    await bob.screenshot("after-kick")
    await alice.send("after the kick")
    await expect(bob.message("after the kick")).to_be_visible()
    await expect(carol.message("after the kick")).to_have_count(0)  # her socket left the room

    await carol.by("join-topic").click()  # a kick is not a ban: she comes back
    await expect(carol.by("composer")).to_be_visible()
    await bob.member_action("carol", "ban")
    await bob.fill_dialog(minutes="90")
    banned = re.compile(r"You were banned from #town\. You cannot join until \S")
    await expect(carol.by("join-bar")).to_contain_text(banned)
    await carol.screenshot("banned-until")


async def test_a_ban_takes_a_private_topic_away_until_unbanned(new_page) -> None:
    alice, bob, _carol = await three_in(new_page, "council", private=True)
    await alice.member_action("bob", "ban")
    await alice.fill_dialog(reason="leaked the minutes")
    await expect(bob.toast("You were removed from #council: leaked the minutes")).to_be_visible()
    await expect(bob.topic("council")).to_have_count(0)
    await expect(bob.by("current-topic")).to_have_text("Parley")  # it was open: the page left it
    await expect(alice.system_message("alice banned bob (leaked the minutes)")).to_be_visible()

    await alice.by("invite-toggle").click()
    await alice.by("invite-username").fill("bob")
    await alice.by("invite-submit").click()
    await expect(alice.by("invite-error")).to_contain_text("banned")

    await alice.by("invite-toggle").click()  # closes the form
    await alice.by("unban-open").click()  # the bans in force, each with its end (issue 55, row 9)
    ban = alice.by("bans-dialog").locator('[data-testid="ban"][data-username="bob"]')
    await expect(ban.get_by_test_id("ban-until")).to_have_text("no end · by alice · “leaked the minutes”")
    await alice.screenshot("ban-list")
    await ban.get_by_test_id("ban-lift").click()
    await expect(alice.by("bans-empty")).to_have_text("Nobody is banned.")
    await alice.by("bans-dialog").get_by_test_id("dialog-cancel").click()
    await expect(alice.system_message("alice unbanned bob")).to_be_visible()
    await alice.invite("bob")
    await bob.open_topic("council")


async def test_a_refusal_of_the_server_is_shown(new_page) -> None:
    alice, bob, carol = await three_in(new_page, "rules", phone="bob")
    await alice.member_action("bob", "make-admin")
    await expect(alice.role_of("bob")).to_have_text("admin")
    await expect(carol.system_message("alice made bob an admin")).to_be_visible()
    await bob.open_members()
    await expect(bob.role_of("bob")).to_have_text("admin")
    await bob.member("alice").get_by_test_id("member-menu-toggle").click()  # the owner ranks above him
    await expect(bob.by("member-menu").get_by_role("menuitem")).to_have_text(["Block"])
    await bob.page.keyboard.press("Escape")

    await bob.member_action("carol", "ban")
    await bob.page.locator("dialog[open]").get_by_test_id("dialog-minutes").fill("0")
    await bob.page.locator("dialog[open]").get_by_test_id("dialog-submit").click()
    await expect(bob.by("dialog-error")).to_have_text("Minutes: a whole number of at least 1.")
    await bob.page.locator("dialog[open]").get_by_test_id("dialog-cancel").click()
    await bob.member_action("carol", "mute")  # the dialog is open when the owner raises carol
    await alice.member_action("carol", "make-admin")
    await expect(bob.role_of("carol")).to_have_text("admin")  # his list follows; the dialog stays
    await bob.page.locator("dialog[open]").get_by_test_id("dialog-submit").click()
    await expect(bob.toast("acts only on lower ranks")).to_have_attribute("data-kind", "error")
    await expect(bob.by("dialog-error")).to_contain_text("acts only on lower ranks")
    await carol.by("leave-topic").click()  # a leave shows in the list at once (topic:member)
    await expect(bob.member("carol")).to_have_count(0)
    assert await bob.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await bob.screenshot("refused")


async def test_an_archived_topic_is_read_only_with_its_description(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob", viewport=PHONE)
    await alice.register("alice")
    await bob.register("bob")
    await alice.create_topic("trip")
    await bob.join("trip")
    await expect(bob.by("settings-toggle")).to_be_hidden()  # a member manages nothing

    await alice.open_settings()
    await expect(alice.by("settings-name")).to_be_focused()
    await alice.by("settings-name").fill("trip-2026")
    await alice.by("settings-description").fill("Where we go in June, and who drives")
    await alice.by("settings-save").click()
    await expect(alice.by("current-topic")).to_have_text("trip-2026")
    await expect(alice.by("topic-description")).to_have_text("Where we go in June, and who drives")
    await expect(bob.by("current-topic")).to_have_text("trip-2026")
    await expect(bob.by("topic-description")).to_have_text("Where we go in June, and who drives")
    update = bob.system_message("alice renamed the topic to trip-2026 and changed the description")
    await expect(update).to_have_attribute("data-action", "update")
    await alice.screenshot("settings")

    await alice.by("settings-archive").click()
    confirm = alice.by("archive-confirm")  # asked first: it is read-only for everyone after
    await expect(confirm).to_contain_text("Nobody will be able to post")
    await confirm.get_by_test_id("dialog-submit").click()
    await expect(alice.by("settings-archive")).to_have_text("Unarchive topic")
    for page in (alice, bob):
        await expect(page.by("read-only-bar")).to_have_text("This topic is archived: it is read-only.")
        await expect(page.by("composer")).to_be_hidden()
        await expect(page.system_message("alice archived the topic")).to_be_visible()
    await bob.screenshot("archived")
    assert await bob.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await bob.page.reload()  # the Topic says so: "archived": true
    await expect(bob.by("read-only-bar")).to_have_text("This topic is archived: it is read-only.")

    await alice.by("settings-archive").click()
    await expect(bob.by("composer")).to_be_visible()
    await bob.send("we are back")
    await expect(alice.message("we are back")).to_be_visible()


# Blocking and reports: the server side comes from branch i21-blocks (until it is on main,
# user:block and message:report answer `invalid`, an unknown event).


async def test_a_blocked_user_s_messages_are_folded(new_page) -> None:
    alice, bob, _carol = await three_in(new_page, "market")
    await alice.member_action("bob", "block")
    await expect(alice.toast("You blocked bob")).to_be_visible()
    await expect(alice.member("bob").get_by_test_id("blocked-tag")).to_be_visible()

    await bob.send("buy my stuff")
    await bob.send("cheap, really")
    folded = alice.by("folded")
    await expect(folded).to_have_text(re.compile(r"^2 messages from a blocked user"))
    await expect(folded).to_have_attribute("data-blocked", "true")  # the server's mark, as seen by alice
    await expect(alice.message("buy my stuff")).to_have_count(0)
    await alice.screenshot("folded")
    await folded.click()
    await expect(alice.message("buy my stuff")).to_be_visible()
    await expect(alice.message("cheap, really")).to_be_visible()

    await alice.page.reload()  # history: still folded
    await expect(alice.by("folded")).to_have_attribute("data-count", "2")
    await alice.member_action("bob", "unblock")
    await expect(alice.toast("You unblocked bob")).to_be_visible()
    await expect(alice.message("buy my stuff")).to_be_visible()


async def test_a_message_is_reported_with_a_reason(new_page, live_server) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await bob.register("bob")
    await alice.create_topic("forum")
    await bob.join("forum")
    await alice.send("something rude")

    await bob.act_on("something rude", "report")
    await expect(bob.by("report-dialog")).to_be_visible()
    await expect(bob.by("dialog-reason")).to_be_focused()
    await bob.by("dialog-submit").click()
    await expect(bob.by("dialog-error")).to_have_text("Reason: please fill it in.")
    await bob.screenshot("report")
    await bob.fill_dialog(reason="insults the members")
    await expect(bob.toast("the message was reported")).to_be_visible()
    await expect(alice.by("toast")).to_have_count(0)  # nobody else is told
    await expect(alice.message("something rude").get_by_test_id("report")).to_have_count(0)  # not on my own
    stored = (await live_server.chat.reports.newest()).reports  # what the operator reads
    assert [(r.reporter, r.reason, r.message.excerpt) for r in stored] == [
        ("bob", "insults the members", "something rude")
    ]
