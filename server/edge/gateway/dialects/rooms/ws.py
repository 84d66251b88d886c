"""The chat-rooms dialect (PROTOCOL.md 7.4): WebSocket ``/compat/rooms``.

The client names itself first (``{"username"}``, answered ``connected`` whether or not an
account has that name: only a token proves one); every later frame is
``{"token", "action", "args"}`` and its token must be that user's. The
connection becomes a session (presence, live pushes) at the first frame with
a valid token, which is then answered like any other. Rooms are public
topics: ``connect_to_room`` subscribes and tells the room (``user_joined``),
``disconnect_from_room`` tells it (``user_left``) and leaves, ``send_message``
is a message to the topic, seen by every transport. Answers and pushes are
``{"statusCode", "type", "data"}``; an error keeps the socket open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import Field, field_validator

from server.chat.connections.sessions import Session
from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode, forbidden
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.kernel.schemas import In, MessageOut, Target, TopicName, Username, check_body
from server.edge.errors import classify
from server.edge.gateway.codec import FrameCodec
from server.edge.gateway.dialects.rooms import wire
from server.edge.gateway.serve import GONE, Gateway, json_object, no_welcome, receive_frame
from server.edge.gateway.sockets import GatewaySocket, Push
from server.edge.gateway.wire import TIMED_OUT, closing

log = logging.getLogger("parley.gateway")
router = APIRouter(prefix="/compat/rooms")
LABEL = "/compat/rooms"


class RoomIn(In):
    room: TopicName = Field(alias="roomName")


class ConnectIn(RoomIn):
    username: Username | None = None


class SendIn(RoomIn):
    message: str

    _message = field_validator("message")(check_body)


class HelloIn(In):
    username: Username


Action = Callable[[Actor, dict[str, Any]], Awaitable[dict[str, Any]]]


class RoomsDialect(FrameCodec):
    name = "compat.rooms"

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(gateway)
        self.chat = gateway.chat
        self.actions: dict[str, Action] = {
            "get_rooms": self.get_rooms,
            "connect_to_room": self.connect_to_room,
            "send_message": self.send_message,
            "disconnect_from_room": self.disconnect_from_room,
        }

    # Shapes ----------------------------------------------------------------

    def render(self, event: ev.Event) -> Push | None:
        text = wire.push(event)
        return None if text is None else Push(text)

    def render_message(self, _message: MessageOut) -> Push | None:
        return None  # no welcome: a rooms client has no backlog (PROTOCOL.md 7.4)

    # Actions ---------------------------------------------------------------

    async def get_rooms(self, actor: Actor, _args: dict[str, Any]) -> dict[str, Any]:
        listed = await self.chat.topics.list(actor)
        return {"rooms": {t.name: t.online for t in listed.topics if t.kind == "public"}}

    async def connect_to_room(self, actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
        data = ConnectIn.model_validate(args)
        if data.username is not None and data.username.lower() != actor.username.lower():
            raise forbidden("a client connects only its own user to a room")
        name = (await self.chat.topics.subscribe(actor, data.room)).topic.name
        await self.chat.signals.entered(actor, name, True)
        members = await self.chat.topics.members(actor, name, room=True)
        return {"roomName": name, "usernames": [m.username for m in members.members if m.online]}

    async def send_message(self, actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
        data = SendIn.model_validate(args)
        return wire.message_shape(await self.chat.messages.send(actor, Target(topic=data.room), data.message))

    async def disconnect_from_room(self, actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
        data = RoomIn.model_validate(args)
        await self.chat.signals.entered(actor, data.room, False)  # while still a member
        await self.chat.topics.unsubscribe(actor, data.room)
        return {"roomName": data.room}

    # Frames ----------------------------------------------------------------

    # The codec (``server.edge.realtime.dispatch``): ``{"token", "action", "args"}``.

    def parse(self, text: str | None) -> tuple[str | None, dict[str, Any]]:
        payload = json_object(text)
        return (payload["action"] if isinstance(payload.get("action"), str) else None), payload

    async def invoke(self, socket: GatewaySocket, action: str | None, payload: Any) -> Any:
        actor = await self._actor(payload.get("token"), socket.actor)
        call = self.actions.get(action or "")
        if call is None:
            known = ", ".join(self.actions)
            raise ChatError(
                ErrorCode.INVALID, f"unknown action {str(action)[:64]!r}; the actions are {known}"
            )
        args = payload.get("args", {})
        if not isinstance(args, dict):
            raise ChatError(ErrorCode.INVALID, "args must be a JSON object")
        return await call(actor, args)

    def ok(self, socket: GatewaySocket, action: str | None, result: Any) -> None:
        socket.send(wire.answer(action, result))

    def err(self, socket: GatewaySocket, action: str | None, error: ChatError) -> None:
        socket.send(wire.error(action, error))

    def label(self, action: str | None) -> str:
        return super().label(action if action in self.actions else None)

    async def _actor(self, token: Any, user: Actor) -> Actor:
        """The frame's token must be valid and the connection's user's."""
        actor = await self.chat.users.authenticate(token if isinstance(token, str) else None)
        if actor.id != user.id:
            raise ChatError(ErrorCode.UNAUTHORIZED, f"the token is not {user.username}'s")
        return actor

    # Before the session ------------------------------------------------------

    async def introduce(self, ws: WebSocket, bucket: TokenBucket) -> tuple[Session, str] | None:
        """The ``{"username"}`` frame, then frames until one carries that user's valid token.

        The hello is answered ``connected`` for any well-formed name, looked up nowhere: an
        unknown name and a known one are answered alike (the name as sent), and so are their
        token frames (a token that is not that name's gets the same error whoever holds the
        name), so the dialect never tells whether an account exists. Returns the opened session
        and that frame (to answer once the socket is served), or None when the client went, sent
        a bad hello (4401) or took too long.
        """
        limit = self.gateway.settings.max_http_buffer_size
        try:
            async with asyncio.timeout(self.gateway.settings.connect_timeout):
                name = await self._hello(ws, await receive_frame(ws, limit))
                if name is None:
                    return None
                while True:
                    frame = await receive_frame(ws, limit)
                    if isinstance(frame, int):
                        if frame != GONE:
                            await ws.close(*closing(frame))
                        return None
                    opened = await self._first(ws, name, frame, bucket)
                    if opened is not None:
                        return opened, frame or ""
        except TimeoutError:
            await ws.close(*closing(TIMED_OUT))
            return None

    async def _hello(self, ws: WebSocket, frame: str | int | None) -> str | None:
        """The name the client gives, as sent (no lookup: see ``introduce``)."""
        if isinstance(frame, int):
            if frame != GONE:
                await ws.close(*closing(frame))
            return None
        try:
            hello = HelloIn.model_validate(json_object(frame))
        except Exception as exc:
            error = classify(exc, event="compat.rooms:hello")
            await ws.send_text(wire.error(None, error))
            await ws.close(wire.UNAUTHORIZED, error.code.value)
            return None
        await ws.send_text(wire.answer("connected", {"username": hello.username}))
        return hello.username

    async def _first(
        self, ws: WebSocket, name: str, frame: str | None, bucket: TokenBucket
    ) -> Session | None:
        """Open the session if this frame carries a valid token of the user ``name``; else answer the
        error, the same whether ``name`` is an account or not."""
        action: str | None = None
        try:
            payload = json_object(frame)
            action = payload["action"] if isinstance(payload.get("action"), str) else None
            if not bucket.take():
                raise ChatError(ErrorCode.RATE_LIMITED, "too many frames; slow down")
            token = payload.get("token")
            actor = await self.chat.users.authenticate(token if isinstance(token, str) else None)
            if actor.username.lower() != name.lower():
                raise ChatError(ErrorCode.UNAUTHORIZED, f"the token is not {name}'s")
            return await self.chat.sessions.open(token, admit=False)  # admitted by ``serve``
        except Exception as exc:
            await ws.send_text(wire.error(action, classify(exc, event="compat.rooms:first")))
            return None


@router.websocket("")
async def rooms_socket(ws: WebSocket) -> None:
    gateway: Gateway = ws.app.state.gateway
    dialect = gateway.dialect(RoomsDialect)
    await ws.accept()
    try:
        opened = await dialect.introduce(ws, gateway.bucket())
    except Exception as exc:  # the client went mid-way (a send or close failed): nothing to keep
        log.info("rooms client left before a session", extra={"error": type(exc).__name__})
        return
    if opened is None:
        return
    session, first = opened

    await gateway.serve(ws, session, dialect, dialect.on_frame, no_welcome, LABEL, first=first)
