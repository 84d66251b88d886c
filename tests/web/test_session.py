"""Signing in and out, and what the page says when something is wrong."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_a_wrong_password_is_refused_in_words(new_page, live_server) -> None:
    await live_server.register("alice")
    alice = await new_page("alice")

    await alice.fill_login("alice", "not-my-password")
    await alice.by("login-submit").click()

    error = alice.by("login-error")
    await expect(error).to_be_visible()
    await expect(error).not_to_be_empty()
    await expect(alice.by("chat-screen")).to_have_count(0)
    await alice.screenshot()


async def test_a_taken_username_is_refused_in_words(new_page, live_server) -> None:
    await live_server.register("alice")
    impostor = await new_page("impostor")

    await impostor.fill_login("alice", "password123")
    await impostor.by("register-submit").click()

    await expect(impostor.by("login-error")).to_be_visible()
    await expect(impostor.by("login-error")).not_to_be_empty()


async def test_a_reload_keeps_me_signed_in_and_logout_ends_it(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("diary")

    await alice.page.reload()
    await expect(alice.by("me")).to_have_text("alice")
    await alice.expect_open("diary")

    await alice.log_out()
    await alice.page.reload()
    await expect(alice.by("login-screen")).to_be_visible()


async def test_logging_out_in_another_browser_ends_only_that_session(new_page) -> None:
    laptop = await new_page("laptop")
    await laptop.register("alice")
    phone = await new_page("phone")  # another browser: a session of its own (PROTOCOL.md section 19)
    await phone.log_in("alice")

    await phone.log_out()
    await laptop.page.reload()

    await expect(laptop.by("me")).to_have_text("alice")
    await phone.page.reload()
    await expect(phone.by("login-screen")).to_be_visible()


async def test_a_missing_client_bundle_is_explained(new_page) -> None:
    page = await new_page("no-bundle")
    await page.page.route("**/vendor/socket.io-client/**", lambda route: route.fulfill(status=404))

    await page.page.reload()

    await expect(page.by("fatal-error")).to_contain_text("npm ci")
    await page.screenshot()


async def test_user_text_is_shown_as_text_never_as_markup(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    await alice.create_topic("safety")

    text = '<img src=x onerror="document.body.dataset.pwned=1"><b>bold?</b>'
    await alice.send(text)

    await expect(alice.message(text)).to_be_visible()
    await expect(alice.page.locator(".msg-body img, .msg-body b")).to_have_count(0)
    assert await alice.evaluate("document.body.dataset.pwned") is None
