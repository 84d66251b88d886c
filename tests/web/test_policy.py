"""The page works under its Content-Security-Policy: no violation, and the WebSocket is allowed."""

from __future__ import annotations

import pytest
from playwright.async_api import ConsoleMessage, WebSocket, expect

pytestmark = pytest.mark.browser


async def test_the_page_runs_under_its_policy_without_a_violation(new_page) -> None:
    alice = await new_page("alice")
    console: list[str] = []
    sockets: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        console.append(message.text)

    def on_websocket(socket: WebSocket) -> None:
        sockets.append(socket.url)

    alice.page.on("console", on_console)
    alice.page.on("websocket", on_websocket)
    response = await alice.page.reload()  # with the listeners in place from the start
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]

    await alice.register("alice")
    await alice.create_topic("general")
    await alice.send("under policy")
    await expect(alice.message("under policy")).to_be_visible()
    assert any("/socket.io/" in url and "transport=websocket" in url for url in sockets), sockets
    assert not [text for text in console if "Content Security Policy" in text], console
    assert alice.page_errors == []
