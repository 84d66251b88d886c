"""Cap every HTTP request body before the app reads it (PROTOCOL.md section 2).

Starlette reads a body whole into memory, and JSON decoding costs a few times
that again: an unbounded body is a way to exhaust the server without a token
(``POST /api/users``). This ASGI wrapper, in front of everything HTTP:

- refuses at once a request whose ``Content-Length`` is over the cap, reading
  none of the body;
- reads a body without a declared length (chunked) itself, counting bytes as
  they arrive, and refuses it as soon as it passes the cap (the rest is never
  read; the connection is closed); under the cap the app gets it replayed, with
  its ``Content-Length``. Memory held per request is so at most the cap.

The refusal is ``413 too_large`` in the error shape of the route's transport
(its ``wire.py``): ``{"detail"}`` under ``/compat/echo``, ``{"Message", "Data"}``
under ``/compat/messenger``, else ``{"error": {"code", "message"}}``.

The cap is per path prefix (``limits``, longest prefix first; the default for
the rest): a route with its own bound (incoming hooks at ``/hooks/``) gets its own
number, or ``None`` to be passed through untouched because something else bounds it (file
uploads at ``/api/files``, bounded while they stream). Engine.IO's bodies at ``/socket.io``
never reach it: the gate in front of Engine.IO bounds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from server.chat.kernel.errors import ChatError, ErrorCode
from server.edge.asgi_body import content_length, read_body, replay, with_length
from server.edge.gateway.dialects.echo import wire as echo
from server.edge.gateway.dialects.messenger import wire as messenger
from server.edge.rest.wire import http_error

Scope = dict[str, Any]
Message = dict[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]


class BodyCap:
    """``on_refused`` is told the client address of each body refused (a refusal, counted by the app)."""

    def __init__(
        self,
        app: ASGI,
        default: int,
        limits: Mapping[str, int | None] | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.on_refused = on_refused
        self.default = default
        # Longest prefix first, so "/api/files" wins over "/api".
        self.limits = sorted((limits or {}).items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(self, path: str) -> int | None:
        """The cap for ``path``: the longest matching prefix's, else the default (None: not capped here)."""
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None:
            if declared > limit:
                await self._refuse(scope, send, limit)
            else:  # the HTTP parser stops the body at the declared length
                await self.app(scope, receive, send)
            return
        if not _chunked(scope):  # no length and not chunked: HTTP/1.1 says there is no body
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, limit)
        if body is None:
            await self._refuse(scope, send, limit)
            return
        await self.app(with_length(scope, len(body)), replay(body, receive), send)

    async def _refuse(self, scope: Scope, send: Any, limit: int) -> None:
        if self.on_refused is not None:
            client = scope.get("client")
            self.on_refused(str(client[0]) if client else "")
        await refuse(scope, send, limit)


async def refuse(scope: Scope, send: Any, limit: int) -> None:
    """Answer 413 ``too_large`` in the route's dialect and close the connection (the body stays unread)."""
    error = ChatError(ErrorCode.TOO_LARGE, f"the request body is over {limit} bytes")
    path: str = scope.get("path", "")
    if path.startswith("/compat/echo"):
        status, body, _headers = echo.http_error(error)
    elif path.startswith("/compat/messenger"):
        status, body, _headers = messenger.http_error(error)
    else:
        status, body = http_error(error)
    encoded = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(encoded)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})


def _chunked(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _value in scope.get("headers", []))
