"""A topic's retention through the web page (PROTOCOL.md section 16): its owner sets the days in
the topic settings, clears them back to the server's, and a value that is not a whole number of
days is refused on the page before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.support import test_settings as settings_for

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return settings_for(tmp_path / "data", retention_days=30)


async def test_the_owner_sets_and_clears_the_retention_in_the_topic_settings(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("trip")

    await alice.open_settings()
    await expect(alice.by("settings-retention")).to_have_value("")
    await alice.by("settings-retention").fill("7")
    await alice.by("settings-save").click()
    await expect(alice.system_message("alice set the retention to 7 days")).to_be_visible()
    await expect(alice.by("settings-retention")).to_have_value("7")

    await alice.by("settings-retention").fill("31")  # longer than the server's 30
    await alice.by("settings-save").click()
    await expect(alice.by("settings-error")).to_contain_text("at most the server's 30")

    await alice.by("settings-retention").fill("2.5")
    await alice.by("settings-save").click()
    await expect(alice.by("settings-error")).to_contain_text("whole number of days")

    await alice.by("settings-retention").fill("")
    await alice.by("settings-save").click()
    await expect(alice.system_message("alice reset the retention")).to_be_visible()
    await expect(alice.by("settings-retention")).to_have_value("")
