"""The server API's hot routes answered before everything else: publish and broadcast (PROTOCOL.md 17).

A backend publishes at its machine's rate, and through the stack each publish cost two to three
times a Socket.IO send's CPU: the Engine.IO gate and python-engineio's ASGI app it passes, the body
cap, FastAPI's routing, dependency injection, body read and validation, and the middlewares each
request passes (``bench/results/server-api-2026-11-28.md``). ``HotRoutes`` is the outermost ASGI
app (``server.app.create_app``) and does the same work for ``POST /api/server/messages`` and
``/api/server/broadcast`` in one pass: the body validated by the route's own model
(``model_validate_json``), the key's check, scope and rate (``server_auth.authorize``), the route's
own function (``server_api.publish``), the answer serialized as FastAPI does (``model_dump_json``) and
written with the security headers in one piece (``server/edge/engine/http_answer.py``), the
request's metric and log line, errors through the app's own handlers.

It answers only what it answers exactly as the stack would. Anything else is handed to the stack
untouched, with its body replayed: another path or method, a request with an ``Origin`` (CORS'
business), a body not declared JSON, a body without a declared length or declared past the body
cap's limit for the path (``limit_for``: the cap's business, which reads a chunked body and
refuses an oversized one), and every body that fails validation - FastAPI reads and validates the
body before it checks the key, and words its errors in its own way, so the stack answers those
(the key not yet counted). The routes stay declared in ``server_api.py``: the OpenAPI document and
any request this handler passes on are theirs. What it does not do: FastAPI's own OpenTelemetry
middleware (inert unless the operator installs a provider) sees none of its answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from pydantic import BaseModel, ValidationError
from starlette.types import Message, Receive, Scope, Send

from server.chat.backends.keys import ServerKey
from server.chat.backends.schemas import BroadcastIn, PublishIn
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.edge.asgi_body import Receive as BodyReceive
from server.edge.asgi_body import replay
from server.edge.engine.http_answer import answer
from server.edge.errors import classify, http_headers
from server.edge.rest import server_api
from server.edge.rest.errors import respond
from server.edge.rest.headers import headers_for
from server.edge.rest.server_auth import PREFIX, authorize
from server.edge.rest.wire import http_error
from server.metrics import Metrics
from server.refusals import RATE_LIMIT

log = logging.getLogger("parley.http")  # ObserveRequests' logger: the same line per request

Endpoint = Callable[[Any, ServerKey, Chat], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Hot:
    """One hot route: its body's model, the scope it needs, the route's own function, its status."""

    model: type[BaseModel]
    scope: str
    endpoint: Endpoint
    status: int


HOT = {
    f"{PREFIX}/messages": Hot(PublishIn, "publish", server_api.publish, 201),
    f"{PREFIX}/broadcast": Hot(BroadcastIn, "publish", server_api.broadcast, 201),
}
"""The routes answered here, by path (``POST`` only); their declarations in ``server_api.py`` must
agree (tests/edge/rest/test_server_fast.py holds each against its route)."""


class HotRoutes:
    """The ASGI middleware; ``state`` is the app's (its ``chat`` is set after the app is built).
    ``answered`` counts the requests it answered itself (the tests' proof that it did)."""

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        state: Any,
        metrics: Metrics,
        limit_for: Callable[[str], int | None],
    ) -> None:
        self.app = app
        self.state = state
        self.metrics = metrics
        self.limit_for = limit_for  # the body cap's limit for a path
        self.answered = 0
        state.hot_routes = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = HOT.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if hot is None or scope.get("root_path") or not self._plain(scope):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body, cut = await _body(receive)
        if cut is not None:  # the client went away: the stack sees it as it always has
            await self.app(scope, _cut(body, cut), send)
            return
        try:
            data = hot.model.model_validate_json(body)
        except ValidationError:  # the stack words the refusal, as it always has
            await self.app(scope, replay(body, cast(BodyReceive, receive)), send)
            return
        await self._answer(scope, send, hot, data, started)

    async def _answer(self, scope: Scope, send: Send, hot: Hot, data: Any, started: float) -> None:
        self.answered += 1
        path: str = scope["path"]
        status = 500
        try:
            chat: Chat = self.state.chat
            key = await authorize(chat, _header(scope["headers"], b"authorization"), hot.scope)
            made = await hot.endpoint(data, key, chat)
            body = made.model_dump_json(by_alias=True).encode()  # FastAPI's serialization
            status = hot.status
            length = (b"content-length", str(len(body)).encode())
            await answer(send, status, [length, JSON, *headers_for(path)], body)  # in one write
        except ChatError as refused:  # as the app's handler answers it (errors.on_chat_error)
            if refused.code is ErrorCode.RATE_LIMITED:
                client = scope.get("client")
                self.metrics.refused(RATE_LIMIT, str(client[0]) if client else "")
            response = respond(refused)
            status = response.status_code
            await _send(send, path, status, response.raw_headers, bytes(response.body))
        except Exception as exc:  # as ObserveRequests answers what nothing else caught
            failure = classify(exc, "request failed")
            status, content = http_error(failure)
            more = [(name.lower().encode(), value.encode()) for name, value in http_headers(failure).items()]
            await _send(send, path, status, [JSON, *more], orjson.dumps(content))
        finally:
            self.metrics.requests.labels("POST", path, str(status)).inc()
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            log.info("request", extra={"method": "POST", "route": path, "status": status, "ms": elapsed})

    def _plain(self, scope: Scope) -> bool:
        """Whether the request is one this handler answers as the stack would: its body declared
        JSON (FastAPI reads no other as JSON) and of a declared length within the body cap's limit
        (the HTTP parser ends the body there), and no ``Origin`` (the CORS middleware's, when on)."""
        declared = False
        length: int | None = None
        for name, value in scope["headers"]:
            if name == b"origin":
                return False
            if name == b"content-type":
                declared = value.partition(b";")[0].strip().lower() == b"application/json"
            elif name == b"content-length":
                length = int(value) if value.isdigit() else None
        limit = self.limit_for(scope["path"])
        return declared and length is not None and (limit is None or length <= limit)


JSON = (b"content-type", b"application/json")


def _header(headers: list[tuple[bytes, bytes]], wanted: bytes) -> str | None:
    for name, value in headers:
        if name == wanted:
            return value.decode("latin-1")
    return None


async def _body(receive: Receive) -> tuple[bytes, Message | None]:
    """The body (of its declared length, within the cap: the HTTP parser holds it to that), and the
    message that cut it short if the client went away before its end (None when it is whole)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _cut(body: bytes, end: Message) -> Receive:
    """A body the client left while sending, as the stack would have read it: what came, then the end."""
    pending = [end, {"type": "http.request", "body": body, "more_body": True}]

    async def replayed() -> Message:
        return pending.pop() if len(pending) > 1 else pending[0]

    return replayed


async def _send(send: Send, path: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """An answer, with the security headers every answer gets (``SecurityHeaders``) after its own."""
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *headers_for(path)]})
    await send({"type": "http.response.body", "body": body})
