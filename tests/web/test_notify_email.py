"""The email part of the Notifications dialog (PROTOCOL.md section 15, issue 40) against a server
that can send mail: a real SMTP server (``tests/smtp_server.py``, aiosmtpd) receives the
verification mail, its link verifies the address, and the dialog says where each step is; a
refused address shows the server's message."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import expect

from server.config import Settings
from tests.smtp_server import Mail, SmtpServer, smtp_server
from tests.support import LiveServer
from tests.support import test_settings as settings_for
from tests.web.test_notifications import open_settings

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture(loop_scope="session")  # as the browser tests (tests/web/conftest.py)
async def smtp(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, smtp: SmtpServer) -> Settings:
    return settings_for(tmp_path / "data", smtp_url=smtp.url(), smtp_from="Parley <parley@example.com>")


def verify_path(mail: Mail) -> str:
    """The verification link of a mail, as a path on the server under test."""
    [link] = [
        line.strip()
        for line in mail.part("plain").splitlines()
        if "/api/users/me/email/verify?token=" in line
    ]
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_an_address_is_verified_by_its_link_and_the_dialog_says_so(
    live_server: LiveServer, smtp: SmtpServer, new_page
) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    dialog = await open_settings(alice)
    state = dialog.get_by_test_id("notify-email-state")
    await expect(state).to_have_attribute("data-state", "none")
    await expect(dialog.get_by_test_id("notify-email-address")).to_be_enabled()

    await dialog.get_by_test_id("notify-email-address").fill("not an address")
    await dialog.get_by_test_id("notify-email-save").click()
    await expect(dialog.get_by_test_id("notify-error")).to_be_visible()  # the server's words
    await expect(state).to_have_attribute("data-state", "none")

    await dialog.get_by_test_id("notify-email-address").fill("alice@example.com")
    await dialog.get_by_test_id("notify-email-save").click()
    await expect(state).to_have_text(re.compile(r"^Verification sent to alice@example\.com"))
    await expect(dialog.get_by_test_id("notify-error")).to_be_hidden()
    mail = await smtp.recorder.next()
    assert mail.recipients == ["alice@example.com"]

    verified = await live_server.http.get(verify_path(mail))  # opened from the mail, signed in or not
    assert verified.status_code == 200
    await dialog.get_by_test_id("notify-close").click()
    dialog = await open_settings(alice)
    await expect(dialog.get_by_test_id("notify-email-state")).to_have_text("Verified: alice@example.com")
    await expect(dialog.get_by_test_id("notify-email-address")).to_have_value("alice@example.com")
