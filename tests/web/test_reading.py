"""Reading a conversation (issue 55, items 2 and 4): images keep their box before they load, so a
conversation of 100 messages with images opens at the newest; one with more unread messages than
a screenful opens at a "New messages" line, and the read mark moves only as the reader scrolls;
"Jump to latest" takes a reader who scrolled up back down; a new user lands in #lobby."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Route, expect

from tests.files_support import png, uploaded
from tests.support import PASSWORD, Client, LiveServer, bearer, polled, send
from tests.web.chat_page import ChatPage
from tests.web.conftest import DESKTOP, PHONE, NewPage

pytestmark = pytest.mark.browser

SIZES = [(640, 480), (300, 900), (1200, 300), (500, 500), (200, 100)]

# Where the last message is, seen from the messages' scroller (CSS pixels).
LAST_IN_VIEW = """() => {
  const box = document.querySelector('[data-testid=messages]').getBoundingClientRect();
  const all = document.querySelectorAll('[data-testid=message]');
  const last = all[all.length - 1].getBoundingClientRect();
  return last.bottom <= box.bottom + 1 && last.top >= box.top - 1;
}"""
IMAGES_LOADED = """() => [...document.querySelectorAll('[data-testid=file-thumbnail-img]')]
  .every((img) => img.complete && img.naturalWidth > 0)"""


async def seed(server: LiveServer, alice: Client, token: str, count: int, first: int = 1) -> None:
    """alice posts ``count`` messages in #photos; every tenth carries an image of its own size."""
    for n in range(first, first + count):
        payload: dict[str, Any] = {"topic": "photos", "body": f"message {n}"}
        if n % 10 == 0:
            width, height = SIZES[(n // 10) % len(SIZES)]
            image = await uploaded(server, token, png(width, height), f"p{n}.png")
            payload["files"] = [image["id"]]
        await send(alice, payload)


async def signed_in(new_page: NewPage, name: str, viewport: dict[str, int]) -> ChatPage:
    page = await new_page(name, viewport=viewport)
    await page.log_in(name, PASSWORD)
    return page


async def read_seq(server: LiveServer, token: str) -> int:
    response = await server.http.get("/api/topics/photos", headers=bearer(token))
    assert response.status_code == 200, response.text
    seq: int = response.json()["read_seq"]
    return seq


async def read_at_least(server: LiveServer, token: str, seq: int) -> bool:
    """The server's read mark, which the page moves with a ``read`` nothing tells the test about."""
    return await read_seq(server, token) >= seq


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_conversation_of_100_messages_with_images_opens_at_the_newest(
    new_page: NewPage, live_server: LiveServer, viewport: dict[str, int]
) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:create", {"name": "photos"})
    await seed(live_server, alice, token, 100)

    page = await signed_in(new_page, "alice", viewport)
    release = asyncio.Event()  # the thumbnails arrive after the conversation is shown, as on a slow link

    async def held(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.page.route("**/thumbnail", held)
    await page.open_topic("photos")
    await expect(page.message("message 100")).to_be_visible()
    assert await page.evaluate(LAST_IN_VIEW), "the newest message is not in view"
    release.set()
    await page.page.wait_for_function(IMAGES_LOADED)
    assert await page.evaluate(LAST_IN_VIEW), "the images pushed the newest message out of view"
    await expect(page.by("jump-latest")).to_be_hidden()
    await expect(page.by("unread-line")).to_have_count(0)
    await page.screenshot("newest")

    # Scrolled up, "Jump to latest" appears and takes the reader back down.
    await page.by("messages").evaluate("el => { el.scrollTop = 0; }")
    await expect(page.by("jump-latest")).to_be_visible()
    await expect(page.by("jump-latest")).to_have_text("Jump to latest")
    await page.by("jump-latest").click()
    await expect(page.by("jump-latest")).to_be_hidden()
    assert await page.evaluate(LAST_IN_VIEW)


async def test_thumbnails_keep_their_box_before_the_image_arrives(
    new_page: NewPage, live_server: LiveServer
) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:create", {"name": "photos"})
    image = await uploaded(live_server, token, png(300, 900), "tall.png")
    await send(alice, {"topic": "photos", "body": "tall", "files": [image["id"]]})

    page = await signed_in(new_page, "alice", DESKTOP)
    await page.page.route("**/thumbnail", lambda _route: None)  # the thumbnail never arrives
    await page.open_topic("photos")
    thumb = page.message("tall").get_by_test_id("file-thumbnail-img")
    box = await thumb.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (300, 900)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_many_unread_open_at_the_new_messages_line_and_are_read_as_scrolled(
    new_page: NewPage, live_server: LiveServer, viewport: dict[str, int]
) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:create", {"name": "photos"})
    await seed(live_server, alice, token, 5)
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await bob.ok("topic:subscribe", {"topic": "photos"})  # bob has read the first 5
    await bob.close()
    await seed(live_server, alice, token, 120, first=6)
    assert await read_seq(live_server, bob_token) == 5

    page = await signed_in(new_page, "bob", viewport)
    await expect(page.unread("photos")).to_have_text("99+")
    await page.open_topic("photos")
    line = page.by("unread-line")
    await expect(line).to_be_visible()
    await expect(line).to_have_text("New messages")
    first = page.message("message 6")
    await expect(first).to_be_in_viewport()
    near_top = """([line]) => {
      const box = document.querySelector('[data-testid=messages]').getBoundingClientRect();
      const at = line.getBoundingClientRect();
      return at.top >= box.top - 1 && at.top - box.top < box.height / 4;
    }"""
    assert await line.evaluate(f"(el) => ({near_top})([el])"), "the line is not near the top"
    await expect(page.message("message 125")).not_to_be_in_viewport()
    await expect(page.by("jump-latest")).to_be_visible()
    await page.screenshot("unread-line")

    # What is in view is read, not the rest.
    await polled(lambda: read_at_least(live_server, bob_token, 7), within=10)
    seen = await read_seq(live_server, bob_token)
    assert seen < 125
    await expect(page.unread("photos")).to_have_count(1)  # still unread (a closed drawer at phone width)

    # A screen further down, a screen more is read; still not the end.
    await page.by("messages").evaluate("el => { el.scrollTop += el.clientHeight; }")
    await polled(lambda: read_at_least(live_server, bob_token, seen + 1), within=10)
    assert await read_seq(live_server, bob_token) < 125

    await page.by("jump-latest").click()
    await polled(lambda: read_at_least(live_server, bob_token, 125), within=10)
    await expect(page.unread("photos")).to_have_count(0)
    assert await page.evaluate(LAST_IN_VIEW)
    await expect(line).to_be_visible()  # the line stays while bob is in the conversation

    await page.open_topic("lobby")  # leaving it: the line goes, as everything was read
    await page.open_topic("photos")
    await expect(page.message("message 125")).to_be_in_viewport()
    await expect(line).to_have_count(0)


async def test_a_few_unread_open_at_the_bottom_with_the_line(
    new_page: NewPage, live_server: LiveServer
) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("topic:create", {"name": "photos"})
    await seed(live_server, alice, token, 30)
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token)
    await bob.ok("topic:subscribe", {"topic": "photos"})
    await bob.close()
    await seed(live_server, alice, token, 2, first=31)

    page = await signed_in(new_page, "bob", DESKTOP)
    await page.open_topic("photos")
    await expect(page.by("unread-line")).to_be_visible()
    assert await page.evaluate(LAST_IN_VIEW)
    await polled(lambda: read_at_least(live_server, bob_token, 32), within=10)


async def test_a_new_user_lands_in_the_lobby_with_a_line_saying_what_it_is(new_page: NewPage) -> None:
    page = await new_page("carol")
    await page.register("carol")
    await page.expect_open("lobby")
    await expect(page.by("topic-description")).to_be_visible()
    await expect(page.by("topic-description")).not_to_be_empty()
    await expect(page.by("welcome")).to_have_count(0)
    await page.screenshot("landing")
