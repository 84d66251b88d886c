"""The Socket.IO chat namespace's codec: each client event through the one dispatch pipeline.

python-socketio sends a handler's return value as the ack and runs handlers as concurrent
tasks, so a handler must never raise: ``dispatch`` (``server.edge.realtime.dispatch``) checks
the socket's rate bucket, validates the payload with the event's model, calls the service and
always returns an envelope. Unexpected exceptions become ``internal`` with a reference in the
log (ERROR); ``dispatch`` also counts each event as its user's activity (``active``). Metrics
count every event; the log gets a line per refused event (INFO) but a
line per handled one only at DEBUG: building a record costs about as much as a small handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.realtime.connection import Connection
from server.edge.realtime.dispatch import Active, dispatch
from server.edge.realtime.registry import Registry
from server.edge.routes import ConnectionRoute, Route, invoke, invoke_on
from server.edge.sio.wire import ack_error, ack_ok
from server.metrics import Metrics

log = logging.getLogger("parley.sio")
Ack = dict[str, Any]


class Envelope:
    """Makes the handler of each event of the route table."""

    def __init__(
        self,
        registry: Registry,
        metrics: Metrics,
        limited: Callable[[str], None],
        active: Active | None = None,
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.limited = limited  # an event of a sid refused ``rate_limited`` (counted with its address)
        self.active = active  # the sender's user sent an event (away from activity, section 14)
        # The handlers running now: python-socketio runs each as a task of its own that nothing
        # awaits, so a server's stop waits for them (``ChatNamespace.drain``) before the database
        # is closed under them (a test server stopped mid-event left a pooled connection unclosed).
        self.running: set[asyncio.Task[Any]] = set()

    def handler(self, event: str, route: Route | ConnectionRoute) -> Callable[..., Awaitable[Ack]]:
        codec = EventCodec(event, route, self.registry, self.metrics, self.limited, self.active)
        running = self.running

        async def handle(sid: str, *args: Any) -> Ack:
            task = asyncio.current_task()
            assert task is not None  # (a handler always runs in python-socketio's task)
            running.add(task)
            try:
                return await dispatch(codec, sid, args)
            finally:
                running.discard(task)

        return handle


class EventCodec:
    """One event's codec: a sid in, the positional arguments as the frame, an ack out."""

    too_many = "too many events; slow down"

    def __init__(
        self,
        event: str,
        route: Route | ConnectionRoute,
        registry: Registry,
        metrics: Metrics,
        limited: Callable[[str], None],
        active: Active | None = None,
    ) -> None:
        self.event = event
        self.active = active  # told by ``dispatch``: every event of a socket is its user's activity
        self.limited = limited  # the codec's ``limited`` (``dispatch``): the namespace knows the address
        self.route = route
        self.registry = registry
        self.counter = metrics.events
        self.latency = metrics.latency.labels(event)
        # outcome -> its counter, looked up once: ``labels()`` validates and locks on every call
        # (outcomes are ``ok`` and the error codes, a bounded set)
        self.counts: dict[str, Any] = {}

    def admit(self, sid: str) -> Connection:
        connection = self.registry.get(sid)
        if connection is None or connection.bucket is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "this socket is not authenticated")
        return connection

    def parse(self, args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        return self.event, args

    def invoke(self, connection: Connection, _event: str | None, args: tuple[Any, ...]) -> Awaitable[Any]:
        route = self.route
        if isinstance(route, ConnectionRoute):  # about the socket itself (``auth:refresh``)
            return invoke_on(route, connection, _payload(args, route.model))
        return invoke(route, connection.actor, _payload(args, route.model))

    def ok(self, _sid: str, _event: str | None, result: Any) -> Ack:
        return ack_ok(result)

    def err(self, _sid: str, _event: str | None, error: ChatError) -> Ack:
        return ack_error(error)

    def label(self, _event: str | None) -> str:
        return self.event

    def record(self, _event: str | None, outcome: str, elapsed: float) -> None:
        count = self.counts.get(outcome)
        if count is None:
            count = self.counts[outcome] = self.counter.labels(self.event, outcome)
        count.inc()
        self.latency.observe(elapsed)
        level = logging.DEBUG if outcome == "ok" else logging.INFO
        if log.isEnabledFor(level):
            extra = {"event": self.event, "outcome": outcome, "ms": round(elapsed * 1000, 2)}
            log.log(level, "event", extra=extra)


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
