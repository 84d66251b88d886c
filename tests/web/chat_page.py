"""A page object for the Parley web page: what a person does, in their words."""

from __future__ import annotations

import re
import time
from collections import deque
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, Request, WebSocket, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

PASSWORD = "password123"
TIMELINE = 300  # the newest entries a page keeps of its console and Socket.IO traffic
FRAME_TEXT = 160  # characters kept of one frame or request body
# Within the window: a closed drawer's items are "visible" to Playwright, off to the side.
ON_SCREEN = (
    "el => { const r = el.getBoundingClientRect(); return r.width > 0 && "
    "r.right > 0 && r.left < innerWidth; }"
)
TOKEN = re.compile(r'"(token|refresh_token|password)":"[^"]*"')


class ChatPage:
    def __init__(self, page: Page, base_url: str, name: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.name = name
        self.artifacts = artifacts
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        # What the page said and what crossed its Socket.IO connection, printed when a test fails:
        # a late answer, a lost one and a request never sent look alike from the DOM alone.
        self.timeline: deque[str] = deque(maxlen=TIMELINE)
        self.started = time.monotonic()
        page.on("console", lambda message: self.note(f"console {message.type}: {message.text}"))
        page.on("websocket", self._watch_websocket)
        page.on("request", lambda request: self._note_request("->", request))
        page.on("requestfinished", self._note_answer)
        page.on("requestfailed", lambda request: self._note_request("failed", request))

    def note(self, entry: str) -> None:
        entry = TOKEN.sub(r'"\1":"…"', entry)
        self.timeline.append(f"{time.monotonic() - self.started:8.3f} {entry[:FRAME_TEXT]}")

    def _watch_websocket(self, ws: WebSocket) -> None:
        self.note(f"ws open {ws.url}")
        ws.on("framesent", lambda frame: self.note(f"ws -> {frame!r}"))
        ws.on("framereceived", lambda frame: self.note(f"ws <- {frame!r}"))
        ws.on("close", lambda _ws: self.note("ws closed"))

    async def _note_answer(self, request: Request) -> None:
        """A finished request; a long-poll's answer with its packets. The page or its context may
        close meanwhile (the test ended): Playwright raises what a listener raises into the next
        call on the browser, another test's (CI: a TargetClosedError in a later test's
        ``new_context``), so nothing may escape here."""
        if "/socket.io/" not in request.url or request.method != "GET":
            self._note_request("<-", request)
            return
        try:
            response = await request.response()
            text = await response.text() if response is not None else "(no response)"
        except Exception as exc:  # the page or context closed meanwhile
            text = f"(unread: {exc})"
        self.note(f"http <- GET {request.url.removeprefix(self.base_url)} {text}")

    def _note_request(self, what: str, request: Request) -> None:
        if "/socket.io/" in request.url or "/api/" in request.url:
            body = request.post_data if what == "->" and request.method == "POST" else ""
            self.note(f"http {what} {request.method} {request.url.removeprefix(self.base_url)} {body or ''}")

    def by(self, testid: str) -> Locator:
        return self.page.get_by_test_id(testid)

    async def open(self) -> None:
        await self.page.goto(self.base_url)

    # ---- signing in --------------------------------------------------------------

    async def fill_login(self, username: str, password: str) -> None:
        await self.by("login-username").fill(username)
        await self.by("login-password").fill(password)

    async def register(self, username: str, password: str = PASSWORD) -> None:
        await self.fill_login(username, password)
        await self.by("register-submit").click()
        await expect(self.by("me")).to_have_text(username)
        await self.settled()

    async def log_in(self, username: str, password: str = PASSWORD) -> None:
        await self.fill_login(username, password)
        await self.by("login-submit").click()
        await expect(self.by("me")).to_have_text(username)
        await self.settled()

    async def settled(self) -> None:
        """The page has opened what it opens by itself once signed in (a new user lands in #lobby,
        closing the phone drawer): a test's next step is not undone by it."""
        await expect(self.by("chat-screen")).to_have_attribute("data-settled", "true")

    async def in_sidebar(self, control: Locator) -> Locator:
        """``control``, the sidebar's, shown: at phone width the sidebar is a drawer, closed while
        a conversation is open, which the menu button opens. A new user's page lands in #lobby a
        moment after signing in, which closes the drawer: so it is looked at again until the
        control stays shown (a few tries, each bounded)."""
        await control.wait_for(state="attached")  # a closed drawer's are hidden: out of the Tab order
        toggle = self.by("sidebar-toggle")  # shown at phone width only
        for _ in range(4):
            if await control.is_visible() and await control.evaluate(ON_SCREEN):
                return control
            if await toggle.is_visible() and await toggle.get_attribute("aria-expanded") != "true":
                await toggle.click()
            try:
                await control.wait_for(timeout=3_000)
            except PlaywrightTimeout:
                continue
        await control.wait_for()
        return control

    async def log_out(self) -> None:
        await (await self.in_sidebar(self.by("logout"))).click()
        await expect(self.by("login-screen")).to_be_visible()

    # ---- topics -----------------------------------------------------------------------

    def topic(self, name: str) -> Locator:
        return self.page.locator(f'[data-testid="topic-item"][data-topic="{name}"]')

    def unread(self, name: str) -> Locator:
        return self.topic(name).get_by_test_id("unread-badge")

    async def create_topic(self, name: str, private: bool = False) -> None:
        await (await self.in_sidebar(self.by("create-topic-name"))).fill(name)
        if private:
            await self.by("create-topic-private").check()
        await self.by("create-topic-submit").click()
        await self.expect_open(name)

    async def open_topic(self, name: str) -> None:
        await (await self.in_sidebar(self.topic(name))).click()
        await self.expect_open(name)

    async def join(self, name: str) -> None:
        await self.open_topic(name)
        await self.by("join-topic").click()
        await expect(self.by("composer")).to_be_visible()

    async def expect_open(self, name: str) -> None:
        """``name`` is open: a topic by its name, a direct conversation ("@bob") by its peer (its
        header shows the peer's display name, when they have one)."""
        if name.startswith("@"):
            await expect(self.by("current-topic")).to_have_attribute(
                "data-topic", re.compile(f"^{re.escape(name)}$", re.I)
            )
        else:
            await expect(self.by("current-topic")).to_have_text(name.removeprefix("#"))
        await expect(self.by("history-top")).not_to_have_text("Loading messages…")

    def member(self, username: str) -> Locator:
        return self.page.locator(f'[data-testid="member"][data-username="{username}"]')

    async def invite(self, username: str) -> None:
        await self.by("invite-toggle").click()
        await self.by("invite-username").fill(username)
        await self.by("invite-submit").click()
        await expect(self.by("invite-username")).to_be_hidden()

    async def start_direct(self, username: str) -> None:
        await (await self.in_sidebar(self.by("dm-username"))).fill(username)
        await self.by("dm-start").click()
        await self.expect_open(f"@{username}")

    # ---- messages ---------------------------------------------------------------------

    @property
    def messages(self) -> Locator:
        return self.by("message")

    def message(self, text: str) -> Locator:
        body = self.page.get_by_test_id("message-body").get_by_text(text, exact=True)
        return self.messages.filter(has=body)

    async def type(self, text: str) -> None:
        await self.by("composer").press_sequentially(text)

    async def send(self, text: str) -> None:
        await self.by("composer").fill(text)
        await self.by("composer").press("Enter")
        await expect(self.message(text)).to_have_attribute("data-state", "sent")

    async def edit(self, text: str, new_text: str) -> None:
        await self.act_on(text, "edit")
        await self.by("edit-input").fill(new_text)
        await self.by("edit-input").press("Enter")
        await expect(self.message(new_text).get_by_test_id("edited-mark")).to_be_visible()

    async def delete(self, text: str) -> None:
        message = self.message(text)
        await message.hover()
        await message.get_by_test_id("delete").click()
        await message.get_by_test_id("confirm-delete").click()
        await expect(message).to_have_count(0)

    async def act_on(self, text: str, action: str) -> None:
        """Hover a message and click one of its actions (reply, thread, react, pin, edit, delete)."""
        message = self.message(text)
        await message.hover()
        await message.get_by_test_id(action).click()

    # ---- replies, threads, reactions, mentions, pins (issue 20) --------------------------

    async def reply(self, text: str, answer: str) -> None:
        await self.act_on(text, "reply")
        await expect(self.by("reply-preview-excerpt")).to_have_text(text)
        await self.send(answer)
        await expect(self.by("reply-preview")).to_be_hidden()

    def quote_in(self, text: str) -> Locator:
        return self.message(text).get_by_test_id("reply-quote")

    @property
    def thread_panel(self) -> Locator:
        return self.by("thread-panel")

    def thread_reply(self, text: str) -> Locator:
        body = self.page.get_by_test_id("message-body").get_by_text(text, exact=True)
        return self.thread_panel.get_by_test_id("thread-reply").filter(has=body)

    async def open_thread(self, text: str) -> None:
        await self.act_on(text, "thread")
        await expect(self.thread_panel).to_be_visible()
        await expect(self.by("thread-root").get_by_test_id("message-body")).to_have_text(text)
        await expect(self.by("thread-count")).not_to_have_text("Loading replies…")

    async def reply_in_thread(self, text: str) -> None:
        await self.by("thread-composer").fill(text)
        await self.by("thread-composer").press("Enter")
        await expect(self.thread_reply(text)).to_be_visible()
        await expect(self.by("thread-composer")).to_have_value("")

    def reaction(self, text: str, emoji: str) -> Locator:
        return self.message(text).locator(f'[data-testid="reaction"][data-emoji="{emoji}"]')

    async def react(self, text: str, emoji: str) -> None:
        await self.act_on(text, "react")
        await self.by("reaction-picker").locator(f'[data-testid="pick-emoji"][data-emoji="{emoji}"]').click()

    def mentions(self, name: str) -> Locator:
        return self.topic(name).get_by_test_id("mention-badge")

    async def set_notify(self, level: str) -> None:
        await self.by("notify-toggle").click()
        await self.by(f"notify-{level}").click()
        await expect(self.by("notify-menu")).to_be_hidden()
        name = await self.by("current-topic").get_attribute("data-topic")  # "@bob" for a direct one
        await expect(self.topic(name or "").first).to_have_attribute("data-notify", level)

    async def current_topic(self) -> str:
        return await self.by("current-topic").inner_text()

    async def pin(self, text: str) -> None:
        await self.act_on(text, "pin")
        await expect(self.message(text).get_by_test_id("pinned-mark")).to_be_visible()

    def system_message(self, text: str) -> Locator:
        return self.by("system-message").filter(has_text=text)

    # ---- moderation and safety (issue 21) ------------------------------------------------

    async def open_members(self) -> None:
        if not await self.by("members-panel").is_visible():
            await self.by("members-toggle").click()
        await expect(self.by("members-panel")).to_be_visible()

    async def member_action(self, username: str, action: str) -> None:
        """Open a member's menu in the members panel and pick an action (make-admin, kick, block, ...)."""
        await self.open_members()
        await self.member(username).get_by_test_id("member-menu-toggle").click()
        await self.member(username).get_by_test_id(action).click()

    async def fill_dialog(self, submit: bool = True, **values: str) -> None:
        """Fill the open dialog's fields (by name) and submit it; it closes when the server agreed."""
        dialog = self.page.locator("dialog[open]")
        for name, value in values.items():
            await dialog.get_by_test_id(f"dialog-{name}").fill(value)
        if submit:
            await dialog.get_by_test_id("dialog-submit").click()
            await expect(dialog).to_have_count(0)

    def role_of(self, username: str) -> Locator:
        return self.member(username).get_by_test_id("member-role")

    async def open_settings(self) -> None:
        await self.by("settings-toggle").click()
        await expect(self.by("settings-panel")).to_be_visible()

    def toast(self, text: str) -> Locator:
        return self.by("toast").filter(has_text=text)

    async def test_hook(self, script: str) -> Any:
        """Run ``script`` with ``chat`` bound to the page's controller (window.__parleyTest)."""
        wrapped = f"(() => {{ const chat = window.__parleyTest.chat(); return {script}; }})()"
        return await self.page.evaluate(wrapped)

    # ---- evidence -----------------------------------------------------------------------

    async def screenshot(self, label: str = "") -> None:
        suffix = f"-{label}" if label else ""
        path = self.artifacts.with_name(f"{self.artifacts.name}-{self.name}{suffix}.png")
        await self.page.screenshot(path=str(path))

    async def evaluate(self, script: str) -> Any:
        return await self.page.evaluate(script)
