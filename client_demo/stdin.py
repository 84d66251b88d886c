"""Lines from stdin without blocking the event loop.

A daemon thread reads the file descriptor with ``os.read`` and hands complete
lines to the loop. Not ``sys.stdin.readline``: a daemon thread blocked inside
the buffered reader holds its lock, and the interpreter can die on that lock
at exit. Not ``loop.connect_read_pipe``: it refuses regular files
(``< script.txt``). The same reader serves the password line of
``--password-stdin`` and the REPL, so nothing read ahead is lost between them.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import sys
import threading


class StdinLines:
    """``await readline()`` returns the next line without its newline, or None at EOF."""

    def __init__(self, fd: int | None = None) -> None:
        self._fd = sys.stdin.fileno() if fd is None else fd
        self._queue: asyncio.Queue[str | None] | None = None
        self._eof = False

    async def readline(self) -> str | None:
        """The next line, or None once stdin is exhausted."""
        if self._eof:
            return None
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._start(asyncio.get_running_loop(), self._queue)
        line = await self._queue.get()
        self._eof = line is None
        return line

    def _start(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        thread = threading.Thread(target=self._pump, args=(loop, queue), name="stdin-lines", daemon=True)
        thread.start()

    def _pump(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while True:
            chunk = self._read()
            pending += decoder.decode(chunk, final=not chunk)
            *complete, pending = pending.split("\n")
            lines: list[str | None] = [line.removesuffix("\r") for line in complete]
            if not chunk:
                lines += [pending, None] if pending else [None]
            for line in lines:
                if not _hand_over(loop, queue, line):
                    return
            if not chunk:
                return

    def _read(self) -> bytes:
        try:
            return os.read(self._fd, 65536)
        except OSError:  # closed or unreadable stdin counts as end of input
            return b""


def _hand_over(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None], line: str | None) -> bool:
    try:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    except RuntimeError:  # the loop is closed: nobody is listening any more
        return False
    return True
