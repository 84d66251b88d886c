"""engine.io's environ and ids as Parley's engine makes them (server/edge/engine/environ.py,
eio_server.py): the same as python-engineio's own, made cheaper, and trimmed once a socket connects.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import socketio
from engineio.async_drivers import asgi as eio_asgi
from engineio.base_server import BaseServer

from server.edge.engine.eio_server import ParleyEngine
from server.edge.engine.environ import KEPT, translate_request, trim
from tests.edge.engine.test_eio_socket import served
from tests.support import WAIT

HEADERS = [
    (b"host", b"example.test"),
    (b"content-type", b"application/octet-stream"),
    (b"content-length", b"11"),
    (b"x-forwarded-proto", b"https"),
    (b"accept", b"a"),
    (b"accept", b"b"),  # repeated: joined with a comma
    (b"x-bad", b"\xff\xfe"),  # not UTF-8: left out
    (b"authorization", b"Bearer t"),
]


def receiver(events: list[dict[str, Any]]) -> Any:
    async def receive() -> dict[str, Any]:
        return events.pop(0)

    return receive


def without_reader(environ: dict[str, Any]) -> dict[str, Any]:
    """All but the body reader and the ``receive`` it reads (each side gets its own)."""
    return {key: value for key, value in environ.items() if key not in ("wsgi.input", "asgi.receive")}


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http", "method": "POST", "path": "/", "query_string": b"EIO=4&sid=x", "headers": HEADERS},
        {"type": "websocket", "path": "/", "query_string": b"EIO=4&transport=websocket", "headers": []},
        {"type": "http", "method": "GET", "path": "/p", "query_string": b"\xff", "headers": HEADERS[:1]},
        {"type": "http", "path": "/p", "headers": []},
    ],
    ids=["post", "websocket", "undecodable-query", "bare"],
)
async def test_the_environ_is_engine_ios_own_and_reads_the_same_body(scope):
    def events() -> list[dict[str, Any]]:
        kind = "websocket.connect" if scope["type"] == "websocket" else "http.request"
        first = {"type": kind, "body": b"hello", "more_body": True}
        return [first, {"type": "http.request", "body": b" world"}]

    send = object()
    theirs = await eio_asgi.translate_request(scope, receiver(events()), send)
    receive = receiver(events())
    ours = await translate_request(scope, receive, send)
    assert without_reader(ours) == without_reader(theirs)
    assert ours["asgi.receive"] is receive
    assert list(ours) == list(theirs)  # the same keys in the same order
    if scope["type"] == "http":
        assert await ours["wsgi.input"].read(7) == await theirs["wsgi.input"].read(7) == b"hello w"
        assert await ours["wsgi.input"].read() == await theirs["wsgi.input"].read() == b"orld"


async def test_another_asgi_event_gives_an_empty_environ_as_engine_io():
    scope = {"type": "http", "path": "/", "headers": []}
    gone = [{"type": "http.disconnect"}]
    assert await translate_request(scope, receiver(list(gone)), None) == {}
    assert await eio_asgi.translate_request(scope, receiver(list(gone)), None) == {}


def test_trim_keeps_what_the_readers_of_a_connected_socket_read():
    dropped = [
        "wsgi.input",
        "wsgi.version",
        "SERVER_PORT",
        "RAW_URI",
        "HTTP_SEC_WEBSOCKET_KEY",
        "HTTP_COOKIE",
    ]
    environ = {key: "x" for key in dropped} | {
        "PATH_INFO": "/socket.io/",
        "QUERY_STRING": "EIO=4",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_AUTHORIZATION": "Bearer t",
        "HTTP_USER_AGENT": "ua",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_UPGRADE": "websocket",
        "asgi.scope": {},
    }
    same = environ
    trim(environ)
    assert environ is same  # python-socketio holds this dict
    assert set(environ) == {
        "PATH_INFO",
        "QUERY_STRING",
        "REMOTE_ADDR",
        "wsgi.url_scheme",
        "HTTP_AUTHORIZATION",
        "HTTP_USER_AGENT",
        "HTTP_CONNECTION",
        "HTTP_UPGRADE",
        "asgi.scope",
    }


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], ["polling", "websocket"]])
async def test_a_connected_socket_keeps_a_trimmed_environ_and_is_served(transports):
    async with served(lean=True) as server:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(server.url, transports=transports, wait_timeout=WAIT)
        environ = server.sio.get_environ(client.get_sid())
        assert set(environ) <= KEPT
        assert "EIO=4" in environ["QUERY_STRING"] and "asgi.scope" in environ
        assert await client.call("e", "still served", timeout=WAIT) == "still served"
        await client.disconnect()


def test_ids_are_engine_ios_shape_unique_and_in_sequence():
    engine = ParleyEngine(async_mode="asgi")
    stock = BaseServer.__new__(BaseServer)
    stock.sequence_number = engine.sequence_number
    shape = re.compile(r"^[A-Za-z0-9_-]{20}$")
    ids = [engine.generate_id() for _ in range(2000)]  # past one refill of the random pool
    assert len(set(ids)) == len(ids)
    assert all(shape.match(i) for i in ids)
    assert shape.match(BaseServer.generate_id(stock))
    # the last 3 bytes are engine.io's sequence number, one more per id
    decoded = [int.from_bytes(base64.b64decode(i.replace("_", "/").replace("-", "+"))[12:]) for i in ids[:3]]
    assert decoded[1] == decoded[0] + 1 and decoded[2] == decoded[1] + 1
