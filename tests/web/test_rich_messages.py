"""Rich messages in the web page (PROTOCOL.md section 13, issue 38): bodies rendered as Markdown,
sanitised against an XSS corpus, long ones folded, the composer's formatting keys, and link
preview cards.

Bodies come from a second person's real Socket.IO client (``live_server.user``) or the page's
composer; every page is a real Chromium on a live server. Screenshots go to tests/web/artifacts/.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Locator, Request, expect

from tests.support import Client
from tests.web.chat_page import ChatPage
from tests.web.conftest import NewPage
from tests.web.xss_corpus import XSS_CORPUS

pytestmark = pytest.mark.browser

# Any script a payload manages to run calls one of these: they record instead of opening a dialog.
RECORD_SCRIPTS = """
(() => {
  window.__xss = window.__xss || [];
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    window[name] = (...args) => { window.__xss.push(`${name}(${args.join(",")}) ${new Error().stack}`); };
  }
})();
"""

# What a rendered page must not hold: run by the XSS test over the whole document.
FIND_DANGER = """
(() => {
  const found = [];
  const badScheme = /^(?:javascript|data|vbscript|file):/;
  const URL_ATTRIBUTES = ["href", "src", "action", "formaction", "xlink:href", "data", "srcdoc",
    "background"];
  const favicon = (el) => el.matches('head > link[rel="icon"][href="data:,"]'); // the page's own, empty
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (!URL_ATTRIBUTES.includes(name)) continue;
      const value = attr.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (badScheme.test(value) && !favicon(el)) found.push(`${el.tagName} ${name}=${attr.value}`);
    }
  }
  const bodies = document.querySelectorAll(
    '[data-testid="message-body"], [data-testid="reply-quote-excerpt"]');
  for (const body of bodies) {
    for (const el of [body, ...body.querySelectorAll("*")]) {
      for (const attr of el.attributes) {
        if (attr.name.toLowerCase().startsWith("on")) found.push(`${el.tagName} ${attr.name} in a body`);
        if (attr.name.toLowerCase() === "style") found.push(`${el.tagName} style in a body`);
      }
    }
    const tags = "script, iframe, svg, style, img, object, embed, form, input, button, math, details, "
      + "link, meta";
    for (const el of body.querySelectorAll(tags)) found.push(`<${el.tagName.toLowerCase()}> in a body`);
    for (const link of body.querySelectorAll("a[href]")) {
      const href = link.getAttribute("href").trim().toLowerCase();
      if (!/^(?:https?:|mailto:)/.test(href)) found.push(`link to ${href}`);
      const opener = link.target !== "_blank" || !link.rel.includes("noopener");
      if (opener) found.push(`link ${href} without _blank/noopener`);
    }
  }
  return found;
})()
"""


class Outside:
    """Every request a page makes that is not to the server under test (it must make none)."""

    def __init__(self, chat_page: ChatPage) -> None:
        self.origin = urlsplit(chat_page.base_url).netloc
        self.seen: list[str] = []
        chat_page.page.context.on("request", self.note)

    def note(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.origin:
            self.seen.append(request.url)
        elif parts.scheme not in ("http", "https", "ws", "wss", "data", "blob"):
            self.seen.append(request.url)


async def room(new_page: NewPage, live_server: Any, topic: str) -> tuple[ChatPage, Client]:
    """alice's page owns ``topic``; bob, a Socket.IO client, is a member who posts in it."""
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic(topic)
    bob = await live_server.user("bob")
    await bob.ok("topic:subscribe", {"topic": topic})
    return alice, bob


async def post(client: Client, topic: str, body: str, **extra: Any) -> dict[str, Any]:
    """``message:send`` that must succeed; waits out the per-socket rate limit when it answers so."""
    for _ in range(50):
        ack = await client.call("message:send", {"topic": topic, "body": body, **extra})
        if ack["ok"]:
            message: dict[str, Any] = ack["data"]
            return message
        assert ack["error"]["code"] == "rate_limited", ack
        await asyncio.sleep(0.2)
    raise AssertionError("still rate limited")


