"""The echo channel: answer each payload (or ask an upstream) and keep a transcript.

A session records every client payload and every answer with its time; when
the socket closes the transcript is stored. A transcript is bounded by what it
really costs (``max_bytes``, 256 KiB by default): each line is kept as one
``bytes`` of its JSON, and counted as its length plus ``LINE_OVERHEAD`` (the
bytes object's header and its slot in the deque), so a flood of tiny echoes is
bounded in memory as well as a few large ones (a line kept as a dict cost about
20 times its JSON). Past the cap the oldest lines are dropped, and the stored
transcript starts with a line ``{"from": "dropped", "payload": <how many>}``,
so a long-lived socket holds bounded memory and writes a bounded row.

Each session holds one of its user's sockets (``EchoService.open`` counts it
with the chat sockets: PROTOCOL.md section 2, ``/echo`` included), released by
``close``. The history is paged by id, newest first, at most ``PAGE`` a page,
and rendered from the stored JSON text as is (``render``), never as Python
objects of every line. The upstream is a port: the
composition root passes a callable that forwards a payload to a WebSocket
echo server; any failure of it becomes an ``internal`` error answer, and the
session stays usable.

A payload nesting arrays and objects deeper than ``MAX_DEPTH`` is
``invalid`` and is not recorded. Deeper, the answer could not be sent back
and the transcript line could not be written (orjson encodes at most 255
levels), so "as is" (PROTOCOL.md 5) would be broken twice; section 2 names
``invalid`` for a payload the server refuses.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.views import iso, iso_required


class Upstream(Protocol):
    """The port to an upstream echo server (``server.adapters.upstream``): one answer per payload,
    closed at stop."""

    async def __call__(self, payload: Any) -> Any: ...

    async def aclose(self) -> None: ...


MAX_DEPTH = 128
SHORTEST_TOO_DEEP = 2 * (MAX_DEPTH + 1)  # bytes of JSON: each level opens and closes a bracket
LINE_OVERHEAD = 64  # a bytes object's header (33), malloc's rounding and its deque slot (8)
PAGE = 20  # transcripts a history page holds at most (PROTOCOL.md section 5)


def too_deep(payload: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``payload`` nests lists and dicts more than ``limit`` levels (iterative: no recursion)."""
    if not isinstance(payload, (list, dict)):
        return False  # a scalar: most payloads, answered without building a level
    level = [payload]
    for _ in range(limit):
        level = [child for item in level for child in _children(item)]
        if not level:
            return False
    return True


def _children(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, (list, dict))]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, (list, dict))]
    return []


class EchoSession:
    """One socket's conversation with the echo channel."""

    def __init__(self, actor: Actor, upstream: Upstream | None, max_bytes: int = 256 * 1024) -> None:
        self.actor = actor
        self.upstream = upstream
        self.max_bytes = max_bytes
        self.started_at = datetime.now(UTC)
        self._lines: deque[bytes] = deque()  # each line's JSON
        self._size = 0
        self.dropped = 0

    @property
    def size(self) -> int:
        """What the kept lines cost: their JSON bytes plus ``LINE_OVERHEAD`` each (at most ``max_bytes``)."""
        return self._size

    def transcript_json(self) -> bytes:
        """The transcript as stored, as a JSON array: a ``dropped`` line first when older lines went."""
        kept = list(self._lines)
        if self.dropped:
            first = orjson.loads(kept[0])["at"] if kept else iso(datetime.now(UTC))
            kept.insert(0, orjson.dumps({"from": "dropped", "payload": self.dropped, "at": first}))
        return b"[" + b",".join(kept) + b"]"

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The transcript as stored, as Python objects."""
        lines: list[dict[str, Any]] = orjson.loads(self.transcript_json())
        return lines

    async def echo(self, payload: Any) -> Any:
        """The answer to ``payload``; ChatError ``invalid`` (too deep, or not JSON) or ``internal``
        (upstream failed)."""
        try:
            said: bytes | None = orjson.dumps(payload)
        except orjson.JSONEncodeError:  # more than 255 levels, or what JSON cannot hold
            said = None
        # Only a payload this long can nest too deep: most are answered without walking them.
        if said is None or len(said) >= SHORTEST_TOO_DEEP:
            if too_deep(payload):
                raise ChatError(ErrorCode.INVALID, f"the payload nests deeper than {MAX_DEPTH} levels")
            if said is None:
                raise ChatError(ErrorCode.INVALID, "the payload is not JSON")
        now = datetime.now(UTC)
        if self.upstream is None:  # the answer is the payload, in the same instant: one encoding
            at = _at(now)
            self._keep(_line(b"client", said, at))
            self._keep(_line(b"server", said, at))
            return payload
        self._keep(_line(b"client", said, _at(now)))
        try:
            answer = await self.upstream(payload)
        except Exception as exc:
            self._record("error", str(exc) or type(exc).__name__, datetime.now(UTC))
            raise ChatError(ErrorCode.INTERNAL, "the upstream echo server did not answer") from exc
        self._record("server", answer, datetime.now(UTC))
        return answer

    def _record(self, source: str, payload: Any, at: datetime) -> None:
        # Joined into a new bytes: orjson's own keeps its whole write buffer (4 KiB for a tiny line).
        self._keep(_line(source.encode(), orjson.dumps(payload), _at(at)))

    def _keep(self, line: bytes) -> None:
        """Keep ``line`` (a new bytes of its exact size), dropping the oldest past ``max_bytes``."""
        self._lines.append(line)
        self._size += len(line) + LINE_OVERHEAD
        while self._size > self.max_bytes and self._lines:
            self._size -= len(self._lines.popleft()) + LINE_OVERHEAD
            self.dropped += 1


def _line(source: bytes, said: bytes, at: bytes) -> bytes:
    """A transcript line's JSON, ``{"from": source, "payload": ..., "at": ...}``, from its encoded parts."""
    return b'{"from":"' + source + b'","payload":' + said + at


