"""The test support itself (tests/support.py): a finished live server can be freed, and stops at once."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from contextlib import AsyncExitStack
from pathlib import Path

from tests.support import forget_apps, running
from tests.support import test_settings as settings_for

STOPPED_WITHIN = 30.0  # seconds; a stop takes ~0.02 s (PromptServer), the session's own timers 600 s


async def test_a_finished_servers_chat_is_freed_once_fastapis_caches_forget_its_app(tmp_path: Path) -> None:
    # One test process hosts hundreds of apps: one kept alive by FastAPI's module-level caches
    # holds its chat service, engine and Socket.IO server, and pytest took 27 s to exit.
    async with running(settings_for(tmp_path / "data")) as server:
        assert (await server.http.get("/docs")).status_code == 200  # its endpoints were classified
        chat = weakref.ref(server.chat)
    del server
    forget_apps()
    gc.collect()
    assert chat() is None


async def test_a_server_stops_at_once_with_a_long_poll_held_for_a_client_that_went_away(
    tmp_path: Path,
) -> None:
    # A node script that exits straight after its burst leaves its long-poll GET held and never
    # sends a CLOSE: the teardown waited for the session's ping (25 s in CI). Timers far past the
    # bound here: only releasing the poll, as SIGTERM does, stops the server within it.
    settings = settings_for(tmp_path / "data", ping_interval=600.0, connect_timeout=600.0)
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(running(settings))
        opened = await server.http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        sid = json.loads(opened.text[1:])["sid"]
        host, port = server.url.removeprefix("http://").split(":")
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        )
        await writer.drain()
        # A round trip on another connection: by its answer the server has read the held GET.
        assert (await server.http.get("/healthz")).status_code == 200
        writer.close()  # the client goes away without a CLOSE packet
        async with asyncio.timeout(STOPPED_WITHIN):
            await stack.aclose()