async def previews_arrive(chat_page: ChatPage, topic: str, message_id: int, previews: list[Any]) -> None:
    """What the page does with ``message:previews`` {topic, id, previews}: its own handler, called."""
    payload = json.dumps({"topic": topic, "id": message_id, "previews": previews})
    await chat_page.test_hook(f"chat.previews.onUpdated({payload})")


def by_id(chat_page: ChatPage, message_id: int) -> Locator:
    return chat_page.page.locator(f'[data-testid="message"][data-id="{message_id}"]')


def body_of(chat_page: ChatPage, message_id: int) -> Locator:
    return by_id(chat_page, message_id).get_by_test_id("message-body")


async def test_bodies_render_as_markdown_with_links_code_emoji_and_mentions(new_page, live_server) -> None:
    alice, bob = await room(new_page, live_server, "notes")
    outside = Outside(alice)

    release = await post(
        bob, "notes", "The **release** is on Friday, see https://example.com/notes and run `make run`"
    )
    body = body_of(alice, release["id"])
    await expect(body.locator("strong")).to_have_text("release")
    link = body.locator('a[href="https://example.com/notes"]')
    await expect(link).to_have_text("https://example.com/notes")
    await expect(link).to_have_attribute("target", "_blank")
    assert "noopener" in (await link.get_attribute("rel") or "").split()
    await expect(body.locator("code")).to_have_text("make run")

    bare = await post(bob, "notes", "docs at www.python.org/3/, not notes.txt or example.com")
    www = body_of(alice, bare["id"]).locator("a")  # "www." is a link as people write it (row 13)
    await expect(www).to_have_count(1)
    await expect(www).to_have_attribute("href", "https://www.python.org/3/")
    await expect(www).to_have_text("www.python.org/3/")

    struck = await post(bob, "notes", "the ~~old~~ new plan, *italic* too")
    await expect(body_of(alice, struck["id"]).locator("s, del")).to_have_text("old")
    await expect(body_of(alice, struck["id"]).locator("em")).to_have_text("italic")

    code = await post(bob, "notes", "```python\ndef ship(version):\n    return f'v{version}'\n```")
    code_body = body_of(alice, code["id"])
    await expect(code_body.locator("pre code.language-python")).to_be_visible()
    await expect(code_body.locator(".hljs-keyword").first).to_have_text("def")
    await expect(code_body.locator(".hljs-title")).to_have_text("ship")

    party = await post(bob, "notes", "shipped :tada: and :rocket:")
    await expect(body_of(alice, party["id"])).to_have_text("shipped 🎉 and 🚀")

    picture = await post(bob, "notes", "![the diagram](https://example.com/diagram.png)")
    picture_link = body_of(alice, picture["id"]).locator('a[href="https://example.com/diagram.png"]')
    await expect(picture_link).to_have_text("the diagram")
    await expect(body_of(alice, picture["id"]).locator("img")).to_have_count(0)

    raw = await post(bob, "notes", "<b>not bold</b> stays as typed")
    await expect(body_of(alice, raw["id"])).to_have_text("<b>not bold</b> stays as typed")

    ping = await post(bob, "notes", "**heads up** @alice, see `@alice` in code")
    await expect(by_id(alice, ping["id"])).to_have_attribute("data-mentioned", "true")
    mention = body_of(alice, ping["id"]).get_by_test_id("mention")
    await expect(mention).to_have_count(1)  # not the one inside code
    await expect(mention).to_have_text("@alice")

    # A quote's excerpt is rendered inline: emphasis kept, no link inside the quote's button.
    answer = await post(bob, "notes", "agreed", reply_to=release["id"])
    quote = by_id(alice, answer["id"]).get_by_test_id("reply-quote-excerpt")
    await expect(quote.locator("strong")).to_have_text("release")
    await expect(quote.locator("a")).to_have_count(0)
    await by_id(alice, release["id"]).hover()
    await by_id(alice, release["id"]).get_by_test_id("reply").click()  # the composer's quote too
    await expect(alice.by("reply-preview-excerpt").locator("strong")).to_have_text("release")
    await alice.by("reply-cancel").click()

    lines = "\n".join(f"line {n} of the long log" for n in range(1, 41))
    long = await post(bob, "notes", lines)
    long_body = body_of(alice, long["id"])
    toggle = by_id(alice, long["id"]).get_by_test_id("show-more")
    await expect(long_body).to_have_class("msg-body md collapsed")
    await expect(toggle).to_have_text("Show more")
    folded = await long_body.bounding_box()
    await alice.screenshot("collapsed")
    await toggle.click()
    await expect(long_body).to_have_class("msg-body md")
    await expect(toggle).to_have_text("Show less")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    unfolded = await long_body.bounding_box()
    assert folded and unfolded and unfolded["height"] > folded["height"] * 2
    await expect(long_body.get_by_text("line 40 of the long log")).to_be_visible()
    await toggle.click()
    await expect(toggle).to_have_text("Show more")

    await by_id(alice, release["id"]).scroll_into_view_if_needed()
    await alice.screenshot("formatted")
    assert outside.seen == []  # the page never fetched example.com (no link was clicked)


