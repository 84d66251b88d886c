"""The workspace in the page (issue 54, PROTOCOL.md section 19): a session that lasts across
tabs, reloads and a browser restart through the refresh cookie; a session signed out elsewhere;
the password screens (forgot, the mailed reset link, a change with the current one); invitation
links; and the administration view, for owners and admins only.

The server side is built beside this page (roles: /api/admin/users; joining: invites and
/api/admin/settings; sessions and passwords: the refresh cookie, /api/users/me/sessions,
password reset): a test of a route not there yet fails until it is.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Locator, expect

from server.config import Settings
from tests.smtp_server import Mail, SmtpServer, smtp_server
from tests.support import LiveServer, bearer
from tests.support import test_settings as settings_for
from tests.web.chat_page import PASSWORD, ChatPage
from tests.web.conftest import ARTIFACTS, CHROMIUM_ARGS, DESKTOP, TEST_HOOKS, Chromium

pytestmark = pytest.mark.browser

# Set before the page loads: notes whether the login form was ever on screen (a signed-in
# reload must go straight from "Loading Parley…" to the chat, with no login form flashing).
WATCH_LOGIN = """
window.__sawLogin = false;
new MutationObserver(() => {
  if (document.querySelector('[data-testid="login-screen"]')) window.__sawLogin = true;
}).observe(document, { childList: true, subtree: true });
"""


@pytest_asyncio.fixture(loop_scope="session")  # as the browser tests (tests/web/conftest.py)
async def smtp(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, smtp: SmtpServer) -> Settings:
    return settings_for(tmp_path / "data", smtp_url=smtp.url(), smtp_from="Parley <parley@example.com>")


async def another_tab(first: ChatPage, name: str) -> ChatPage:
    """A second tab of the same browser (its context: the same cookies)."""
    tab = ChatPage(await first.page.context.new_page(), first.base_url, name, first.artifacts)
    await tab.page.add_init_script(WATCH_LOGIN)
    await tab.open()
    return tab


async def saw_login(tab: ChatPage) -> bool:
    return bool(await tab.evaluate("window.__sawLogin"))


async def test_a_second_tab_and_a_reload_stay_signed_in(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")  # the first account: the workspace's owner
    await alice.create_topic("diary")

    second = await another_tab(alice, "second-tab")
    await expect(second.by("me")).to_have_text("alice")
    assert not await saw_login(second)

    await alice.page.add_init_script(WATCH_LOGIN)
    await alice.page.reload()
    await expect(alice.by("me")).to_have_text("alice")
    await alice.expect_open("diary")
    assert not await saw_login(alice)
    assert await alice.evaluate("sessionStorage.getItem('parley.session')") is None  # no token kept
    await alice.send("from the reloaded tab")
    await second.open_topic("diary")
    await expect(second.message("from the reloaded tab")).to_be_visible()


async def test_two_tabs_refreshing_at_once_do_not_sign_the_session_out(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    second = await another_tab(alice, "second-tab")
    await expect(second.by("me")).to_have_text("alice")

    # Both tabs' clocks jump past their tokens' end at once: one rotation at a time (Web Locks),
    # the waiting tab takes the token the other got. A replayed cookie would end the session.
    both = "chat.refresher.advanceClock(24 * 3600 * 1000)"
    await alice.test_hook(both)
    await second.test_hook(both)
    done = (
        "() => { const r = window.__parleyTest.chat().refresher;"
        " return r.count + r.shared >= 1 && !r.running; }"
    )
    await alice.page.wait_for_function(done)
    await second.page.wait_for_function(done)
    for tab in (alice, second):
        stats = await tab.test_hook("chat.refresher.stats()")
        assert stats["lastError"] is None, stats

    third = await another_tab(alice, "third-tab")  # the session still gives tokens
    await expect(third.by("me")).to_have_text("alice")
    await alice.create_topic("still-in")


async def test_a_browser_restart_stays_signed_in(
    browser: object, chromium: Chromium, live_server: LiveServer, tmp_path: Path
) -> None:
    """``browser``: on the session's loop with the worker's Playwright driver (its own Chromium here)."""
    profile = tmp_path / "chromium-profile"

    async def launch() -> BrowserContext:
        context = await chromium.playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium.executable, args=CHROMIUM_ARGS, viewport=DESKTOP
        )
        await context.add_init_script(TEST_HOOKS + WATCH_LOGIN)
        return context

    context = await launch()
    try:
        page = ChatPage(await context.new_page(), live_server.url, "before", ARTIFACTS / "restart")
        await page.open()
        await page.register("alice")
        await page.create_topic("kept")
    finally:
        await context.close()  # the browser quits: its memory is gone, its cookie jar on disk stays

    context = await launch()
    try:
        page = ChatPage(await context.new_page(), live_server.url, "after", ARTIFACTS / "restart")
        await page.open()
        await expect(page.by("me")).to_have_text("alice")
        assert not await saw_login(page)
        await page.open_topic("kept")
    finally:
        await context.close()


async def test_signing_a_session_out_elsewhere_shows_the_login_form(new_page) -> None:
    laptop = await new_page("laptop")
    await laptop.register("alice")
    phone = await new_page("phone")  # another browser: another session
    await phone.log_in("alice")
    socket = await laptop.test_hook("chat.conn.socket.id")
    assert socket

    dialog = await open_account(phone)
    sessions = dialog.get_by_test_id("session")
    await expect(sessions).to_have_count(2)
    await expect(
        dialog.locator('[data-testid="session"][data-current="true"]').get_by_test_id("session-this")
    ).to_have_text("this device")
    await expect(dialog.get_by_test_id("session-device").first).to_have_text(re.compile("Chrome"))
    await (
        dialog.locator('[data-testid="session"][data-current="false"]').get_by_test_id("session-end").click()
    )
    await expect(sessions).to_have_count(1)
    await dialog.get_by_test_id("account-close").click()

    await expect(laptop.by("login-screen")).to_be_visible()  # its socket closed, no reload
    await expect(laptop.by("login-notice")).not_to_be_empty()
    await laptop.page.reload()
    await expect(laptop.by("login-screen")).to_be_visible()  # the cookie no longer signs in
    await phone.create_topic("phone-still-in")


async def test_logging_out_ends_the_session_in_every_tab(new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    second = await another_tab(alice, "second-tab")
    await expect(second.by("me")).to_have_text("alice")

    await alice.log_out()
    await expect(second.by("login-screen")).to_be_visible()
    await second.page.reload()
    await expect(second.by("login-screen")).to_be_visible()


async def open_account(tab: ChatPage) -> Locator:
    await tab.by("account-open").click()
    dialog = tab.by("account-dialog")
    await expect(dialog).to_be_visible()
    return dialog


async def test_changing_the_password_signs_the_other_sessions_out(new_page) -> None:
    laptop = await new_page("laptop")
    await laptop.register("alice")
    phone = await new_page("phone")
    await phone.log_in("alice")

    dialog = await open_account(laptop)
    await dialog.get_by_test_id("password-current").fill("wrong-password")
    await dialog.get_by_test_id("password-new").fill("a-new-password")
    await dialog.get_by_test_id("password-again").fill("a-new-password")
    await dialog.get_by_test_id("password-save").click()
    await expect(dialog.get_by_test_id("password-error")).to_be_visible()

    await dialog.get_by_test_id("password-again").fill("something-else")
    await dialog.get_by_test_id("password-current").fill(PASSWORD)
    await dialog.get_by_test_id("password-save").click()
    await expect(dialog.get_by_test_id("password-error")).to_have_text("The two passwords differ.")

    await dialog.get_by_test_id("password-again").fill("a-new-password")
    await dialog.get_by_test_id("password-save").click()
    await expect(dialog.get_by_test_id("password-done")).to_contain_text("Your password is changed")
    await expect(phone.by("login-screen")).to_be_visible()
    await expect(dialog.get_by_test_id("session")).to_have_count(1)
    await dialog.get_by_test_id("account-close").click()
    await laptop.create_topic("after-the-change")  # this session goes on

    await phone.log_in("alice", "a-new-password")


def path_of(link: str) -> str:
    """A link of a mail as a path on the server under test (the mail names its public address)."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def reset_link(mail: Mail) -> str:
    [code] = re.findall(r"/#reset=([A-Za-z0-9_\-.~%]+)", mail.part("plain"))
    return f"/#reset={code}"


