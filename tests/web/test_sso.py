"""Single sign-on in Chromium against a real OpenID Connect provider (PROTOCOL.md section 14).

The login page shows "Sign in with <name>"; the provider (``oidc-provider`` from npm, its own
login and consent pages) sends the browser back, and the page ends signed in with no code left in
its address. With passwords off, the page shows the provider's button alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from server.config import Settings
from tests.sso_support import Provider, sso_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path, oidc: Provider, request: pytest.FixtureRequest) -> Settings:
    """``live_server``'s settings with single sign-on; passwords as the test's parameter says."""
    return sso_settings(tmp_path / "data", oidc.issuer, password_login=getattr(request, "param", True))


async def test_signing_in_with_the_provider_ends_in_the_chat(new_page, live_server, oidc) -> None:
    await oidc.configure(live_server.url)
    alice = await new_page("alice")
    button = alice.by("sso-login")
    await expect(button).to_have_text("Sign in with 127.0.0.1")
    await expect(alice.by("login-username")).to_be_visible()  # passwords are on too

    await button.click()
    page = alice.page
    await page.locator('input[name="login"]').fill("alice")  # the provider's login page
    await page.locator('input[name="password"]').fill("any password")
    await page.locator('button[type="submit"]').click()
    await expect(page.locator('input[name="prompt"][value="consent"]')).to_be_attached()  # its consent
    await page.locator('button[type="submit"]').click()

    await expect(alice.by("me")).to_have_text("alice")
    await expect(alice.by("chat-screen")).to_be_visible()
    assert page.url == f"{live_server.url}/", page.url  # the one-time code left the address at once
    await page.reload()  # signed in as after a password login: a reload keeps the session
    await expect(alice.by("me")).to_have_text("alice")


@pytest.mark.parametrize("settings", [False], indirect=True)
async def test_with_passwords_off_the_page_offers_the_provider_alone_and_shows_its_errors(
    new_page, live_server
) -> None:
    visitor = await new_page("visitor")
    await expect(visitor.by("sso-login")).to_be_visible()
    await expect(visitor.by("login-username")).to_have_count(0)
    await expect(visitor.by("login-submit")).to_have_count(0)

    await visitor.page.goto(f"{live_server.url}/#oidc_error=unauthorized")
    await visitor.page.reload()
    await expect(visitor.by("login-error")).to_contain_text("Single sign-on did not sign you in")
    assert "oidc_error" not in visitor.page.url

    await visitor.page.goto(f"{live_server.url}/#oidc_code=used-or-made-up")
    await visitor.page.reload()
    await expect(visitor.by("login-error")).to_contain_text("Single sign-on did not sign you in")
    assert "oidc_code" not in visitor.page.url
