"""The one wrapper around every Socket.IO handler.

python-socketio sends a handler's return value as the ack and runs handlers
as concurrent tasks, so a handler must never raise: this wrapper checks the
socket's rate bucket, validates the payload with the event's model, calls
the service, and always returns an envelope. Unexpected exceptions become
``internal`` with a correlation id in the log (ERROR). Metrics count every
event; the log gets a line per refused event (INFO) but a line per handled
one only at DEBUG: building a record costs about as much as a small handler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from server.chat.errors import ChatError, ErrorCode
from server.chat.users import Actor
from server.edge import wire
from server.edge.realtime.registry import Registry
from server.edge.routes import Route, failure, invoke
from server.metrics import Metrics

log = logging.getLogger("parley.sio")
M = TypeVar("M", bound=BaseModel)


class Envelope:
    def __init__(self, registry: Registry, metrics: Metrics) -> None:
        self.registry = registry
        self.metrics = metrics

    def handler(self, event: str, route: Route) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def handle(sid: str, *args: Any) -> dict[str, Any]:
            return await self.run(event, sid, args, route)

        return handle

    async def run(self, event: str, sid: str, args: tuple[Any, ...], route: Route) -> dict[str, Any]:
        started = time.perf_counter()
        error: ChatError | None = None
        try:
            actor = self._admit(sid)
            result = wire.ack_ok(await invoke(route, actor, _payload(args, route.model)))
        except Exception as exc:
            error = failure(exc, event)
            result = wire.ack_error(error)
        self._record(event, "ok" if error is None else error.code.value, time.perf_counter() - started)
        return result

    def _record(self, event: str, outcome: str, elapsed: float) -> None:
        self.metrics.events.labels(event, outcome).inc()
        self.metrics.latency.labels(event).observe(elapsed)
        level = logging.DEBUG if outcome == "ok" else logging.INFO
        if log.isEnabledFor(level):
            extra = {"event": event, "outcome": outcome, "ms": round(elapsed * 1000, 2)}
            log.log(level, "event", extra=extra)

    def _admit(self, sid: str) -> Actor:
        connection = self.registry.get(sid)
        if connection is None or connection.bucket is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "this socket is not authenticated")
        if not connection.bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, "too many events; slow down")
        return connection.actor


def _payload(args: tuple[Any, ...], model: type[BaseModel]) -> Any:
    if len(args) > 1:
        raise ChatError(ErrorCode.INVALID, "send one payload object")
    if not args or args[0] is None:
        return (
            {}
            if not model.model_fields or all(not f.is_required() for f in model.model_fields.values())
            else None
        )
    return args[0]