def invite_link(text: str) -> str:
    [code] = re.findall(r"/#invite=([A-Za-z0-9_\-.~%]+)", text)
    return f"/#invite={code}"


async def test_a_forgotten_password_is_reset_by_the_mailed_link(
    new_page, live_server: LiveServer, smtp: SmtpServer
) -> None:
    token = await live_server.register("alice")
    set_email = await live_server.http.put(
        "/api/users/me/email", json={"email": "alice@example.com"}, headers=bearer(token)
    )
    assert set_email.status_code < 300, set_email.text
    verify = await smtp.recorder.next()
    [link] = [
        line.strip()
        for line in verify.part("plain").splitlines()
        if "/api/users/me/email/verify?token=" in line
    ]
    assert (await live_server.http.get(path_of(link))).status_code == 200

    page = await new_page("alice")
    await page.by("forgot-open").click()
    await page.by("forgot-who").fill("nobody-here")  # the same words whether the account exists or not
    await page.by("forgot-submit").click()
    same = "If the account exists, a mail is on its way"
    await expect(page.by("forgot-sent")).to_contain_text(same)
    await page.by("forgot-who").fill("alice")
    await page.by("forgot-submit").click()
    await expect(page.by("forgot-sent")).to_contain_text(same)
    mail = await smtp.recorder.next()
    assert mail.recipients == ["alice@example.com"]
    assert smtp.recorder.pending() == 0  # nothing was mailed for the unknown name

    await page.page.goto(live_server.url + reset_link(mail))
    await expect(page.by("reset")).to_be_visible()
    assert "#reset" not in page.page.url  # the code leaves the address bar at once
    await page.by("reset-password").fill("short")
    await page.by("reset-again").fill("short")
    await page.by("reset-submit").click()
    await expect(page.by("reset-error")).to_have_text("A password has at least 8 characters.")
    await page.by("reset-password").fill("a-brand-new-one")
    await page.by("reset-again").fill("a-brand-new-one")
    await page.by("reset-submit").click()
    await expect(page.by("login-notice")).to_contain_text("Your password is changed")
    await page.log_in("alice", "a-brand-new-one")
    await page.log_out()

    await page.page.goto(live_server.url + reset_link(mail))  # usable once
    await page.by("reset-password").fill("yet-another-one")
    await page.by("reset-again").fill("yet-another-one")
    await page.by("reset-submit").click()
    await expect(page.by("reset-error")).to_be_visible()


