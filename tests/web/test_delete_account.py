"""Deleting one's account on the web page (PROTOCOL.md section 16): "Delete my account" asks for the
username typed out and the password; a wrong password says so and changes nothing; the right one
erases the account and the page returns to the login screen."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.contract import assert_error
from tests.erasure_support import until_erased, user_id_of
from tests.support import PASSWORD, LiveServer

pytestmark = pytest.mark.browser


async def test_delete_my_account_needs_the_typed_username_and_the_password(
    new_page, live_server: LiveServer
) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    user_id = await user_id_of(live_server, "alice")
    await alice.by("account-open").click()  # "My account": password, sessions, my data, deletion
    await alice.by("delete-account-open").click()
    dialog = alice.by("delete-account")
    await expect(dialog).to_be_visible()
    confirm = alice.by("delete-account-confirm")
    await alice.by("delete-account-password").fill(PASSWORD)
    await alice.by("delete-account-username").fill("alic")
    await expect(confirm).to_be_disabled()  # the username not typed out yet
    await alice.by("delete-account-username").fill("alice")
    await alice.by("delete-account-password").fill("not-my-password")
    await confirm.click()
    await expect(alice.by("delete-account-error")).to_contain_text("Wrong password")
    await expect(alice.by("chat-screen")).to_be_visible()  # nothing changed

    await alice.by("delete-account-password").fill(PASSWORD)
    await confirm.click()
    await expect(alice.by("login-screen")).to_be_visible()
    await until_erased(live_server, user_id)
    await alice.screenshot()
    login = await live_server.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(login, 401, "unauthorized")
