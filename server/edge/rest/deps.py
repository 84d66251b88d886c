"""Request dependencies: the chat service and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.chat.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.chat.users import Actor


def get_chat(request: Request) -> Chat:
    chat: Chat = request.app.state.chat
    return chat


def client_address(request: Request) -> str:
    """The peer, or the X-Forwarded-For client when the peer is in PARLEY_TRUSTED_PROXIES (uvicorn
    rewrites the peer from the header for trusted proxies only: ``Settings.proxy_options``)."""
    return request.client.host if request.client else ""


async def get_actor(request: Request, chat: Annotated[Chat, Depends(get_chat)]) -> Actor:
    """The user behind ``Authorization: Bearer``; 401 with the precise code otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ChatError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>")
    return await chat.users.authenticate(token.strip())


ChatDep = Annotated[Chat, Depends(get_chat)]
ActorDep = Annotated[Actor, Depends(get_actor)]
