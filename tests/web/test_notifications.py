"""Notifications on the web page (PROTOCOL.md section 15, issue 40): the service worker at /sw.js,
pushes delivered to it through the DevTools protocol (as a push service would: the worker's
``push`` event with the server's JSON), no notification for the conversation a focused window
shows, a click on a notification and the link of a push or a digest opening the conversation at
the message, and the Notifications dialog (preferences saved and shown again after a reload, a
refused value, push turned on in a headless browser, which has no push service).

A real click on a notification needs a notification centre, which headless Chromium has not, and
the DevTools protocol has no command for one: the click test dispatches a ``notificationclick``
event built around the real notification in the worker itself (``Worker.evaluate``). The
worker's handler runs as it would for a click; the event is untrusted, so it carries no user
activation (``client.focus()`` is refused, which the handler allows for) and ``waitUntil``
throws after the handler has started its work."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from playwright.async_api import CDPSession, Worker, expect

from tests.support import LiveServer, bearer, send
from tests.web.chat_page import ChatPage
from tests.web.conftest import NewPage

pytestmark = [pytest.mark.browser, pytest.mark.full_chromium]  # the shell denies notifications

NOTIFICATIONS = """navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((shown) =>
  shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))"""
# Notifications have no event a page can wait on: the page asks the registration until the one
# tagged so is there (null: until none is), as wait_for_function would (which takes a returned
# Promise as a truthy answer at once, without waiting for it).
WAIT_SHOWN = """async ([tag, ms]) => {
  const registration = await navigator.serviceWorker.ready;
  const end = Date.now() + ms;
  for (;;) {
    const shown = await registration.getNotifications();
    if (tag === null ? shown.length === 0 : shown.some((n) => n.tag === tag)) return true;
    if (Date.now() > end) return false;
    await new Promise((next) => setTimeout(next, 50));
  }
}"""
WAIT_MS = 10_000


async def expect_notification(
    page: ChatPage, tag: str | None, worker_events: list[str] | None = None
) -> None:
    """Wait until a notification tagged ``tag`` shows (None: until none does)."""
    assert await page.page.evaluate(WAIT_SHOWN, [tag, WAIT_MS]), (
        f"no notification {tag!r} within {WAIT_MS} ms; shown: {await page.evaluate(NOTIFICATIONS)}; "
        f"the worker: {worker_events}"
    )


class PushService:
    """Delivers pushes to a page's service worker through the DevTools protocol, and hears from
    the browser (its BackgroundService domain) when each push event has completed.

    The registration's notifications are read only once every push delivered has completed:
    Chromium's ``getNotifications`` drops from its store what its display has not reported
    shown yet, so reading while a ``showNotification`` is in flight could lose that
    notification for good (2 of 30 runs under two CPU hogs, and the failure of two clean-clone
    runs of .ci/run; none of 30 once nothing read meanwhile).
    """

    def __init__(self, page: ChatPage, cdp: CDPSession, registration_id: str) -> None:
        self.page = page
        self.cdp = cdp
        self.registration_id = registration_id
        self.events: list[str] = []  # the worker's versions and errors, for a failure's message
        self.delivered = 0
        self.completed = 0
        self._progress = asyncio.Event()
        cdp.on(
            "ServiceWorker.workerErrorReported", lambda e: self.events.append(f"error {e['errorMessage']}")
        )
        cdp.on("ServiceWorker.workerVersionUpdated", self._versions)
        cdp.on("BackgroundService.backgroundServiceEventReceived", self._background)

    def _versions(self, event: dict[str, Any]) -> None:
        for v in event["versions"]:
            self.events.append(f"version {v['versionId']} {v['status']} {v['runningStatus']}")

    def _background(self, event: dict[str, Any]) -> None:
        found = event["backgroundServiceEvent"]
        self.events.append(f"{found['eventName']} {found['instanceId']}".strip())
        if found["service"] == "pushMessaging" and found["eventName"] == "Push event completed":
            self.completed += 1
            self._progress.set()

    async def observe(self) -> None:
        """Start hearing of push events (the domain reports what it records)."""
        for service in ("pushMessaging", "notifications"):
            await self.cdp.send("BackgroundService.startObserving", {"service": service})
            await self.cdp.send("BackgroundService.setRecording", {"shouldRecord": True, "service": service})

    async def deliver(self, payload: dict[str, Any]) -> None:
        self.delivered += 1
        await self.cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": self.page.base_url,
                "registrationId": self.registration_id,
                "data": json.dumps(payload),
            },
        )

    async def settled(self) -> None:
        """Until every push delivered has completed in the worker (shown or held back)."""
        async with asyncio.timeout(WAIT_MS / 1000):
            while self.completed < self.delivered:
                self._progress.clear()
                await self._progress.wait()

    async def expect_shown(self, tag: str) -> None:
        try:
            await self.settled()
        except TimeoutError:
            raise AssertionError(
                f"a push did not complete within {WAIT_MS} ms; the worker: {self.events}"
            ) from None
        await expect_notification(self.page, tag, self.events)

    async def shown(self) -> list[dict[str, Any]]:
        await self.settled()
        found: list[dict[str, Any]] = await self.page.evaluate(NOTIFICATIONS)
        return found


async def push_service(page: ChatPage) -> PushService:
    """The page's worker, active, with the DevTools protocol's id of its registration."""
    await page.evaluate("navigator.serviceWorker.ready")
    cdp = await page.page.context.new_cdp_session(page.page)
    scope = page.base_url + "/"
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def registrations(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration["isDeleted"] and not found.done():
                found.set_result(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", registrations)
    await cdp.send("ServiceWorker.enable")  # reports the registrations there are
    service = PushService(page, cdp, await asyncio.wait_for(found, 10))
    await service.observe()
    return service


def message_push(
    base_url: str, topic: str, message: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """The payload the server pushes (section 15) for a message of ``topic``."""
    message = message or {"id": 900, "seq": 9}
    link = f"{base_url}/#topic={topic.replace('@', '%40')}&message={message['id']}"
    payload = {
        "type": "message",
        "topic": topic,
        "id": message["id"],
        "seq": message["seq"],
        "sender": "bob",
        "title": f"bob in {topic}",
        "body": message.get("body", "hello"),
        "url": link,
    }
    return {**payload, **fields}


async def signed_in_with_notifications(new_page: NewPage, live_server: LiveServer, name: str) -> ChatPage:
    page = await new_page(name)
    await page.page.context.grant_permissions(["notifications"], origin=live_server.url)
    await page.register(name)
    return page


async def the_worker(page: ChatPage) -> Worker:
    context = page.page.context
    await page.evaluate("navigator.serviceWorker.ready")
    for worker in context.service_workers:
        if worker.url == f"{page.base_url}/sw.js":
            return worker
    return await context.wait_for_event("serviceworker")


# ---- the service worker ------------------------------------------------------------------------


async def test_the_page_registers_its_service_worker_at_the_root(live_server: LiveServer, new_page) -> None:
    visitor = await new_page("visitor")  # the login screen: the worker asks nothing of anyone
    await visitor.evaluate("navigator.serviceWorker.ready")  # resolves once the worker is active
    registration = await visitor.evaluate(
        """navigator.serviceWorker.getRegistration("/")
             .then((r) => ({scope: r.scope, script: r.active.scriptURL}))"""
    )
    assert registration == {"scope": f"{live_server.url}/", "script": f"{live_server.url}/sw.js"}
    assert await visitor.evaluate("Notification.permission") == "default"  # nothing was asked

    response = await live_server.http.get("/sw.js")
    assert response.status_code == 200
    assert re.match(r"(text|application)/javascript", response.headers["content-type"])
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]  # worker-src falls back to it


async def test_a_push_shows_a_notification_with_the_title_and_body_sent(
    live_server: LiveServer, new_page
) -> None:
    alice = await signed_in_with_notifications(new_page, live_server, "alice")
    pushes = await push_service(alice)
    sent = message_push(live_server.url, "@bob", {"id": 41, "seq": 3, "body": "are you there?"})
    await pushes.deliver(sent)
    await pushes.expect_shown("@bob:41")
    await pushes.deliver(
        message_push(live_server.url, "ops", {"id": 42, "seq": 7, "body": ""}, title="bob in #ops")
    )
    await pushes.expect_shown("ops:42")

    shown = {n["tag"]: n for n in await pushes.shown()}
    assert shown["@bob:41"] == {
        "title": "bob in @bob",
        "body": "are you there?",
        "tag": "@bob:41",
        "data": sent,
    }
    assert (shown["ops:42"]["title"], shown["ops:42"]["body"]) == ("bob in #ops", "New message")  # no content


async def test_no_notification_for_the_conversation_open_and_focused_one_for_another(
    live_server: LiveServer, new_page
) -> None:
    alice = await signed_in_with_notifications(new_page, live_server, "alice")
    await alice.create_topic("general")
    assert await alice.evaluate("document.hasFocus() && document.visibilityState") == "visible"
    pushes = await push_service(alice)

    await pushes.deliver(message_push(live_server.url, "General", {"id": 1, "seq": 1}))  # names: any case
    await pushes.deliver(message_push(live_server.url, "random", {"id": 2, "seq": 1}))
    await pushes.expect_shown("random:2")  # the worker took the pushes in order: the first was decided
    assert [n["tag"] for n in await pushes.shown()] == ["random:2"]

    await alice.create_topic("random")  # now random is open, and general is not
    await pushes.deliver(message_push(live_server.url, "random", {"id": 3, "seq": 2}))
    await pushes.deliver(message_push(live_server.url, "general", {"id": 4, "seq": 2}))
    await pushes.expect_shown("general:4")
    assert sorted(n["tag"] for n in await pushes.shown()) == ["general:4", "random:2"]


# ---- opening the conversation at the message ---------------------------------------------------


async def alice_and_bob_talked(live_server: LiveServer, count: int = 80) -> list[dict[str, Any]]:
    """bob wrote ``count`` direct messages to alice (registered, never connected); the stored ones."""
    await live_server.register("alice")
    bob = await live_server.user("bob")
    return [await send(bob, {"to": "alice", "body": f"note {n}"}) for n in range(1, count + 1)]


async def ops_by_bob(live_server: LiveServer, count: int = 120) -> list[dict[str, Any]]:
    """bob's public topic ``ops`` with ``count`` messages; alice registered, not a member (no
    backlog brings them: the page pages the history back to the message)."""
    await live_server.register("alice")
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "ops"})
    return [await send(bob, {"topic": "ops", "body": f"line {n}"}) for n in range(1, count + 1)]


async def expect_found(page: ChatPage, text: str) -> None:
    found = page.message(text)
    await expect(found).to_have_class(re.compile(r"\bfound\b"))
    await expect(found).to_be_in_viewport()


async def test_a_link_to_a_message_opens_its_conversation_there_after_sign_in(
    live_server: LiveServer, new_page
) -> None:
    sent = await ops_by_bob(live_server)
    alice = await new_page("alice")
    # The url of a push or a digest for the 5th message (far back, before the newest page),
    # loaded in a new tab.
    await alice.page.goto("about:blank")
    await alice.page.goto(message_push(live_server.url, "ops", sent[4])["url"])
    await alice.log_in("alice")
    await alice.expect_open("ops")
    await expect_found(alice, "line 5")
    await expect(alice.message("line 120")).not_to_be_in_viewport()
    assert alice.page.url == f"{live_server.url}/"  # the link was taken out of the address

    await alice.page.reload()  # a plain reload does not jump again
    await alice.expect_open("ops")
    await expect(alice.message("line 120")).to_be_in_viewport()
    await expect(alice.by("message").and_(alice.page.locator(".found"))).to_have_count(0)

    await alice.open_topic("lobby")
    await alice.page.goto(message_push(live_server.url, "ops", sent[59])["url"])  # in the open tab
    await alice.expect_open("ops")
    await expect_found(alice, "line 60")
    assert alice.page.url == f"{live_server.url}/"

    await alice.page.goto(f"{live_server.url}/#topic=nowhere&message=1")  # none of hers: said, not opened
    await expect(alice.toast("#nowhere is not a conversation you can open.")).to_be_visible()
    await alice.expect_open("ops")


async def test_a_click_on_a_notification_opens_its_conversation_at_the_message(
    live_server: LiveServer, new_page
) -> None:
    sent = await alice_and_bob_talked(live_server)
    alice = await new_page("alice")
    await alice.page.context.grant_permissions(["notifications"], origin=live_server.url)
    await alice.log_in("alice")
    await alice.create_topic("elsewhere")
    pushes = await push_service(alice)
    await pushes.deliver(message_push(live_server.url, "@bob", sent[9]))
    await pushes.expect_shown(f"@bob:{sent[9]['id']}")

    worker = await the_worker(alice)
    dispatched = await worker.evaluate(
        """() => self.registration.getNotifications().then((shown) => {
             self.dispatchEvent(new NotificationEvent("notificationclick", {notification: shown[0]}));
             return shown[0].tag;
           })"""
    )
    assert dispatched == f"@bob:{sent[9]['id']}"
    await alice.expect_open("@bob")
    await expect_found(alice, "note 10")
    await expect_notification(alice, None)  # the click closed it


# ---- the Notifications dialog -------------------------------------------------------------------


async def open_settings(page: ChatPage) -> Any:
    await page.by("notify-settings-open").click()
    dialog = page.by("notify-settings")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_test_id("notify-save")).to_be_enabled()  # the preferences came
    return dialog


async def test_the_preferences_are_saved_and_shown_again_after_a_reload(
    live_server: LiveServer, new_page
) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    dialog = await open_settings(alice)
    await expect(dialog.get_by_test_id("notify-digest")).to_have_value("60")
    await expect(dialog.get_by_test_id("notify-quiet")).not_to_be_checked()
    await expect(dialog.get_by_test_id("notify-quiet-from")).to_be_disabled()
    await expect(dialog.get_by_test_id("notify-email-state")).to_have_text(
        "Email is not configured on this server."
    )
    await expect(dialog.get_by_test_id("notify-email-address")).to_be_disabled()

    await dialog.get_by_test_id("notify-digest").select_option("240")
    await dialog.get_by_test_id("notify-quiet").check()
    await dialog.get_by_test_id("notify-quiet-from").fill("22:30")
    await dialog.get_by_test_id("notify-quiet-to").fill("07:15")
    await dialog.get_by_test_id("notify-save").click()
    await expect(dialog.get_by_test_id("notify-saved")).to_have_text("Saved")
    await expect(dialog.get_by_test_id("notify-error")).to_be_hidden()

    await alice.page.reload()
    await expect(alice.by("me")).to_have_text("alice")
    dialog = await open_settings(alice)
    await expect(dialog.get_by_test_id("notify-digest")).to_have_value("240")
    await expect(dialog.get_by_test_id("notify-quiet")).to_be_checked()
    await expect(dialog.get_by_test_id("notify-quiet-from")).to_have_value("22:30")
    await expect(dialog.get_by_test_id("notify-quiet-to")).to_have_value("07:15")
    await alice.screenshot("settings")

    await dialog.get_by_test_id("notify-quiet-to").fill("")  # half a range: the server refuses it
    await dialog.get_by_test_id("notify-digest").select_option("15")
    await dialog.get_by_test_id("notify-save").click()
    await expect(dialog.get_by_test_id("notify-error")).to_contain_text("HH:MM")
    await expect(dialog.get_by_test_id("notify-saved")).to_have_text("")
    await dialog.get_by_test_id("notify-close").click()
    await expect(dialog).to_have_count(0)
    dialog = await open_settings(alice)  # as stored: nothing of the refused change
    await expect(dialog.get_by_test_id("notify-digest")).to_have_value("240")
    await expect(dialog.get_by_test_id("notify-quiet-to")).to_have_value("07:15")


async def test_push_in_a_browser_without_a_push_service_says_why(live_server: LiveServer, new_page) -> None:
    alice = await signed_in_with_notifications(new_page, live_server, "alice")
    dialog = await open_settings(alice)
    push = dialog.get_by_test_id("notify-push")
    state = dialog.get_by_test_id("notify-push-state")
    await expect(push).to_be_enabled()
    await expect(push).not_to_be_checked()
    await expect(state).to_have_text("Off on this browser.")

    await push.click()
    # Headless Chromium reaches no push service: the page says so, the toggle stays off. A
    # browser that can subscribe ends "on" instead (and the server has the subscription).
    await expect(state).to_have_attribute("data-state", re.compile("^(failed|on)$"))
    subscribed = await state.get_attribute("data-state") == "on"
    if not subscribed:
        await expect(state).to_contain_text("could not reach its push service")  # the key came
        await expect(push).not_to_be_checked()
    else:
        await expect(push).to_be_checked()
    assert alice.page_errors == []
    token = await alice.test_hook("chat.env.creds.token")
    listed = await live_server.http.get("/api/push/subscriptions", headers=bearer(token))
    assert len(listed.json()["subscriptions"]) == int(subscribed)  # none half made

    await dialog.get_by_test_id("notify-test").click()
    await expect(dialog.get_by_test_id("notify-test-state")).to_have_text(re.compile("^Sent"))
    await expect_notification(alice, "parley-test")


async def test_without_permission_push_and_the_test_say_why(live_server: LiveServer, new_page) -> None:
    alice = await new_page("alice")
    await alice.register("alice")
    dialog = await open_settings(alice)
    await dialog.get_by_test_id("notify-test").click()
    await expect(dialog.get_by_test_id("notify-test-state")).to_contain_text("notifications")
    await dialog.get_by_test_id("notify-push").click()
    state = dialog.get_by_test_id("notify-push-state")
    await expect(state).to_have_attribute("data-state", "failed")
    await expect(state).to_contain_text(re.compile("allow|blocked"))
    await expect(dialog.get_by_test_id("notify-push")).not_to_be_checked()
