"""Membership live in the page (issue 55, row 5; PROTOCOL.md section 4's ``topic:member``): the
header's count and an open members panel follow a join and a leave at once, not at the next
30 s poll."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.web.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_joiner_and_a_leaver_show_at_once_in_the_count_and_the_open_members_panel(
    new_page, viewport
) -> None:
    alice = await new_page("alice", viewport=viewport)
    await alice.register("alice")
    await alice.create_topic("garden")
    await alice.open_members()
    await expect(alice.by("members-toggle")).to_have_text("1 member · 1 online")
    bob = await new_page("bob")
    await bob.register("bob")

    await bob.join("garden")

    await expect(alice.member("bob")).to_be_visible()
    await expect(alice.by("members-toggle")).to_have_text("2 members · 1 online")
    await expect(alice.page.locator(".members-panel .panel-title")).to_have_text("Members (2)")
    await alice.screenshot("joined")
    await bob.by("leave-topic").click()
    await expect(alice.member("bob")).to_have_count(0)
    await alice.by("members-panel").get_by_label("Close members").click()
    await expect(alice.by("members-toggle")).to_have_text("1 member · 1 online")
