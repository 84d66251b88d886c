"""Losing and regaining the connection."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_offline_shows_a_banner_and_catches_up_after_reconnecting(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("live")
    await bob.register("bob")
    await bob.join("live")

    await bob.page.context.set_offline(True)
    await expect(bob.by("banner")).to_have_attribute("data-state", "offline")
    await alice.send("sent while bob was offline")
    await bob.screenshot("offline")
    await bob.page.context.set_offline(False)

    await expect(bob.by("banner")).to_have_attribute("data-state", "reconnected", timeout=20_000)
    await expect(bob.message("sent while bob was offline")).to_have_count(1)
    await bob.screenshot("reconnected")


async def test_a_message_written_offline_is_sent_after_reconnecting(new_page) -> None:
    alice = await new_page("alice")
    bob = await new_page("bob")
    await alice.register("alice")
    await alice.create_topic("patience")
    await bob.register("bob")
    await bob.join("patience")

    await alice.page.context.set_offline(True)
    await expect(alice.by("banner")).to_have_attribute("data-state", "offline")
    await alice.by("composer").fill("written in a tunnel")
    await alice.by("composer").press("Enter")
    await expect(alice.message("written in a tunnel")).to_have_attribute("data-state", "queued")
    await alice.page.context.set_offline(False)

    await expect(alice.message("written in a tunnel")).to_have_attribute("data-state", "sent", timeout=20_000)
    await expect(bob.message("written in a tunnel")).to_have_count(1)
