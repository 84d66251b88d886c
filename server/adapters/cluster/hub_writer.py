"""The hub's one writer: what a node publishes reaches Redis in the order it was numbered.

A node numbers its messages on each channel, and the receivers read a jump in the numbers as lost
news (``redis_hub``). Over a pool of connections a later message could overtake an earlier one
(two publishes at once), which cost a read-back from the database and reordered what is not
stored (typing, a call's signals). ``OrderedWriter`` is the only path to ``PUBLISH`` and
``SPUBLISH``: publishers queue their numbered messages (``write``) in the order they were numbered,
and one task (``run``) sends what is queued as one pipeline and waits for its answers before the
next, so Redis receives each channel's messages in order; under load one round trip carries many
publishes, and a lone message goes as one command, as before. Each round is bounded (``timeout``):
a hung broker fails the round's publishers rather than holding the queue behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from server.adapters.cluster.routes import EVERYONE

Message = tuple[str, bytes]  # a channel's key and the numbered message for it


class OrderedWriter:
    def __init__(self, channel: str, name: Callable[[str], str], timeout: float) -> None:
        self.channel = channel  # the broadcast channel (EVERYONE's), for PUBLISH
        self.name = name  # a sharded channel's name from its key, for SPUBLISH
        self.timeout = timeout
        self._outbox: list[tuple[list[Message], asyncio.Future[int]]] = []  # numbered, unwritten
        self._waiting = asyncio.Event()  # something is in the outbox

    async def write(self, messages: list[Message]) -> int:
        """Queue one publish's messages (numbered just now, with no wait in between) and wait
        until they are written: what the broadcast channel's PUBLISH said (the nodes subscribed),
        or 0 without one. Raises what the round met."""
        written: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._outbox.append((messages, written))
        self._waiting.set()
        return await written

    async def run(self, redis: Any) -> None:
        """Write what is queued, round after round, for the node's life."""
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            round_, self._outbox = self._outbox, []
            try:
                heard = await self._round(redis, [messages for messages, _ in round_])
            except asyncio.CancelledError:  # the node stops: its publishers stop waiting too
                for _, written in round_ + self._outbox:
                    written.cancel()
                raise
            except Exception as exc:  # a broker's trouble, or a bug: each publisher hears of it
                for _, written in round_:
                    if not written.done():  # its publisher may have given up (its own timeout)
                        written.set_exception(exc)
                continue
            for (_, written), heard_by in zip(round_, heard, strict=True):
                if not written.done():
                    written.set_result(heard_by)

    async def _round(self, redis: Any, round_: list[list[Message]]) -> list[int]:
        """One pipeline of every message of ``round_``; for each publish, the nodes that heard its
        broadcast message (0 without one)."""
        if len(round_) == 1 and len(round_[0]) == 1:  # the hot path: one topic's message, alone
            ((key, data),) = round_[0]
            async with asyncio.timeout(self.timeout):
                if key == EVERYONE:
                    return [int(await redis.publish(self.channel, data))]
                await redis.spublish(self.name(key), data)
                return [0]
        pipe = redis.pipeline(transaction=False)
        for messages in round_:
            for key, data in messages:
                if key == EVERYONE:
                    pipe.publish(self.channel, data)
                else:
                    pipe.spublish(self.name(key), data)
        async with asyncio.timeout(self.timeout):
            answers = iter(await pipe.execute())
        heard = []
        for messages in round_:
            said = [(key, next(answers)) for key, _ in messages]
            heard.append(next((int(n) for key, n in said if key == EVERYONE), 0))
        return heard
