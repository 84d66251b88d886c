"""Search from the web page (PROTOCOL.md section 9, issue 22): the search panel opened by
keyboard or button, hits with their highlights, "More results" with the cursor, and a jump
from a hit to its message, loaded with its neighbours and marked, at desktop and phone width.
The highlight is the one piece of server HTML the page shows: it becomes text and <mark>
elements only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.support import Client, LiveServer, send
from tests.web.chat_page import ChatPage
from tests.web.conftest import PHONE, NewPage

pytestmark = pytest.mark.browser

NEEDLE = 'the <b>kiwi</b> & "mango" plan'


async def ops_with_history(live_server: LiveServer, count: int = 150, needle_at: int = 5) -> dict[str, Any]:
    """alice's public topic ``ops`` with ``count`` messages; the ``needle_at``-th is NEEDLE.

    bob is registered, not a member: nothing reaches him as a backlog, he reads what he opens.
    """
    alice = await live_server.user("alice")
    await live_server.register("bob")
    await alice.ok("topic:create", {"name": "ops"})
    needle: dict[str, Any] = {}
    for n in range(1, count + 1):
        sent = await send(alice, {"topic": "ops", "body": NEEDLE if n == needle_at else f"status line {n}"})
        if n == needle_at:
            needle = sent
    return needle


async def bob_signed_in(new_page: NewPage, viewport: dict[str, int] | None = None) -> ChatPage:
    page = await new_page("bob", viewport)
    await page.log_in("bob")
    return page


async def search_for(page: ChatPage, query: str) -> None:
    await page.by("search-input").fill(query)
    await page.by("search-input").press("Enter")
    await expect(page.by("search-status")).not_to_have_text(re.compile("Searching"))


async def test_search_from_the_page_and_jump_to_the_message(live_server: LiveServer, new_page) -> None:
    needle = await ops_with_history(live_server)
    bob = await bob_signed_in(new_page)
    await bob.open_topic("ops")
    await expect(bob.message("status line 150")).to_be_visible()
    await expect(bob.message(NEEDLE)).to_have_count(0)  # far back: not in the newest page

    await bob.page.keyboard.press("Control+k")
    await expect(bob.by("search-panel")).to_be_visible()
    await expect(bob.by("search-input")).to_be_focused()
    await bob.by("search-help").locator("summary").click()  # the operators, listed
    await expect(bob.by("search-help")).to_contain_text("from:alice")
    await search_for(bob, "kiwi mango")

    hit = bob.by("search-hit")
    await expect(hit).to_have_count(1)
    await expect(hit).to_have_attribute("data-id", str(needle["id"]))
    await expect(hit.get_by_test_id("search-hit-place")).to_have_text("#ops")
    text = hit.get_by_test_id("search-highlight")
    await expect(text).to_have_text(NEEDLE)  # the escaped body shown as text, tags and all
    await expect(text.locator("mark")).to_have_text(["kiwi", "mango"])
    await expect(text.locator("*:not(mark)")).to_have_count(0)
    await expect(bob.by("search-status")).to_have_text("1 message, newest first")
    await bob.screenshot("hits")

    await hit.click()
    found = bob.message(NEEDLE)
    await expect(found).to_be_visible()
    await expect(found).to_have_class(re.compile(r"\bfound\b"))
    await expect(found).to_be_focused()
    await expect(found).to_be_in_viewport()
    for neighbour in (needle["seq"] - 1, needle["seq"] + 1):  # the messages around it came too
        await expect(bob.message(f"status line {neighbour}")).to_be_attached()
    await expect(bob.by("search-panel")).to_be_visible()  # beside the conversation on a desktop
    await bob.screenshot("jumped")

    # Between the messages around the hit (up to seq 15) and the newest page (101-150): a gap
    # (scrolling up may fill it from its other end too), filled forward a page at a time.
    gap = bob.by("history-gap")
    await expect(gap).to_have_text(re.compile(r"^\d+ more messages here: show them$"))
    for _ in range(3):
        if await gap.count() == 0:
            break
        missing = int((await gap.inner_text()).split()[0])
        await gap.click()
        await expect(gap.filter(has_text=f"{missing} more")).to_have_count(0)
    await expect(gap).to_have_count(0)
    await expect(bob.messages).to_have_count(150)
    await expect(bob.page.locator("[data-testid=message]:focus")).to_have_count(1)  # not lost


async def test_more_results_page_with_the_cursor_from_the_keyboard(live_server: LiveServer, new_page) -> None:
    await ops_with_history(live_server, count=25, needle_at=0)
    bob = await bob_signed_in(new_page)
    await bob.page.evaluate("document.activeElement.blur()")  # out of #lobby's composer, where he lands
    await bob.page.locator("body").press("/")  # "/" outside a text field opens the search
    await expect(bob.by("search-input")).to_be_focused()
    await search_for(bob, "status")
    await expect(bob.by("search-hit")).to_have_count(20)
    await expect(bob.by("search-status")).to_have_text("20 messages so far, newest first")
    first = bob.by("search-hit").first
    await expect(first.get_by_test_id("search-highlight")).to_have_text("status line 25")

    await bob.by("search-more").click()
    await expect(bob.by("search-hit")).to_have_count(25)
    await expect(bob.by("search-more")).to_be_hidden()
    await expect(bob.by("search-status")).to_have_text("25 messages, newest first")
    ids = await bob.by("search-hit").evaluate_all("(hits) => hits.map((h) => Number(h.dataset.id))")
    assert ids == sorted(set(ids), reverse=True)  # no repeats, newest first

    # Keyboard: from the box down to the hits, Enter opens the message.
    await bob.by("search-input").focus()
    await bob.page.keyboard.press("ArrowDown")
    await bob.page.keyboard.press("ArrowDown")
    await expect(bob.by("search-hit").nth(1)).to_be_focused()
    await bob.page.keyboard.press("Enter")
    await bob.expect_open("ops")
    await expect(bob.message("status line 24")).to_have_class(re.compile(r"\bfound\b"))

    await bob.page.keyboard.press("Escape")
    await expect(bob.by("search-panel")).to_be_hidden()


async def test_a_search_in_the_open_conversation_only(live_server: LiveServer, new_page) -> None:
    carol: Client = await live_server.user("carol")
    await carol.ok("topic:create", {"name": "garden"})
    await send(carol, {"topic": "garden", "body": "water the tomatoes"})
    await carol.ok("topic:create", {"name": "kitchen"})
    await send(carol, {"topic": "kitchen", "body": "tomatoes for the soup"})
    await live_server.register("bob")
    bob = await bob_signed_in(new_page)
    await bob.open_topic("kitchen")
    await bob.by("search-toggle").click()
    await search_for(bob, "tomatoes")
    await expect(bob.by("search-hit")).to_have_count(2)  # public topics bob has not joined too
    await bob.by("search-scope").check()
    await expect(bob.by("search-hit")).to_have_count(1)
    await expect(bob.by("search-hit").get_by_test_id("search-hit-place")).to_have_text("#kitchen")
    await search_for(bob, "nothing-like-this")
    await expect(bob.by("search-status")).to_have_text("No messages found.")


async def test_at_phone_width_the_panel_gives_way_to_the_message(live_server: LiveServer, new_page) -> None:
    needle = await ops_with_history(live_server, count=60, needle_at=3)
    bob = await bob_signed_in(new_page, PHONE)
    await bob.open_topic("ops")
    await bob.by("search-toggle").click()
    await expect(bob.by("search-panel")).to_be_visible()
    await search_for(bob, "mango")
    await bob.screenshot("hits")
    await bob.by("search-hit").click()
    await expect(bob.by("search-panel")).to_be_hidden()
    found = bob.message(NEEDLE)
    await expect(found).to_be_in_viewport()
    await expect(found).to_have_attribute("data-id", str(needle["id"]))
    await bob.screenshot("jumped")


async def test_a_highlight_becomes_text_and_marks_only(new_page) -> None:
    """The parser the panel uses, run in the page on what a server could send."""
    page = await new_page("anyone")
    results = await page.evaluate(
        """async () => {
          const { highlightNodes } = await import("/js/ui/highlight.js");
          const cases = [
            "a &lt;b&gt; &amp; <mark>kiwi</mark> &#x27;x&#39;",
            "<b>bold</b>", "<mark>open", "x</mark>", "<mark><mark>n</mark></mark>",
            "<img src=x onerror=alert(1)>", "a < b", "AT&T", "&nosuch;", "&#0;",
          ];
          return cases.map((html) => {
            const nodes = highlightNodes(html);
            if (nodes === null) return null;
            const box = document.createElement("p");
            box.append(...nodes);
            return { text: box.textContent, tags: [...box.querySelectorAll("*")].map((e) => e.tagName) };
          });
        }"""
    )
    assert results[0] == {"text": "a <b> & kiwi 'x'", "tags": ["MARK"]}
    assert results[1:] == [None] * 9


async def test_a_highlight_reads_as_text_not_as_typed_markdown(new_page) -> None:
    """Search hits showed ``**bold**`` and ``[notes](https://...)`` as typed (issue 55, row 13)."""
    page = await new_page("anyone")
    shown = await page.evaluate(
        """async () => {
          const { highlightNodes } = await import("/js/ui/highlight.js");
          const cases = [
            "the **<mark>release</mark>** is `make run`, see [the notes](https://example.com/n)",
            "# <mark>Plan</mark>\\n&gt; quoted ~~old~~ snake_case *kept*",
          ];
          return cases.map((html) => {
            const box = document.createElement("p");
            box.append(...highlightNodes(html));
            return [box.textContent, box.querySelector("mark")?.textContent];
          });
        }"""
    )
    assert shown == [
        ["the release is make run, see the notes", "release"],
        ["Plan\nquoted old snake_case *kept*", "Plan"],
    ]
