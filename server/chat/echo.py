"""The echo channel: answer each payload (or ask an upstream) and keep a transcript.

A session records every client payload and every answer with its time; when
the socket closes the transcript is stored. A transcript is bounded
(``max_bytes`` of JSON, 256 KiB by default): past it the oldest lines are
dropped, and the stored transcript starts with a line
``{"from": "dropped", "payload": <how many>}``, so a long-lived socket holds
bounded memory and writes a bounded row. The upstream is a port: the
composition root passes a callable that forwards a payload to a WebSocket
echo server; any failure of it becomes an ``internal`` error answer, and the
session stays usable.

A payload nesting arrays and objects deeper than ``MAX_DEPTH`` is
``invalid`` and is not recorded. Deeper, the answer could not be sent back
(orjson encodes at most 255 levels) and the stored transcript could not be
rendered by ``GET /api/echo/history`` (pydantic serialises about as deep), so
"as is" (PROTOCOL.md 5) would be broken twice; section 2 names ``invalid``
for a payload the server refuses.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import orjson

from db.models import EchoTranscript
from db.uow import Database
from server.chat.errors import ChatError, ErrorCode
from server.chat.schemas import TranscriptOut, TranscriptsOut
from server.chat.users import Actor
from server.chat.views import iso, iso_required


class Upstream(Protocol):
    """The port to an upstream echo server (``server.upstream``): one answer per payload, closed at stop."""

    async def __call__(self, payload: Any) -> Any: ...

    async def aclose(self) -> None: ...


MAX_DEPTH = 128


def too_deep(payload: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``payload`` nests lists and dicts more than ``limit`` levels (iterative: no recursion)."""
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
        self._lines: deque[tuple[int, dict[str, Any]]] = deque()  # (JSON size, line)
        self._size = 0
        self.dropped = 0

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The transcript as stored: a ``dropped`` line first when older lines were let go."""
        kept = [line for _size, line in self._lines]
        if self.dropped:
            first = kept[0]["at"] if kept else iso(datetime.now(UTC))
            return [{"from": "dropped", "payload": self.dropped, "at": first}, *kept]
        return kept

    async def echo(self, payload: Any) -> Any:
        """The answer to ``payload``; ChatError ``invalid`` (too deep) or ``internal`` (upstream failed)."""
        if too_deep(payload):
            raise ChatError(ErrorCode.INVALID, f"the payload nests deeper than {MAX_DEPTH} levels")
        self._record("client", payload)
        if self.upstream is None:
            answer = payload
        else:
            try:
                answer = await self.upstream(payload)
            except Exception as exc:
                self._record("error", str(exc) or type(exc).__name__)
                raise ChatError(ErrorCode.INTERNAL, "the upstream echo server did not answer") from exc
        self._record("server", answer)
        return answer

    def _record(self, source: str, payload: Any) -> None:
        line = {"from": source, "payload": payload, "at": iso(datetime.now(UTC))}
        size = len(orjson.dumps(line))
        self._lines.append((size, line))
        self._size += size
        while self._size > self.max_bytes and self._lines:
            dropped, _line = self._lines.popleft()
            self._size -= dropped
            self.dropped += 1


class EchoService:
    def __init__(self, db: Database, upstream: Upstream | None, transcript_bytes: int = 256 * 1024) -> None:
        self.db = db
        self.upstream = upstream
        self.transcript_bytes = transcript_bytes

    async def stop(self) -> None:
        """Close the upstream's connections (shutdown)."""
        if self.upstream is not None:
            await self.upstream.aclose()

    def open(self, actor: Actor) -> EchoSession:
        return EchoSession(actor, self.upstream, self.transcript_bytes)

    async def close(self, session: EchoSession) -> None:
        """Store the transcript (even an empty one: the visit happened)."""
        transcript = EchoTranscript(
            user_id=session.actor.id,
            started_at=session.started_at,
            ended_at=datetime.now(UTC),
            lines=session.lines,
        )
        async with self.db.write() as repos:
            await repos.transcripts.add(transcript)

    async def history(self, actor: Actor, offset: int = 0, limit: int = 20) -> TranscriptsOut:
        async with self.db.read() as repos:
            rows = await repos.transcripts.of_user(actor.id, offset, limit)
        return TranscriptsOut(
            transcripts=[
                TranscriptOut(
                    id=cast(int, row.id),
                    started_at=iso_required(row.started_at),
                    ended_at=iso_required(row.ended_at),
                    lines=row.lines,
                )
                for row in rows
            ]
        )