async def open_admin(tab: ChatPage) -> Locator:
    await tab.by("admin-open").click()
    view = tab.by("admin-view")
    await expect(view).to_be_visible()
    return view


async def test_the_admin_view_shows_for_an_owner_and_not_for_a_member(new_page) -> None:
    owner = await new_page("owner")
    await owner.register("alice")  # the first account of an empty server: its owner
    member = await new_page("member")
    await member.register("bob")
    await expect(member.by("me")).to_have_text("bob")
    await expect(member.by("admin-open")).to_be_hidden()

    view = await open_admin(owner)
    users = view.get_by_test_id("admin-user")
    await expect(users).to_have_count(2)
    bob = view.locator('[data-testid="admin-user"][data-username="bob"]')
    await expect(bob.get_by_test_id("admin-user-role")).to_have_value("member")

    # The tabs by keyboard: arrows move and show each section.
    await view.get_by_test_id("admin-tab-users").focus()
    for key in ("invites", "registration", "topics", "emoji", "keys", "reports", "audit"):
        await owner.page.keyboard.press("ArrowRight")
        await expect(view.get_by_test_id(f"admin-tab-{key}")).to_be_focused()
        await expect(view.get_by_test_id(f"admin-panel-{key}")).to_be_visible()
    await owner.page.keyboard.press("Home")
    await expect(view.get_by_test_id("admin-panel-users")).to_be_visible()

    await bob.get_by_test_id("admin-user-role").select_option("admin")  # an owner grants admin
    await expect(view.get_by_test_id("admin-status").first).to_contain_text("bob is now admin")
    await expect(view.get_by_test_id("admin-error").first).to_be_hidden()
    await view.get_by_test_id("admin-tab-audit").click()
    await expect(view.get_by_test_id("admin-audit-entry").first).to_be_visible()
    await owner.screenshot("admin")
    await view.get_by_test_id("admin-close").click()
    await expect(view).to_have_count(0)

    await member.page.reload()  # bob signs in again as an admin: the view is his now
    await expect(member.by("admin-open")).to_be_visible()


