"""Reference server for ``python -m bench.compare``: the floor of Parley's stack, no Socket.IO library.

What a connect costs on uvicorn itself, before python-engineio, python-socketio or Parley add
anything: a bare ASGI app, under uvicorn with the options Parley and ``plain_sio.py`` run
(uvloop, httptools, websockets-sansio, no per-message-deflate), that speaks just enough of
Engine.IO 4 and Socket.IO 5 over WebSocket for the bench's clients (``node/gen.js`` in ``ref``
mode, the stock ``socket.io-client``):

- on a WebSocket to ``/socket.io/`` it accepts and sends the OPEN packet;
- a CONNECT to ``/`` gets its answer with a sid and the ``session`` event, in two frames as the
  other servers send them;
- an ``echo`` event that asks for an ack gets its payload back; anything else is ignored.

It has no heartbeat (no timer per socket), no rooms, no polling, no validation, no ids that
could not repeat across restarts: it is a lower bound, not a server. A scenario other than
``connect`` and ``echo`` is refused by ``bench.compare``. Its cyclic collector is tuned as
Parley's (``server/collector.py``): with the default thresholds the collector's passes over the
sockets already open were most of what grew from 1,000 to 10,000 sockets (0.29 -> 0.49 ms per
connect; tuned, 0.27-0.38 at 10,000).

    python bench/reference/floor_asgi.py [PORT]   # 0 (default) picks a port; printed on stdout
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import orjson
from uvicorn_main import serve  # this directory: the script's own

from server.collector import tune_collector

OPEN = b'{"upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000,"sid":"'
_ids = itertools.count(1)

Scope = dict[str, Any]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket" and scope["path"].startswith("/socket.io"):
        await engine_socket(receive, send)
    elif scope["type"] == "http":
        status, body = (200, b"ok") if scope["path"] == "/healthz" else (404, b"")
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def engine_socket(receive: Any, send: Any) -> None:
    """One Engine.IO connection over WebSocket, until the peer closes it."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    sid = f"e{next(_ids)}"
    await send({"type": "websocket.send", "text": "0" + (OPEN + sid.encode() + b'"}').decode()})
    while True:
        event = await receive()
        if event["type"] != "websocket.receive":
            return
        text = event.get("text") or ""
        if text.startswith("40"):
            await send({"type": "websocket.send", "text": f'40{{"sid":"s{sid}"}}'})
            session = {"user": {"username": sid}, "server_time": dt.datetime.now(dt.UTC).isoformat()}
            await send({"type": "websocket.send", "text": "42" + orjson.dumps(["session", session]).decode()})
        elif text.startswith("42"):
            await echo(text, send)


async def echo(text: str, send: Any) -> None:
    """``42<id>["echo", payload]`` -> ``43<id>[payload]``."""
    start = text.find("[")
    ack_id = text[2:start]
    if not ack_id.isdigit():
        return
    args = orjson.loads(text[start:])
    if args and args[0] == "echo":
        await send({"type": "websocket.send", "text": f"43{ack_id}" + orjson.dumps(args[1:]).decode()})


def main() -> None:
    tune_collector()
    serve(app, ws_ping_interval=None)  # no keepalive either: nothing per socket but the connection


if __name__ == "__main__":
    main()