async def test_an_edit_is_rendered_again_and_pending_sends_render_too(new_page, live_server) -> None:
    alice, _bob = await room(new_page, live_server, "drafts")
    await alice.by("composer").fill("draft *one*")
    await alice.by("composer").press("Enter")
    draft = alice.messages.filter(has=alice.page.locator("em", has_text="one"))
    await expect(draft).to_have_attribute("data-state", "sent")
    mine = by_id(alice, int(await draft.get_attribute("data-id") or 0))
    await mine.hover()
    await mine.get_by_test_id("edit").click()
    await expect(alice.by("edit-input")).to_have_value("draft *one*")
    await alice.by("edit-input").fill("final **two** with ~~three~~")
    await alice.by("edit-input").press("Enter")
    await expect(mine.get_by_test_id("edited-mark")).to_be_visible()
    await expect(mine.get_by_test_id("message-body").locator("strong")).to_have_text("two")
    await expect(mine.get_by_test_id("message-body").locator("s, del")).to_have_text("three")
    await expect(mine.get_by_test_id("message-body").locator("em")).to_have_count(0)


async def test_the_composer_keys_wrap_the_selection_in_markdown(new_page, live_server) -> None:
    alice, _bob = await room(new_page, live_server, "keys")
    composer = alice.by("composer")
    await composer.fill("hello world")
    await composer.press("Control+a")
    await composer.press("Control+b")
    await expect(composer).to_have_value("**hello world**")
    await composer.press("Control+i")  # the words are still selected, inside the stars
    await expect(composer).to_have_value("**_hello world_**")
    await composer.fill("make run")
    await composer.press("Control+a")
    await composer.press("Control+e")
    await expect(composer).to_have_value("`make run`")
    await composer.fill("x = 1\ny = 2")
    await composer.press("Control+a")
    await composer.press("Control+Shift+C")
    await expect(composer).to_have_value("```\nx = 1\ny = 2\n```")
    await composer.fill("bold: ")
    await composer.press("End")
    await composer.press("Control+b")  # nothing selected: the markers, the caret between them
    await composer.press_sequentially("now")
    await expect(composer).to_have_value("bold: **now**")
    await composer.press("Enter")
    await expect(alice.messages.last.locator("strong")).to_have_text("now")