async def test_a_member_gets_403_from_the_admin_routes_and_nothing_changes(
    new_page, live_server: LiveServer
) -> None:
    await live_server.register("alice")
    member = await new_page("member")
    await member.register("bob")
    token = await member.test_hook("chat.env.creds.token")
    refused = await live_server.http.patch(
        "/api/admin/users/alice", json={"role": "member"}, headers=bearer(token)
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_an_invitation_link_opens_registration_and_is_used_up(
    new_page, live_server: LiveServer
) -> None:
    owner = await new_page("owner")
    await owner.register("alice")
    await owner.create_topic("welcome")
    view = await open_admin(owner)
    await view.get_by_test_id("admin-tab-registration").click()
    await expect(view.get_by_test_id("admin-registration-open")).to_be_checked()  # the server's, loaded
    await view.get_by_test_id("admin-registration-invite").check()
    await view.get_by_test_id("admin-registration-save").click()
    await expect(view.get_by_test_id("admin-panel-registration").get_by_test_id("admin-status")).to_have_text(
        "Saved."
    )

    await view.get_by_test_id("admin-tab-invites").click()
    await view.get_by_test_id("admin-invite-topics").fill("welcome")
    await view.get_by_test_id("admin-invite-create").click()
    created = view.get_by_test_id("admin-invite-created")
    await expect(created).to_contain_text("/#invite=")
    link = invite_link(await created.inner_text())
    await expect(view.get_by_test_id("admin-invite")).to_have_count(1)

    stranger = await new_page("stranger")  # registration is by invitation: no "Create account"
    await expect(stranger.by("login-form")).to_be_visible()
    await expect(stranger.by("register-submit")).to_have_count(0)

    carol = await new_page("carol")
    await carol.page.goto(live_server.url + link)
    await expect(carol.by("login-sub")).to_contain_text("create your account")
    await carol.fill_login("carol", PASSWORD)
    await carol.by("register-submit").click()
    await expect(carol.by("me")).to_have_text("carol")
    await expect(carol.topic("welcome")).to_be_visible()  # the invitation's topic

    dave = await new_page("dave")  # one use: it is spent
    await dave.page.goto(live_server.url + link)
    await dave.fill_login("dave", PASSWORD)
    await dave.by("register-submit").click()
    await expect(dave.by("login-error")).to_have_text(re.compile("no longer valid", re.IGNORECASE))
    await expect(dave.by("chat-screen")).to_have_count(0)


async def test_what_was_typed_survives_an_invitation_link_followed_in_the_same_tab(
    new_page, live_server: LiveServer
) -> None:
    owner = await live_server.register("alice")  # the first account: the workspace's owner
    made = await live_server.http.post("/api/invites", json={}, headers=bearer(owner))
    assert made.status_code == 201
    erin = await new_page("erin")
    await expect(erin.by("login-sub")).to_contain_text("Log in")
    await erin.fill_login("erin", PASSWORD)  # typed into the plain login form
    await erin.by("login-password").focus()

    await erin.page.goto(live_server.url + "/#invite=" + made.json()["code"])  # a hash change: no reload
    await expect(erin.by("login-sub")).to_contain_text("create your account")
    await expect(erin.by("login-username")).to_have_value("erin")
    await expect(erin.by("login-password")).to_have_value(PASSWORD)
    await expect(erin.by("login-password")).to_be_focused()
    await erin.by("register-submit").click()
    await expect(erin.by("me")).to_have_text("erin")


# Every control of a view has a name a screen reader says (a <label>, aria-label or its text).
UNNAMED = """(root) => [...document.querySelector(root).querySelectorAll('input, select, textarea, button')]
  .filter((el) => !el.closest('[hidden]'))
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 120))"""


async def test_the_new_views_name_every_control_and_work_by_keyboard(new_page) -> None:
    owner = await new_page("owner")
    await owner.register("alice")

    view = await open_admin(owner)
    for key in ("users", "invites", "registration", "topics", "reports", "audit"):
        await view.get_by_test_id(f"admin-tab-{key}").click()
        await expect(view.get_by_test_id(f"admin-panel-{key}")).to_be_visible()
        await expect(view.get_by_test_id(f"admin-panel-{key}").get_by_test_id("admin-error")).to_be_hidden()
        assert await owner.page.evaluate(UNNAMED, f"#admin-panel-{key}") == [], key
    await owner.page.keyboard.press("Escape")  # a native dialog: Escape closes it
    await expect(view).to_have_count(0)

    dialog = await open_account(owner)
    await expect(dialog.get_by_test_id("password-current")).to_be_focused()
    assert await owner.page.evaluate(UNNAMED, '[data-testid="account-dialog"]') == []
    await expect(dialog.get_by_test_id("sessions-state")).to_have_text("Only this device is signed in.")
    await owner.page.keyboard.press("Escape")
    await owner.log_out()

    await owner.by("forgot-open").click()
    await expect(owner.by("forgot-who")).to_be_focused()
    assert await owner.page.evaluate(UNNAMED, '[data-testid="forgot"]') == []
    await owner.by("forgot-back").click()
    await expect(owner.by("login-username")).to_be_focused()


async def test_an_admin_runs_topics_reports_and_users_from_the_page(
    new_page, live_server: LiveServer
) -> None:
    owner = await new_page("owner")
    await owner.register("alice")  # the owner
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "bobs-place"})
    sent = await bob.ok("message:send", {"topic": "bobs-place", "body": "something rude"})
    carol = await live_server.user("carol")
    await carol.ok("topic:subscribe", {"topic": "bobs-place"})
    await carol.ok("message:report", {"id": sent["id"], "reason": "rude"})
    member = await new_page("member")
    await member.log_in("bob")

    view = await open_admin(owner)
    await view.get_by_test_id("admin-tab-topics").click()
    row = view.locator('[data-testid="admin-topic"][data-topic="bobs-place"]')
    await expect(row.get_by_test_id("admin-topic-state")).to_have_text("open")
    await row.get_by_test_id("admin-topic-name").fill("renamed-place")  # typed, applied later
    await row.get_by_test_id("admin-topic-archive").click()
    await owner.page.get_by_test_id("archive-confirm").get_by_test_id("dialog-submit").click()  # asked first
    await expect(row.get_by_test_id("admin-topic-state")).to_have_text("archived")  # reloaded...
    await expect(row.get_by_test_id("admin-topic-name")).to_have_value("renamed-place")  # ...kept
    await row.get_by_test_id("admin-topic-heir").fill("carol")
    await row.get_by_test_id("admin-topic-transfer").click()
    await expect(view.get_by_test_id("admin-panel-topics").get_by_test_id("admin-status")).to_have_text(
        "#bobs-place now belongs to carol."
    )
    await expect(row.locator("td").first).to_have_text("carol")
    await expect(row.get_by_test_id("admin-topic-heir")).to_have_value("")  # done, not kept
    await row.get_by_test_id("admin-topic-rename").click()
    renamed = view.locator('[data-testid="admin-topic"][data-topic="renamed-place"]')
    await expect(renamed).to_be_visible()
    await expect(renamed.locator("td").first).to_have_text("carol")

    await view.get_by_test_id("admin-tab-reports").click()
    report = view.get_by_test_id("admin-report")
    await expect(report).to_have_count(1)
    await expect(report).to_contain_text("something rude")
    await report.get_by_test_id("admin-report-delete").click()
    await expect(report).to_contain_text("(deleted)")

    await view.get_by_test_id("admin-tab-users").click()
    bob_row = view.locator('[data-testid="admin-user"][data-username="bob"]')
    await bob_row.get_by_test_id("admin-user-disable").click()
    await expect(bob_row.get_by_test_id("admin-user-state")).to_have_text("disabled")
    await expect(member.by("login-screen")).to_be_visible()  # his sockets closed at once

    await view.get_by_test_id("admin-tab-audit").click()
    entries = view.get_by_test_id("admin-audit-entry")
    await expect(entries.first).to_be_visible()
    for action in ("topic.archive", "topic.update"):
        await expect(
            view.locator(f'[data-testid="admin-audit-entry"][data-action="{action}"]')
        ).not_to_have_count(0)
    await expect(entries.first.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    await owner.screenshot("admin-audit")
