"""Request dependencies of the REST routes: the authenticated actor (the chat and the client's
address are every HTTP transport's: ``server.edge.http``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.chat.errors import ChatError, ErrorCode
from server.chat.users import Actor
from server.edge.http import ChatDep, bearer_token


async def get_actor(request: Request, chat: ChatDep) -> Actor:
    """The user behind ``Authorization: Bearer``; 401 with the precise code otherwise."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>")
    return await chat.users.authenticate(token)


ActorDep = Annotated[Actor, Depends(get_actor)]
