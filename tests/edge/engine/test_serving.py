"""``PromptServer``'s stop: uvicorn's steps and graceful semantics without its fixed waits.

Each test stops a real uvicorn (port 0) with a real client on it. What they check is behaviour
(connections closed, the lifespan shutdown run, a request in flight answered, the graceful timeout
and the max-requests exit kept); how long a stop takes is measured, not asserted: on a loaded CI
machine no bound below uvicorn's own 0.1 s sleep is safe.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.edge.engine.serving import PromptServer
from server.edge.engine.wsprotocol import websocket_options
from tests.support import WAIT


class App:
    """An ASGI app that records its lifespan, answers ``/`` at once and holds ``/held`` until
    ``release`` is set, and accepts a WebSocket it then only reads."""

    def __init__(self) -> None:
        self.lifespan: list[str] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                self.lifespan.append("startup")
                await send({"type": "lifespan.startup.complete"})
            self.lifespan.append("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            while (await receive())["type"] != "websocket.disconnect":
                pass
        else:
            if scope["path"] == "/held":
                self.entered.set()
                try:
                    await self.release.wait()
                except asyncio.CancelledError:
                    self.cancelled = True
                    raise
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})


class Watched(PromptServer):
    """A ``PromptServer`` that tells when its stop has asked the connections to close and begun to
    wait for them (uvicorn's ``shutdown`` calls ``_wait_tasks_to_complete`` right after)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.waiting = asyncio.Event()

    async def _wait_tasks_to_complete(self) -> None:
        self.waiting.set()
        await super()._wait_tasks_to_complete()


@asynccontextmanager
async def serving(app: App, **options: Any) -> AsyncIterator[tuple[int, Watched, asyncio.Task[None]]]:
    """``app`` on a ``PromptServer`` over a socket already listening (a client may connect before
    uvicorn accepts: the backlog holds it, so nothing waits for ``started``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **websocket_options(), **options)
    server = Watched(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[1], server, task
    finally:
        server.should_exit = True
        app.release.set()
        await asyncio.wait_for(task, WAIT)
        sock.close()


async def get(port: int, path: str = "/") -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """A keep-alive HTTP/1.1 GET: the connection and, unless the app holds it, the response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode())
    if path == "/held":
        return reader, writer, b""
    return reader, writer, await asyncio.wait_for(reader.readuntil(b"ok"), WAIT)


async def stop(server: PromptServer, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    await asyncio.wait_for(task, WAIT)


async def test_a_stop_closes_an_idle_keep_alive_connection_and_runs_the_lifespan_shutdown():
    app = App()
    async with serving(app) as (port, server, task):
        reader, writer, response = await get(port)
        assert response.startswith(b"HTTP/1.1 200")
        await stop(server, task)

        assert await asyncio.wait_for(reader.read(), WAIT) == b""  # closed by the server
        assert not server.server_state.connections
        assert app.lifespan == ["startup", "shutdown"]
        writer.close()


async def test_a_stop_closes_an_open_websocket_with_1012_and_runs_the_lifespan_shutdown():
    app = App()
    async with serving(app) as (port, server, task), connect(f"ws://127.0.0.1:{port}/ws") as ws:
        await stop(server, task)

        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012  # service restart, as uvicorn closes
        assert not server.server_state.connections
        assert app.lifespan == ["startup", "shutdown"]


async def test_a_request_in_flight_at_the_stop_still_gets_its_answer():
    app = App()
    async with serving(app) as (port, server, task):
        reader, writer, _ = await get(port, "/held")
        await asyncio.wait_for(app.entered.wait(), WAIT)
        server.should_exit = True
        await asyncio.wait_for(server.waiting.wait(), WAIT)
        assert not task.done() and app.lifespan == ["startup"]  # it waits for the request

        app.release.set()
        response = await asyncio.wait_for(reader.read(), WAIT)  # answered, then closed
        await asyncio.wait_for(task, WAIT)

        assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"ok")
        assert b"connection: close" in response.lower()
        assert app.lifespan == ["startup", "shutdown"]
        writer.close()