async def test_the_xss_corpus_runs_nothing_and_loads_nothing_foreign(new_page, live_server) -> None:
    alice, mallory = await room(new_page, live_server, "xss")
    dialogs: list[str] = []
    alice.page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await alice.page.context.add_init_script(RECORD_SCRIPTS)  # for the reload below
    await alice.evaluate(RECORD_SCRIPTS)  # for this page, which sees the bodies arrive live
    outside = Outside(alice)

    sent = [await post(mallory, "xss", body) for body in XSS_CORPUS]
    # Quotes of payloads (excerpts rendered inline) and a thread reply (the thread panel).
    sent.append(await post(mallory, "xss", "re", reply_to=sent[1]["id"]))
    sent.append(await post(mallory, "xss", "re", reply_to=sent[20]["id"]))
    sent.append(await post(mallory, "xss", "<img src=x onerror=alert(2)> in a thread", thread=sent[0]["id"]))

    async def check(when: str) -> None:
        await expect(alice.messages).to_have_count(len(sent))
        await expect(body_of(alice, sent[0]["id"])).to_have_text(
            "<script>alert(1)</script>"
        )  # text, not markup
        await expect(body_of(alice, sent[-1]["id"])).to_contain_text("<img src=x onerror=alert(2)>")
        await alice.page.wait_for_load_state("networkidle")
        assert await alice.evaluate("window.__xss") == [], when
        assert dialogs == [], when
        assert await alice.evaluate(FIND_DANGER) == [], when

    await check("live")
    await alice.screenshot("xss-live")

    await alice.page.reload()  # the same bodies from history
    await alice.expect_open("xss")
    await check("history")
    root = by_id(alice, sent[0]["id"])
    await root.hover()
    await root.get_by_test_id("thread").click()
    await expect(alice.thread_panel.get_by_test_id("thread-reply")).to_have_count(1)
    await check("thread panel")
    await alice.screenshot("xss-history")
    assert outside.seen == [], outside.seen

    # The check itself sees what it looks for (a control: planted by the test, not rendered).
    planted = await alice.evaluate(
        """(() => {
          const a = document.createElement("a");
          a.href = " JavaScript:alert(1)";
          a.setAttribute("onclick", "x");
          document.querySelector('[data-testid="message-body"]').append(a);
        })()"""
    )
    assert planted is None
    found = await alice.evaluate(FIND_DANGER)
    assert any("javascript" in f.lower() for f in found) and any("onclick" in f for f in found), found


async def test_preview_cards_render_under_the_message_and_the_sender_may_remove_them(
    new_page, live_server
) -> None:
    alice, bob = await room(new_page, live_server, "links")
    outside = Outside(alice)
    for n in range(12):  # enough to scroll: a late card must not move the view off the bottom
        await post(bob, "links", f"filler {n}")
    theirs = await post(bob, "links", "read https://example.com/post")
    await alice.by("composer").fill("mine: https://example.org/page")
    await alice.by("composer").press("Enter")
    await expect(alice.messages.last).to_have_attribute("data-state", "sent")
    mine_id = int(await alice.messages.last.get_attribute("data-id") or 0)
    assert mine_id

    # The page's own handler of message:previews (chat.previews.onUpdated), with the event's payload:
    # the server side of previews is not in this branch yet (see the report).
    previews = [
        {
            "url": "https://example.com/post",
            "title": "A <b>post</b> title",
            "description": "What the post says, <script>alert(1)</script> as text.",
            "site_name": "Example",
            "image": {"url": "/api/previews/7/image", "width": 640, "height": 320},
        },
        {"url": "javascript:alert(1)", "title": "bad", "description": "", "site_name": "", "image": None},
        {
            "url": "https://example.net/",
            "title": "",
            "description": "",
            "site_name": None,
            "image": {"url": "https://evil.example/x.png", "width": 10, "height": 10},
        },
    ]
    await previews_arrive(alice, "links", theirs["id"], previews)
    cards = by_id(alice, theirs["id"]).get_by_test_id("preview-card")
    await expect(cards).to_have_count(2)  # not the javascript: one
    first = cards.first
    title = first.get_by_test_id("preview-title")
    await expect(title).to_have_text("A <b>post</b> title")
    await expect(title).to_have_attribute("href", "https://example.com/post")
    await expect(title).to_have_attribute("target", "_blank")
    await expect(title).to_have_attribute("rel", "noopener noreferrer nofollow")
    await expect(first.get_by_test_id("preview-description")).to_have_text(
        "What the post says, <script>alert(1)</script> as text."
    )
    await expect(first.get_by_test_id("preview-site")).to_have_text("Example")
    image = first.get_by_test_id("preview-image")
    await expect(image).to_have_attribute("width", "640")
    await expect(image).to_have_attribute("height", "320")
    await expect(image).to_have_attribute("loading", "lazy")
    await expect(cards.nth(1).get_by_test_id("preview-title")).to_have_text("https://example.net/")
    await expect(cards.nth(1).get_by_test_id("preview-image")).to_have_count(0)  # a foreign image: never
    await expect(first.get_by_test_id("preview-remove")).to_have_count(0)  # bob's message: not mine
    scroller = alice.by("messages")
    gap = "(el) => el.scrollHeight - el.scrollTop - el.clientHeight"
    assert await scroller.evaluate(gap) < 48  # still at the bottom

    # A re-render (a reaction) keeps the cards; a message not loaded is ignored.
    await previews_arrive(alice, "links", 999999, previews)
    await bob.ok("reaction:add", {"id": theirs["id"], "emoji": "👍"})
    await expect(by_id(alice, theirs["id"]).get_by_test_id("reaction")).to_have_count(1)
    await expect(cards).to_have_count(2)

    # My own message's cards have a remove button, which asks the server (message:previews:remove).
    await previews_arrive(alice, "links", mine_id, previews[:1])
    remove = by_id(alice, mine_id).get_by_test_id("preview-remove")
    await expect(remove).to_be_visible()
    await alice.screenshot("previews")
    await remove.click()
    # The server removes them (alice sent it) and tells the members: message:previews with [].
    await expect(by_id(alice, mine_id).get_by_test_id("preview-card")).to_have_count(0)
    sent = [entry for entry in alice.timeline if "message:previews:remove" in entry]
    assert sent, "the remove button did not emit message:previews:remove"

    # The server's removal (message:previews with []) takes the cards away.
    await previews_arrive(alice, "links", theirs["id"], [])
    await expect(cards).to_have_count(0)
    assert outside.seen == [], outside.seen


