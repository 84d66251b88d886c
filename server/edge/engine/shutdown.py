"""Answer the held long-polls as soon as the server is told to stop.

On SIGTERM or SIGINT uvicorn stops accepting connections, then waits for the
requests in flight to finish before it runs the lifespan shutdown. A
long-polling GET is held until a packet arrives or ``ping_interval +
ping_timeout`` passes (45 s by default), so one polling client, even one that
vanished, held ``parley serve`` up for that long. uvicorn has no hook for
"stopping"; it catches the signals with ``signal.signal`` while it serves and
restores the previous handlers afterwards. ``ExitSignals`` chains a handler
onto uvicorn's (installed from the lifespan, in uvicorn's main thread): it
lets uvicorn handle the signal, then closes every polling session with a
CLOSE packet, as the reference server does when it closes, so each held GET
is answered at once. WebSocket sessions are left to uvicorn, which closes
them with 1012.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from engineio.async_server import AsyncServer

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ExitSignals:
    def __init__(self, eio: AsyncServer, close: Callable[[str], Awaitable[None]]) -> None:
        self.eio = eio
        self.close = close
        self._previous: dict[int, Any] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        """Chain onto the current handlers (only the main thread can; elsewhere nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        """Put back the handlers found at ``install`` where ours is still the one installed."""
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._handle:
                signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, sig: int, frame: FrameType | None) -> None:
        previous = self._previous.get(sig)
        if callable(previous):
            previous(sig, frame)
        elif previous == signal.SIG_DFL:  # nobody was handling it: do what the default does
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._start_release)

    def _start_release(self) -> None:
        task = asyncio.ensure_future(self.release_polls())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def release_polls(self) -> None:
        """Close every session still on long-polling: its held GET gets a CLOSE packet now."""
        for sid, socket in list(self.eio.sockets.items()):
            if not socket.upgraded and not socket.closed:
                await self.close(sid)
