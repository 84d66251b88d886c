"""The page by keyboard alone (issue 55 item 8): open a conversation from the sidebar and type at
once, send, react, edit the last message with ArrowUp; the message list is one Tab stop (arrows
inside), so the composer is a few Tab presses from the sidebar whatever the number of messages;
the skip link; Escape closes a panel and gives the focus back to the composer.

No mouse: every step is a key press (Playwright's keyboard), and what has the focus is checked
with ``to_be_focused``.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, expect

from tests.web.chat_page import ChatPage
from tests.web.conftest import PHONE

pytestmark = pytest.mark.browser


# The first element of the page that Tab can reach (in document order, shown, not tabindex -1).
FIRST_STOP = (
    ":is(a[href], button, input, select, textarea, [tabindex]):not([tabindex='-1']):not([disabled])"
    ":not([hidden]):visible >> nth=0"
)
FOCUSED = """() => { const el = document.activeElement;
  const name = (el.getAttribute("aria-label") ?? el.textContent).slice(0, 30);
  return `${el.tagName.toLowerCase()}[${el.dataset.testid ?? el.className}] ${name}`; }"""


async def tab_until(page: ChatPage, target: Locator, limit: int = 40) -> int:
    """Press Tab until ``target`` has the focus; how many presses it took."""
    passed = []
    for presses in range(1, limit + 1):
        await page.page.keyboard.press("Tab")
        if await target.evaluate("el => el === document.activeElement"):
            return presses
        passed.append(await page.evaluate(FOCUSED))
    raise AssertionError(f"{limit} Tab presses did not reach {target}: " + "\n".join(passed))


async def focus_topic(page: ChatPage, name: str) -> None:
    """The sidebar's button of a conversation takes the focus, by Tab from the skip link (the page's
    first stop: where Tab starts from the top of the page; a new user's page is in #lobby's
    composer by then, so the test puts the focus there as a reader starting over would)."""
    await expect(page.page.locator(FIRST_STOP)).to_have_attribute("data-testid", "skip-link")
    await page.by("skip-link").focus()
    await tab_until(page, page.topic(name))


async def test_open_send_react_and_edit_by_keyboard(new_page, live_server) -> None:
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "general"})
    await bob.ok("message:send", {"topic": "general", "body": "morning, all"})
    alice = await new_page("alice")
    await alice.register("alice")
    await bob.ok("topic:invite", {"topic": "general", "username": "alice"})
    await expect(alice.topic("general")).to_be_visible()

    await focus_topic(alice, "general")
    await alice.page.keyboard.press("Enter")
    await alice.expect_open("general")
    await expect(alice.by("composer")).to_be_focused()  # typing goes to the conversation at once
    await alice.page.keyboard.type("hello by keyboard")
    await alice.page.keyboard.press("Enter")
    await expect(alice.message("hello by keyboard")).to_have_attribute("data-state", "sent")
    await expect(alice.by("composer")).to_be_focused()

    # React to bob's message: Shift+Tab into the list (its newest message), ArrowUp to bob's,
    # Enter to its first action, Tab on to "Add a reaction", Enter opens the picker at its first emoji.
    await alice.page.keyboard.press("Shift+Tab")  # the attach button
    await alice.page.keyboard.press("Shift+Tab")
    await expect(alice.message("hello by keyboard")).to_be_focused()
    await alice.page.keyboard.press("ArrowUp")
    await expect(alice.message("morning, all")).to_be_focused()
    await alice.page.keyboard.press("Enter")
    await expect(alice.message("morning, all").get_by_test_id("reply")).to_be_focused()
    await tab_until(alice, alice.message("morning, all").get_by_test_id("react"), limit=3)
    await alice.page.keyboard.press("Enter")
    await expect(alice.message("morning, all").get_by_test_id("pick-emoji").first).to_be_focused()
    await alice.page.keyboard.press("Enter")
    await expect(alice.by("reaction-picker")).to_have_count(0)
    reactions = alice.message("morning, all").get_by_test_id("reaction")
    await expect(reactions).to_have_count(1)
    await expect(reactions).to_have_attribute("data-me", "true")

    # Back to the composer; ArrowUp in the empty box edits my last message, Enter saves.
    await alice.page.keyboard.press("Escape")
    await expect(alice.message("morning, all")).to_be_focused()
    await tab_until(alice, alice.by("composer"), limit=3)
    await alice.page.keyboard.press("ArrowUp")
    edit = alice.by("edit-input")
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value("hello by keyboard")
    await alice.page.keyboard.press("End")
    await alice.page.keyboard.type(", edited")
    await alice.page.keyboard.press("Enter")
    await expect(alice.message("hello by keyboard, edited").get_by_test_id("edited-mark")).to_be_visible()

    # Escape cancels an edit and gives the focus back to the composer.
    await alice.by("composer").focus()
    await expect(alice.by("composer")).to_be_focused()
    await alice.page.keyboard.press("ArrowUp")
    await expect(alice.by("edit-input")).to_be_focused()
    await alice.page.keyboard.type(" not kept")
    await alice.page.keyboard.press("Escape")
    await expect(alice.by("edit-input")).to_have_count(0)
    await expect(alice.by("composer")).to_be_focused()
    await expect(alice.message("hello by keyboard, edited")).to_be_visible()
    await alice.screenshot()


async def test_the_message_list_is_one_tab_stop(new_page, live_server) -> None:
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "many"})
    for n in range(1, 4):
        await bob.ok("message:send", {"topic": "many", "body": f"many {n}"})
    alice = await new_page("alice")
    await alice.register("alice")
    await bob.ok("topic:invite", {"topic": "many", "username": "alice"})
    await alice.topic("many").focus()
    await alice.page.keyboard.press("Enter")
    await alice.expect_open("many")
    await expect(alice.messages).to_have_count(3)
    await alice.topic("many").focus()
    few = await tab_until(alice, alice.by("composer"), limit=20)

    for n in range(4, 61):
        await bob.ok("message:send", {"topic": "many", "body": f"many {n}"})
    await expect(alice.messages).to_have_count(60)
    await alice.topic("many").focus()
    many = await tab_until(alice, alice.by("composer"), limit=20)
    assert few == many < 20, (few, many)  # the sidebar's forms and the header's buttons, one message

    # Arrows move between messages; Home and End go to the first and the newest held.
    await alice.by("composer").press("Shift+Tab")
    await alice.page.keyboard.press("Shift+Tab")
    await expect(alice.message("many 60")).to_be_focused()
    await alice.page.keyboard.press("ArrowUp")
    await expect(alice.message("many 59")).to_be_focused()
    await alice.page.keyboard.press("ArrowDown")
    await expect(alice.message("many 60")).to_be_focused()
    await alice.page.keyboard.press("Home")
    await expect(alice.message("many 1")).to_be_focused()
    await alice.page.keyboard.press("End")
    await expect(alice.message("many 60")).to_be_focused()
    await expect(alice.page.locator('[data-testid="message"][tabindex="0"]')).to_have_count(1)


async def test_the_skip_link_and_escape(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.expect_open("lobby")  # a new user lands in #lobby, typing into its composer
    await expect(alice.by("composer")).to_be_focused()
    skip = alice.by("skip-link")
    await expect(alice.page.locator(FIRST_STOP)).to_have_attribute("data-testid", "skip-link")
    await skip.focus()
    await expect(skip).to_be_in_viewport()
    await expect(skip).to_have_text("Skip to composer")

    await alice.create_topic("general")
    await alice.send("pin me")
    await skip.focus()
    await expect(skip).to_have_text("Skip to composer")
    await alice.page.keyboard.press("Enter")
    await expect(alice.by("composer")).to_be_focused()

    await alice.by("pins-toggle").focus()
    await alice.page.keyboard.press("Enter")
    await expect(alice.by("pins-panel")).to_be_visible()
    await alice.page.keyboard.press("Escape")
    await expect(alice.by("pins-panel")).to_be_hidden()
    await expect(alice.by("composer")).to_be_focused()


async def test_the_drawer_at_phone_width(new_page) -> None:
    alice = await new_page("alice", viewport=PHONE)
    await alice.register("alice")
    await alice.create_topic("pocket")
    await expect(alice.by("composer")).to_be_focused()
    # The closed drawer is out of the Tab order: from the skip link, Tab reaches the header.
    await alice.by("skip-link").focus()
    await alice.page.keyboard.press("Tab")
    await expect(alice.by("sidebar-toggle")).to_be_focused()
    await alice.page.keyboard.press("Enter")
    await expect(alice.by("sidebar")).to_be_in_viewport()
    await expect(alice.topic("pocket")).to_be_focused()  # the drawer opens at the open conversation
    await alice.page.keyboard.press("Escape")
    await expect(alice.by("sidebar")).not_to_be_in_viewport()
    await expect(alice.by("sidebar-toggle")).to_be_focused()
