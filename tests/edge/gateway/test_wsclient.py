"""The test client itself (``wsclient.py``): a socket with unread frames still closes at once."""

from __future__ import annotations

import time

from websockets.asyncio.client import connect

from tests.edge.gateway.test_public_channel import pub
from tests.edge.gateway.wsclient import closing, opened, ws_url
from tests.support import LiveServer

UNREAD = 40  # pushes never read: past websockets' max_queue (16) the client stops reading
CLOSE_TIMEOUT = 30.0  # seconds websockets waits for the server's close frame (under pytest's 60 s)
CLOSED_WITHIN = 10.0  # seconds; a close takes milliseconds


async def test_a_socket_left_with_unread_pushes_closes_without_waiting_for_its_close_timeout(
    live_server: LiveServer,
) -> None:
    # A module's fuzz server waited 10 s (websockets' default close_timeout) for each socket its
    # tests had left pushes on: the client never read the server's close frame behind them.
    token = await live_server.register("alice")
    async with connect(ws_url(live_server, pub(token)), close_timeout=CLOSE_TIMEOUT) as unread:
        async with opened(live_server, pub(token)) as sender:
            for i in range(UNREAD):
                await sender.send(f"message {i}")
            await sender.until({"content": f"message {UNREAD - 1}"})  # each was pushed to both sockets
        started = time.monotonic()
        await closing(unread)
        assert time.monotonic() - started < CLOSED_WITHIN
        assert unread.close_code == 1000
