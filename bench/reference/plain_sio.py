"""Reference server for ``python -m bench.compare``: plain python-socketio, no Parley.

The same small app as ``node/server.js``: on connect it emits ``session``;
``echo`` acks the payload as is; ``join`` {room} enters the room (acked);
``publish`` {room, payload} emits ``message`` payload to the room (acked).

    python bench/reference/plain_sio.py [PORT]   # 0 (default) picks a port; printed on stdout

python-socketio's AsyncServer (ASGI) under uvicorn with uvloop, httptools,
orjson as the JSON module and no websocket per-message-deflate.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
from typing import Any

import orjson
import socketio
import uvicorn
import uvloop


class OrjsonModule:
    """python-socketio's ``json`` hook: ``dumps``/``loads`` like the stdlib module."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:  # noqa: ARG004 (stdlib signature)
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s: str | bytes, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG004
        return orjson.loads(s)


sio = socketio.AsyncServer(
    async_mode="asgi",
    json=OrjsonModule,
    transports=["websocket", "polling"],
    cors_allowed_origins="*",
    http_compression=False,
)


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:  # noqa: ARG001
    now = dt.datetime.now(dt.UTC).isoformat()
    await sio.emit("session", {"user": {"username": sid}, "server_time": now}, to=sid)


@sio.event
async def echo(sid: str, payload: Any) -> Any:  # noqa: ARG001
    return payload


@sio.event
async def join(sid: str, data: Any) -> dict[str, bool]:
    await sio.enter_room(sid, str(data.get("room") if isinstance(data, dict) else data))
    return {"ok": True}


@sio.event
async def publish(sid: str, data: Any) -> dict[str, bool]:  # noqa: ARG001
    await sio.emit("message", data.get("payload"), room=str(data.get("room")))
    return {"ok": True}


async def healthz(scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ARG001
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


app = socketio.ASGIApp(sio, other_asgi_app=healthz)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    uvloop.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
