"""Running uvicorn: the one place the command line reaches it, and our ``uvicorn.Server`` overrides.

``PromptServer`` stops without uvicorn's fixed waits. uvicorn's main loop looks at ``should_exit``
every 0.1 s, and its shutdown sleeps 0.1 s after asking each connection to close, then polls the
connections and the request tasks every 0.1 s: a stop with nothing in flight took 0.15-0.25 s.
Every in-process test server (``tests/support.py`` ``listening``) and every ``parley serve``
stops this way, thousands of times a test run. Ours wakes the main loop as soon as ``should_exit``
is set (from the loop, another thread or uvicorn's signal handler, hence ``call_soon_threadsafe``)
and polls every ``POLL`` seconds, with uvicorn's order and its ``timeout_graceful_shutdown``;
``on_tick`` (the date header once a second, the max-requests exit) is uvicorn's, called once a
second rather than ten times.

``parley serve`` logs its own line once the server listens, with the port it got (``--port 0``):
``AnnouncingServer`` overrides uvicorn's ``Server.startup`` (the step that runs the lifespan and
then serves the socket ``listening_socket`` bound and opened before the app was imported; it exits
the process when the lifespan fails) and reads ``servers[0].sockets`` and ``started``.
uvicorn's own "running on" line is off (log level warning). Every uvicorn symbol used here is
listed in ``CONTRACT.md``; ``tests/cli/test_serve.py`` and ``tests/edge/engine/test_serving.py``
fail if it stops working.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger("uvicorn.error")  # uvicorn's own logger, for its own shutdown lines

POLL = 0.005
"""Seconds between two looks at the connections and tasks a stop waits for (uvicorn's: 0.1)."""
TICK = 1.0
"""Seconds between two calls of uvicorn's ``on_tick`` (uvicorn's: 0.1, doing its work every tenth)."""


class PromptServer(uvicorn.Server):
    """uvicorn's server, whose stop waits only for what is still open (no fixed 0.1 s waits)."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()
        super().__init__(config)

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        """Set by the code that stops the server or by uvicorn's ``handle_exit`` (a signal):
        either way the main loop wakes now, not at its next tick."""
        self._should_exit = value
        if value and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._woken.set)

    async def main_loop(self) -> None:
        """uvicorn's loop of ``on_tick``, each wait cut short by ``should_exit``, every ``TICK``
        seconds instead of every 0.1 s. uvicorn's tick does work only every tenth time (the date
        header, the notify callback); the other nine looked at ``should_exit``, which wakes this
        loop by itself. So each tick here is a tenth one (the counter steps by 10): the same date
        header once a second, with a tenth of the loop's wake-ups (an idle worker woke 65 times a
        second, 10 of them this loop's). Only the max-requests exit may come up to a second later."""
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK):
                    await self._woken.wait()
            self._woken.clear()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown in its order (stop listening, ask each connection to close, wait
        for connections then tasks within ``timeout_graceful_shutdown``, cancel what is left, run
        the lifespan shutdown unless forced) without its fixed 0.1 s sleep: the wait that follows
        polls the connections, which is what the sleep gave time to close.

        One step differs: a connection whose transport is already closing is not asked again. A
        WebSocket whose client's close frame was answered stays among the connections until the
        loop's next turn, and uvicorn's ``shutdown`` of it sends a second close frame, which
        websockets refuses (``InvalidState``): the stop failed with a traceback. uvicorn's 0.1 s
        tick before its shutdown mostly hid that moment; a prompt stop reaches it."""
        logger.info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None and transport.is_closing():
                continue  # closing already (a WebSocket's close answered): it ends by itself
            connection.shutdown()
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                await self._wait_tasks_to_complete()
        except TimeoutError:
            logger.error(
                "Cancel %s running task(s), timeout graceful shutdown exceeded", len(self.server_state.tasks)
            )
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _wait_tasks_to_complete(self) -> None:
        """uvicorn's wait for the connections, then the tasks, then the listeners; polled every
        ``POLL`` seconds instead of 0.1 s."""
        if self.server_state.connections and not self.force_exit:
            logger.info("Waiting for connections to close. (CTRL+C to force quit)")
            while self.server_state.connections and not self.force_exit:
                await asyncio.sleep(POLL)
        if self.server_state.tasks and not self.force_exit:
            logger.info("Waiting for background tasks to complete. (CTRL+C to force quit)")
            while self.server_state.tasks and not self.force_exit:
                await asyncio.sleep(POLL)
        for server in self.servers:
            await server.wait_closed()


class AnnouncingServer(PromptServer):
    """uvicorn's server that calls ``on_listening`` with the bound port once it listens."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[int | None], None]) -> None:
        super().__init__(config)
        self.on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.on_listening(self.servers[0].sockets[0].getsockname()[1] if self.servers else None)


def serve_announcing(app: str, on_listening: Callable[[int | None], None], **options: Any) -> bool:
    """Serve the app factory ``app`` in this process until stopped; False if it never started.

    ``on_listening`` gets the bound port (None when uvicorn bound no server of its own).
    """
    config = uvicorn.Config(app, factory=True, **options)
    listener = listening_socket(config)
    server = AnnouncingServer(config, on_listening)
    with listener, contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl+C is a normal stop
        server.run(sockets=[listener])
    return bool(server.started)


def listening_socket(config: uvicorn.Config) -> socket.socket:
    """The server's socket, bound and listening before the app is imported and started.

    uvicorn binds once the app is built and its lifespan has run: about a second of a restart in
    which every connect is refused (ECONNREFUSED, a stock client's ``connect_error``, and a
    reconnect delay of up to five seconds before its next try). Listening first, those connects
    wait in the kernel's queue (``PARLEY_BACKLOG``) and are served once the server has started.
    ``Config.bind_socket`` is how uvicorn's own supervisor binds for its workers (CONTRACT.md)."""
    listener = config.bind_socket()
    listener.listen(config.backlog)
    return listener


def serve_workers(app: str, workers: int, **options: Any) -> None:
    """``uvicorn.run(app, factory=True, workers=N)``, whose socket listens from the start.

    uvicorn's supervisor binds in this process and each worker listens once it has started; a
    connect before the first is refused. Here the socket listens before the workers are spawned
    (they inherit it), so connects wait in its queue for whichever worker is ready first."""
    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    listener = listening_socket(config)
    with listener, contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run
        Multiprocess(config, sockets=[listener]).run()


def run(app: Any, **options: Any) -> None:
    """``uvicorn.run``: an app, or an app factory's import path with ``factory=True`` (workers, reload)."""
    uvicorn.run(app, **options)