def _at(moment: datetime) -> bytes:
    """A line's end: ``,"at":`` and the time as ``iso`` writes it (a ``Z``, microseconds when not zero)."""
    return b',"at":' + orjson.dumps(moment, option=orjson.OPT_UTC_Z) + b"}"


Counter = Callable[[int], Awaitable[None]]


async def _uncounted(_user_id: int) -> None:
    """No socket limit (an EchoService built without one, e.g. by a test of the domain)."""


class EchoService:
    def __init__(
        self,
        db: Database,
        upstream: Upstream | None,
        transcript_bytes: int = 256 * 1024,
        count: Counter = _uncounted,
        uncount: Counter = _uncounted,
    ) -> None:
        """``count``/``uncount`` hold and release one of the user's sockets in the one per-user
        count (``SessionService``): ``count`` raises ``rate_limited`` when the user has them all."""
        self.db = db
        self.upstream = upstream
        self.transcript_bytes = transcript_bytes
        self._count = count
        self._uncount = uncount

    async def stop(self) -> None:
        """Close the upstream's connections (shutdown)."""
        if self.upstream is not None:
            await self.upstream.aclose()

    async def open(self, actor: Actor) -> EchoSession:
        """A session holding one of the user's sockets; ``rate_limited`` when they are all open."""
        await self._count(actor.id)
        return EchoSession(actor, self.upstream, self.transcript_bytes)

    async def close(self, session: EchoSession) -> None:
        """Release the socket and store the transcript (even an empty one: the visit happened)."""
        await self._uncount(session.actor.id)
        lines = session.transcript_json().decode()
        async with self.db.write() as repos:
            await repos.transcripts.add(session.actor.id, session.started_at, datetime.now(UTC), lines)

    async def history(self, actor: Actor, before: int | None = None, limit: int = PAGE) -> bytes:
        """A page of the user's transcripts, newest first, older than id ``before`` (if given), as
        the JSON body ``{"transcripts": [...]}``; each transcript's lines are its stored JSON text."""
        async with self.db.read() as repos:
            rows = await repos.transcripts.page_of_user(actor.id, before, min(limit, PAGE))
        return await asyncio.to_thread(render, rows)  # megabytes a page: copied off the loop


def render(rows: Sequence[tuple[int, datetime, datetime, str]]) -> bytes:
    """``{"transcripts": [{"id", "started_at", "ended_at", "lines"}]}`` with each stored ``lines``
    text spliced in as is (it is the JSON the server wrote): no object per line is built."""
    parts = [
        orjson.dumps({"id": row_id, "started_at": iso_required(start), "ended_at": iso_required(end)})[:-1]
        + b',"lines":'
        + lines.encode()
        + b"}"
        for row_id, start, end, lines in rows
    ]
    return b'{"transcripts":[' + b",".join(parts) + b"]}"
