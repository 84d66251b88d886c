"""Regenerate docs/screenshot.png, the README's picture of the chat page: ``make screenshot``.

It starts ``parley serve`` on a temporary SQLite data folder and a free port, seeds a small team
through the REST API as any client would (people with display names, titles, statuses and one
do-not-disturb; a topic with Markdown, a reply, a thread, reactions and a pin; a direct message),
then opens the page in the system Chromium with Playwright (as tests/web/conftest.py launches it),
signs in as the workspace's owner, opens the topic and writes the PNG. Nothing outside the
temporary folder is touched, and the server is stopped at the end.

The reactions and statuses use emoji that plain fonts draw (DejaVu has them), so the picture has
no empty boxes on a machine without a colour-emoji font.

Usage: ``.venv/bin/python docs/screenshot.py [OUT.png]`` (default docs/screenshot.png).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import socketio
from playwright.async_api import Browser, Page, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshot.png"
PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1280, "height": 860}
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-sync"]
STARTUP = 30.0  # seconds for the server to answer /healthz
TOPIC = "design"

PEOPLE = [  # username, display name, title, status (emoji, text) or None
    ("alice", "Alice Liddell", "Product", ("☕", "Coffee, back at 11")),
    ("bob", "Bob Marley", "Frontend", None),
    ("carol", "Carol Danvers", "Design", ("✈", "Travelling until Friday")),
    ("dan", "Dan Brown", "Backend", None),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parley_command() -> list[str]:
    script = Path(sys.executable).parent / "parley"
    return [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]


@contextlib.asynccontextmanager
async def serving(data_dir: Path, port: int) -> AsyncIterator[str]:
    """``parley serve`` on ``data_dir`` (SQLite) and ``port``; its URL once /healthz answers."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_BCRYPT_ROUNDS="4",
        PARLEY_PREVIEWS="off",
        PARLEY_LOG_LEVEL="WARNING",
    )
    log_path = data_dir.parent / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *parley_command(), "serve", "--port", str(port), cwd=ROOT, env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_healthy(process, url, log_path)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_until_healthy(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    async with httpx.AsyncClient(base_url=url, timeout=1) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"parley serve exited ({process.returncode}):\n{log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"parley serve did not answer /healthz within {STARTUP} s:\n{log.read_text()}")


class Team:
    """The seeding client: one token per person, every call checked."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.tokens: dict[str, str] = {}

    async def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        response = await self.http.request(method, path, json=body, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(f"{who}: {method} {path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    async def join(self, username: str, display: str, title: str, status: tuple[str, str] | None) -> None:
        answer = await self.http.post("/api/users", json={"username": username, "password": PASSWORD})
        if answer.status_code != 201:
            raise RuntimeError(f"registering {username} answered {answer.status_code}: {answer.text}")
        self.tokens[username] = answer.json()["token"]
        await self.call(username, "PATCH", "/api/users/me", {"display_name": display, "title": title})
        if status is not None:
            await self.call(username, "PUT", "/api/users/me/status", {"emoji": status[0], "text": status[1]})

    async def say(self, who: str, body: str, **extra: Any) -> int:
        target = {"topic": TOPIC} if "to" not in extra else {}
        sent = await self.call(who, "POST", "/api/messages", {**target, "body": body, **extra})
        return int(sent["id"])

    async def react(self, who: str, message: int, emoji: str) -> None:
        await self.call(who, "PUT", f"/api/messages/{message}/reactions/{quote(emoji)}")


async def seed(url: str) -> dict[str, str]:
    """The team, its topic and messages; each person's token."""
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        team = Team(http)
        for person in PEOPLE:  # alice first: the first account owns the workspace
            await team.join(*person)
        await team.call("dan", "PUT", "/api/users/me/availability", {"availability": "dnd"})
        await team.call("alice", "POST", "/api/topics", {"name": TOPIC})
        for who in ("bob", "carol", "dan"):
            await team.call(who, "POST", f"/api/topics/{TOPIC}/subscribe")

        icons = await team.say("carol", "I've updated the icons: ~~PNG~~ SVG everywhere now.")
        await team.react("alice", icons, "❤")
        await team.say("bob", "Nice! Same on production tonight?", reply_to=icons)
        plan = await team.say(
            "alice",
            "**Launch plan** for Thursday:\n\n"
            "1. Freeze `main` on Wednesday at 17:00\n"
            "2. Release notes in the wiki\n"
            "3. Demo at the all-hands",
        )
        for who, emoji in (("bob", "✔"), ("carol", "✔"), ("dan", "❤")):
            await team.react(who, plan, emoji)
        await team.call("alice", "PUT", f"/api/messages/{plan}/pin")
        await team.say("bob", "The new _sidebar_ is merged; screenshots in the thread.", thread=plan)
        await team.say("dan", "Migration ran on staging in 42 s, no locks. @alice I'll watch the logs.")
        await team.say("dan", "Thanks for the plan, see you Thursday", to="alice")
        return team.tokens


async def shoot(browser: Browser, url: str, out: Path) -> None:
    """Sign in as the owner, open the topic and write the PNG."""
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        page = await context.new_page()
        await page.goto(url)
        await sign_in(page, "alice")
        await page.locator(f'[data-testid="topic-item"][data-topic="{TOPIC}"]').click()
        await expect(page.get_by_test_id("current-topic")).to_have_text(TOPIC)
        await expect(page.get_by_test_id("history-top")).not_to_have_text("Loading messages…")
        await expect(page.get_by_test_id("message-body").last).to_contain_text("watch the logs")
        await page.wait_for_timeout(800)  # presence dots, avatars and the pin bar settle
        await page.screenshot(path=str(out))
    finally:
        await context.close()


async def sign_in(page: Page, username: str) -> None:
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("me")).to_be_visible()


@contextlib.asynccontextmanager
async def workspace() -> AsyncIterator[tuple[str, dict[str, str]]]:
    with tempfile.TemporaryDirectory(prefix="parley-screenshot-") as place:
        async with serving(Path(place) / "data", free_port()) as url:
            yield url, await seed(url)


@contextlib.asynccontextmanager
async def online(url: str, tokens: dict[str, str], people: list[str]) -> AsyncIterator[None]:
    """A Socket.IO connection per person, so the page shows them online (dan: do not disturb)."""
    clients = [socketio.AsyncClient() for _ in people]
    try:
        for client, who in zip(clients, people, strict=True):
            await client.connect(url, auth={"token": tokens[who]}, wait_timeout=10)
        yield
    finally:
        for client in clients:
            await client.disconnect()


async def main(out: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            async with workspace() as (url, tokens), online(url, tokens, ["bob", "carol", "dan"]):
                await shoot(browser, url, out)
        finally:
            await browser.close()
    sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
