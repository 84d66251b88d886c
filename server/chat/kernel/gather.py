"""Asking every node: a question only the nodes' own state can answer, and their answers gathered.

The hub only tells; some questions need an answer from each node: how many sockets a user has
here, or the acknowledgements of an event emitted to a user's sockets, which live on the nodes
that hold them. ``ask`` puts a question to every live node (this one included) and returns, once
every live node answered or at ``within`` seconds at the latest, the answers gathered by then: a
node that is slow, hung or dead costs the wait, never the answer of the others.

A question is a frozen dataclass of plain values (``server.adapters.cluster.codec`` carries it
across nodes); an answer is a JSON object. Each kind of question has one answerer per node,
registered with ``answer``: the domain answers what it counts itself (``SocketsOf``), the edge what
only its transports know (``server.chat.kernel.events.AppEvent``). A node with no answerer for a
question (or whose answerer failed) adds nothing to the answers.

``LocalGather`` is one process: it answers itself. ``server.adapters.cluster.redis_gather`` asks
the nodes over Redis, on channels of their own, so the hub's fan-out of messages does no more work.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("parley.gather")

Answer = dict[str, Any]
Answerer = Callable[[Any], Awaitable[Answer]]


@dataclass(frozen=True)
class SocketsOf:
    """How many realtime sockets that make the user online (``PresenceService``'s count) this node holds."""

    user_id: int


class Gather(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def answer(self, kind: type, answerer: Answerer) -> None:
        """Answer the questions of type ``kind`` on this node with ``answerer`` (one per kind)."""
        ...

    async def ask(self, question: Any, within: float) -> list[Answer]:
        """Every live node's answer to ``question``, as many as came within ``within`` seconds."""
        ...


class Answerers:
    """The answerers of one node, by the type of question."""

    def __init__(self) -> None:
        self._by_kind: dict[type, Answerer] = {}

    def add(self, kind: type, answerer: Answerer) -> None:
        self._by_kind[kind] = answerer

    async def answer(self, question: Any) -> Answer | None:
        """This node's answer, or None when it has no answerer for the question or its answerer
        failed (logged: the asker counts it as a node that did not answer)."""
        answerer = self._by_kind.get(type(question))
        if answerer is None:
            return None
        try:
            return await answerer(question)
        except Exception:
            log.exception("answering %s failed", type(question).__name__)
            return None


class LocalGather:
    """One process: this node is every node."""

    def __init__(self) -> None:
        self.answerers = Answerers()

    async def start(self) -> None:
        """Nothing to connect in one process."""

    async def stop(self) -> None:
        """Nothing to release in one process."""

    def answer(self, kind: type, answerer: Answerer) -> None:
        self.answerers.add(kind, answerer)

    async def ask(self, question: Any, within: float) -> list[Answer]:
        """This node's answer; ``within`` binds the answerers, which wait no longer themselves."""
        del within
        found = await self.answerers.answer(question)
        return [] if found is None else [found]
