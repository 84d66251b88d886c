"""Link previews in Chromium with the real server (PROTOCOL.md section 13): the server fetches a
page of a real local site after the send, the card arrives under the message on every member's
page with the picture Parley serves, and the sender's x removes it for everyone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.preview_site import Site, serving
from tests.support import test_settings as settings_for
from tests.web.test_rich_messages import by_id, post, room

# Resolves once the picture decoded (the page sets its blob: source after fetching it with the token).
IMAGE_LOADED_WAIT = """(img) => new Promise((done, failed) => {
  const check = () => img.complete && img.naturalWidth > 0 && img.src.startsWith("blob:");
  if (check()) return done(true);
  img.addEventListener("load", () => (check() ? done(true) : failed(new Error(img.src))));
  img.addEventListener("error", () => failed(new Error("broken: " + img.src)));
})"""


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", previews=True, preview_allow_hosts=["127.0.0.1"])


@pytest_asyncio.fixture(loop_scope="session")  # as the browser tests (tests/web/conftest.py)
async def site() -> AsyncIterator[Site]:
    async with serving() as found:
        yield found


async def test_a_card_arrives_under_the_message_and_its_sender_removes_it(new_page, live_server, site):
    alice, bob = await room(new_page, live_server, "links")
    url = site.at("/og-page")

    await alice.by("composer").fill(f"have a look: {url}")
    await alice.by("composer").press("Enter")
    await expect(alice.messages.last).to_have_attribute("data-state", "sent")
    mine = int(await alice.messages.last.get_attribute("data-id") or 0)

    card = by_id(alice, mine).get_by_test_id("preview-card")
    await expect(card).to_have_count(1)
    await expect(card.get_by_test_id("preview-title")).to_have_text("Release notes /og-page")
    await expect(card.get_by_test_id("preview-title")).to_have_attribute("href", url)
    await expect(card.get_by_test_id("preview-site")).to_have_text("Example Notes")
    image = card.get_by_test_id("preview-image")
    await expect(image).to_have_attribute("width", "640")
    await image.evaluate(IMAGE_LOADED_WAIT)  # served by Parley: decoded, not broken
    assert site.hits["/card.png"] == 1  # fetched once, by the server, never by the browser
    await alice.screenshot("card")

    theirs = await post(bob, "links", f"and this {site.at('/og-theirs')}")
    their_card = by_id(alice, theirs["id"]).get_by_test_id("preview-card")
    await expect(their_card).to_have_count(1)
    await expect(their_card.get_by_test_id("preview-remove")).to_have_count(0)  # not alice's

    await card.get_by_test_id("preview-remove").click()
    await expect(card).to_have_count(0)
    await alice.page.reload()
    await expect(by_id(alice, theirs["id"]).get_by_test_id("preview-card")).to_have_count(1)
    await expect(by_id(alice, mine).get_by_test_id("preview-card")).to_have_count(0)
