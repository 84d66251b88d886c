"""The server API's live side over REST (PROTOCOL.md section 17): ``app:`` events emitted to
sockets on every node, and presence for the cluster. A server key with the route's scope
(``publish``, ``presence``) is the caller (``server_auth``); the services are the domain's
(``server.chat.backends.emit``, ``presence``)."""

from __future__ import annotations

from fastapi import Depends, Response

from server.chat.backends.live_schemas import (
    AcksOut,
    EmitIn,
    EmittedOut,
    TopicPresenceOut,
    UserPresenceOut,
)
from server.edge.http import ChatDep
from server.edge.rest.server_auth import server_key, server_router

router = server_router()
PLACE = 270  # its place among the API's routes and in the OpenAPI document (api.py)


@router.post(
    "/emit",
    status_code=202,
    dependencies=[Depends(server_key("publish"))],
    responses={200: {"model": AcksOut, "description": "with `ack_timeout_ms`: the acknowledgements"}},
)
async def emit(data: EmitIn, chat: ChatDep, response: Response) -> EmittedOut | AcksOut:
    """Emit the Socket.IO event ``event`` (``app:...``) with ``data`` (JSON, at most 64 KiB) to every
    socket of the topic's online members, or of the user, on every node; not stored. 202
    ``{"sockets"}``: the sockets it was written to. With ``user`` and ``ack_timeout_ms``
    (1-30000), each socket is asked for an acknowledgement: 200 ``{"acks": [{"socket", "data"}],
    "missing"}`` once they answered or the time is up."""
    answer = await chat.live_events.emit(data)
    if isinstance(answer, AcksOut):
        response.status_code = 200
    return answer


@router.get("/topics/{name}/presence", dependencies=[Depends(server_key("presence"))])
async def topic_presence(name: str, chat: ChatDep) -> TopicPresenceOut:
    """The topic's members with a socket on any node."""
    return await chat.server_presence.topic(name)


@router.get("/users/{name}/presence", dependencies=[Depends(server_key("presence"))])
async def user_presence(name: str, chat: ChatDep) -> UserPresenceOut:
    """Whether the user has a socket on any node, how many, their availability and last sight."""
    return await chat.server_presence.user(name)
