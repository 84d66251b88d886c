"""Reference server for ``python -m bench.compare``: plain python-socketio, no Parley.

The same small app as ``node/server.js``: on connect it emits ``session``;
``echo`` acks the payload as is; ``join`` {room} enters the room (acked);
``publish`` {room, payload} emits ``message`` payload to the room (acked).
Reactions as there: ``post`` {room} gives a message id in the room; ``reaction:add`` /
``reaction:remove`` {id, emoji} keep emoji -> users (the sid is the user) per message,
idempotent, ack {id, reactions} and emit ``reaction:updated`` {topic, id, reactions} to the
room once for all receivers (``me`` always false).

    python bench/reference/plain_sio.py [PORT]   # 0 (default) picks a port; printed on stdout

python-socketio's AsyncServer (ASGI) under uvicorn with uvloop, httptools,
orjson as the JSON module and no websocket per-message-deflate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import socketio
from uvicorn_main import serve  # this directory: the script's own


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


MESSAGE_ROOMS: dict[int, str] = {}
REACTIONS: dict[int, dict[str, dict[str, None]]] = {}  # id -> emoji -> users (dicts keep the order)


@sio.event
async def post(sid: str, data: Any) -> dict[str, Any]:  # noqa: ARG001
    message_id = len(MESSAGE_ROOMS) + 1
    MESSAGE_ROOMS[message_id] = str(data.get("room"))
    REACTIONS[message_id] = {}
    return {"ok": True, "data": {"id": message_id}}


def reaction_list(by_emoji: dict[str, dict[str, None]]) -> list[dict[str, Any]]:
    return [
        {"emoji": emoji, "count": len(users), "users": list(users)[:10], "me": False}
        for emoji, users in by_emoji.items()
    ]


async def react(sid: str, data: Any, adding: bool) -> dict[str, Any]:
    message_id = data.get("id") if isinstance(data, dict) else None
    emoji = data.get("emoji") if isinstance(data, dict) else None
    if message_id not in MESSAGE_ROOMS:
        return {"ok": False, "error": {"code": "not_found", "message": "no such message"}}
    if not isinstance(emoji, str) or not 1 <= len(emoji) <= 32 or any(c.isspace() for c in emoji):
        return {"ok": False, "error": {"code": "invalid", "message": "bad emoji"}}
    by_emoji = REACTIONS[message_id]
    users = by_emoji.get(emoji)
    changed = False
    if adding:
        if users is None:
            if len(by_emoji) >= 20:
                return {"ok": False, "error": {"code": "invalid", "message": "too many emoji"}}
            users = by_emoji[emoji] = {}
        changed = sid not in users
        users[sid] = None
    elif users is not None and sid in users:
        changed = True
        del users[sid]
        if not users:
            del by_emoji[emoji]
    reactions = reaction_list(by_emoji)
    if changed:
        room = MESSAGE_ROOMS[message_id]
        await sio.emit(
            "reaction:updated", {"topic": room, "id": message_id, "reactions": reactions}, room=room
        )
    return {"ok": True, "data": {"id": message_id, "reactions": reactions}}


@sio.on("reaction:add")
async def reaction_add(sid: str, data: Any) -> dict[str, Any]:
    return await react(sid, data, adding=True)


@sio.on("reaction:remove")
async def reaction_remove(sid: str, data: Any) -> dict[str, Any]:
    return await react(sid, data, adding=False)


async def healthz(scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ARG001
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


app = socketio.ASGIApp(sio, other_asgi_app=healthz)


def main() -> None:
    serve(app)


if __name__ == "__main__":
    main()