async def test_pins_and_search_show_bodies_without_letting_the_highlight_become_markup(
    new_page, live_server
) -> None:
    alice, bob = await room(new_page, live_server, "pinboard")
    notes = await post(bob, "pinboard", "The **release** checklist: `make run` then <i>ship</i>")
    message = by_id(alice, notes["id"])
    await message.hover()
    await message.get_by_test_id("pin").click()
    await expect(message.get_by_test_id("pinned-mark")).to_be_visible()
    await alice.by("pins-toggle").click()
    pinned = alice.by("pinned-item").get_by_test_id("message-body")
    await expect(pinned.locator("strong")).to_have_text("release")
    await expect(pinned.locator("code")).to_have_text("make run")
    await expect(pinned).to_contain_text("<i>ship</i>")  # raw HTML stays text there too

    await alice.by("search-toggle").click()
    await alice.by("search-input").fill("checklist")
    await alice.by("search-input").press("Enter")
    highlight = alice.by("search-hit").get_by_test_id("search-highlight")
    await expect(highlight.locator("mark")).to_have_text("checklist")
    # The server's highlight is escaped text with <mark>s: shown as text, never rendered as Markdown
    # or HTML, and read as text: Markdown's markers go (issue 55, row 13).
    await expect(highlight).to_contain_text("The release")
    await expect(highlight).not_to_contain_text("**")
    await expect(highlight.locator("strong, code, i")).to_have_count(0)
    await alice.screenshot("pins-and-search")


async def test_without_the_sanitiser_bodies_are_plain_text(new_page, live_server) -> None:
    """Markdown is never rendered without DOMPurify behind it: a missing package means plain text."""
    alice, bob = await room(new_page, live_server, "plain")
    await alice.page.context.route("**/vendor/dompurify/**", lambda route: route.abort())
    await alice.page.reload()
    await alice.expect_open("plain")
    sent = await post(bob, "plain", "**bold** <img src=x onerror=alert(1)> @alice")
    body = body_of(alice, sent["id"])
    await expect(body).to_have_text("**bold** <img src=x onerror=alert(1)> @alice")
    await expect(body.locator("strong, img")).to_have_count(0)
    await expect(body.get_by_test_id("mention")).to_have_text("@alice")  # mentions still set apart
