"""engine.io's environ of an ASGI request, built without a class per request, and kept trimmed.

python-engineio's ASGI driver (``engineio.async_drivers.asgi.translate_request``) defines its
body reader class inside the function, so every engine.io request (each connect, each long-poll
GET and POST) creates a class: a tenth of a connect's CPU in the profile of 4,000 connects.
``translate_request`` here builds the same environ, key for key and value for value, with one
module-level ``BodyReader`` (``CONTRACT.md`` row 36; the differential test is
``tests/edge/engine/test_environ.py``). ``ParleyEngine`` puts it in its driver table.

python-socketio keeps a socket's connect environ for the socket's life (``get_environ``, the
Admin UI's client details, the token and address readers). ``trim`` leaves in it what those read
(``KEPT``) and drops the rest, in place (python-socketio holds the dict), rebuilt so its table
shrinks too: the WSGI constants, the body reader, and every header no one reads again.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]

KEPT = frozenset(
    {
        "REQUEST_METHOD",
        "PATH_INFO",  # the Admin UI's socket details
        "QUERY_STRING",  # the token of a Socket.IO CONNECT (``sio/tokens.token_from``)
        "REMOTE_ADDR",
        "wsgi.url_scheme",
        "HTTP_AUTHORIZATION",  # the token's other place
        "HTTP_HOST",  # these four: the Admin UI's (``admin.SHOWN_HEADERS``)
        "HTTP_ORIGIN",
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_CONNECTION",  # these two: engine.io reads them right after the ``connect`` event
        "HTTP_UPGRADE",
        "asgi.receive",  # the kill switch (``killswitch.kill_websocket``)
        "asgi.send",
        "asgi.scope",  # the client address (``sio/tokens.client_address``)
    }
)
"""What a reader of a connected socket's environ reads (python-socketio keeps it for the socket's
life; engine.io reads each later request's own). Everything else goes: the WSGI constants, the
body reader, and every other header, however many a browser sent (a cookie alone may be 4 KB)."""


class BodyReader:
    """engine.io's ``wsgi.input``: the request body, read on demand from the ASGI ``receive``."""

    __slots__ = ("event", "payload", "receive")

    def __init__(self, event: Message, receive: Receive) -> None:
        self.event = event
        self.receive = receive
        self.payload: bytes | None = None

    async def read(self, length: int | None = None) -> bytes:
        if self.payload is None and self.event["type"] == "http.request":
            self.payload = self.event.get("body") or b""
            while self.event.get("more_body"):
                self.event = await self.receive()
                if self.event["type"] == "http.request" and (length is None or len(self.payload) < length):
                    self.payload += self.event.get("body") or b""
        payload = self.payload or b""
        if length is None:
            self.payload = b""
            return payload
        self.payload = payload[length:]
        return payload[:length]


async def translate_request(scope: dict[str, Any], receive: Receive, send: Any) -> dict[str, Any]:
    """engine.io's environ of the ASGI request ``scope`` (empty for another ASGI event)."""
    event = await receive()
    if event["type"] not in ("http.request", "websocket.connect"):
        return {}
    path = scope["path"]
    raw_uri = path
    query_string = ""
    if scope.get("query_string"):
        try:
            query_string = scope["query_string"].decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raw_uri += "?" + query_string
    environ: dict[str, Any] = {
        "wsgi.input": BodyReader(event, receive),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": path,
        "QUERY_STRING": query_string,
        "RAW_URI": raw_uri,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.receive": receive,
        "asgi.send": send,
        "asgi.scope": scope,
    }
    for raw_name, raw_value in scope["headers"]:
        try:
            name = raw_name.upper().decode("utf-8")
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            continue  # as engine.io: a header that does not decode is left out
        if name == "CONTENT-TYPE":
            environ["CONTENT_TYPE"] = value
        elif name == "CONTENT-LENGTH":
            environ["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ


def trim(environ: dict[str, Any]) -> None:
    """Keep, in place, only what a reader of a connected socket's environ reads (``KEPT``)."""
    kept = {key: value for key, value in environ.items() if key in KEPT}
    environ.clear()
    environ.update(kept)