async def test_past_the_graceful_timeout_a_held_request_is_cancelled_and_the_lifespan_still_ends():
    app = App()
    async with serving(app, timeout_graceful_shutdown=0.05) as (port, server, task):
        _, writer, _ = await get(port, "/held")
        await asyncio.wait_for(app.entered.wait(), WAIT)
        await stop(server, task)

        assert app.cancelled
        assert app.lifespan == ["startup", "shutdown"]
        writer.close()


async def test_the_max_requests_exit_still_comes_from_the_ticks():
    app = App()
    async with serving(app, limit_max_requests=1) as (port, _, task):
        _, writer, response = await get(port)
        assert response.startswith(b"HTTP/1.1 200")
        await asyncio.wait_for(task, WAIT)  # nobody set should_exit: on_tick saw the count

        assert app.lifespan == ["startup", "shutdown"]
        writer.close()


class Ticking(Watched):
    """A ``Watched`` that records each ``on_tick``'s counter and the date header it left."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ticks: list[tuple[int, bytes]] = []
        self.ticked_twice = asyncio.Event()

    async def on_tick(self, counter: int) -> bool:
        stop = await super().on_tick(counter)
        date = dict(self.server_state.default_headers).get(b"date", b"")
        self.ticks.append((counter, date))
        if len(self.ticks) >= 2:
            self.ticked_twice.set()
        return stop


async def test_every_tick_is_one_that_renews_the_date_header():
    """uvicorn's ``on_tick`` works only when its counter is a multiple of 10 (its tick is 0.1 s, the
    date header once a second). Ours ticks once a second with such a counter: each tick renews the
    date, and an idle worker's loop is not woken nine more times a second for nothing."""
    app = App()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **websocket_options())
    server = Ticking(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(server.ticked_twice.wait(), WAIT)
        await stop(server, task)
    finally:
        sock.close()

    counters = [counter for counter, _ in server.ticks]
    assert counters[:2] == [0, 10], counters
    assert all(counter % 10 == 0 for counter in counters), counters
    assert all(date.endswith(b" GMT") for _, date in server.ticks), server.ticks


async def test_should_exit_set_from_another_thread_wakes_the_server():
    """As ``handle_exit`` does from a signal handler: the setter wakes the loop through
    ``call_soon_threadsafe``, whichever thread sets it."""
    app = App()
    async with serving(app) as (port, server, task):
        _, writer, _ = await get(port)
        setter = threading.Thread(target=setattr, args=(server, "should_exit", True))
        setter.start()
        await asyncio.wait_for(task, WAIT)
        setter.join()

        assert app.lifespan == ["startup", "shutdown"]
        writer.close()


CLIENT_CLOSE = b"\x88\x82\x00\x00\x00\x00\x03\xe8"  # a masked close frame, code 1000 (mask of zeros)


async def test_a_stop_passes_over_a_websocket_whose_close_is_already_answered():
    """A client's close frame answered, its connection not yet gone (``connection_lost`` comes
    on a later turn of the loop): uvicorn's shutdown sends that WebSocket a second close frame,
    which websockets refuses (``InvalidState``), and the stop failed with a traceback. Seen in CI
    twice (a page's test server stopped just as the page closed its socket): uvicorn's 0.1 s tick
    before the shutdown mostly hid the moment, the prompt stop reaches it. Here the frame is
    handed to the server's protocol as the network would, and the stop's first step follows in
    the same turn."""
    app = App()
    async with serving(app) as (port, server, _task), connect(f"ws://127.0.0.1:{port}/ws") as ws:
        (protocol,) = server.server_state.connections
        protocol.data_received(CLIENT_CLOSE)  # type: ignore[attr-defined]

        await server.shutdown()

        assert app.lifespan == ["startup", "shutdown"]
        assert not server.server_state.connections
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000  # the answer to its close
