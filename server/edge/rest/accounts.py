"""Accounts: register, login, token refresh, logout (PROTOCOL.md section 6); profiles: ``people.py``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from server.chat.accounts.schemas import LoginIn, RegisteredOut, RegisterIn, TokenOut
from server.edge.http import ActorDep, AddressDep, ChatDep, TokenDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api", tags=["accounts"], responses=RESPONSES)


@router.post("/users", status_code=201)
async def register(data: RegisterIn, chat: ChatDep, address: AddressDep) -> RegisteredOut:
    return await chat.users.register(data, address)


@router.post("/auth/login")
async def login(data: LoginIn, chat: ChatDep, address: AddressDep) -> TokenOut:
    return await chat.users.login(data, address)


@router.post("/auth/refresh")
async def refresh(token: TokenDep, chat: ChatDep) -> TokenOut:
    """A new token for the bearer's user (``Authorization: Bearer`` with a valid token), of the same
    token version: a logout still revokes every token at once. A live socket takes it with
    ``auth:refresh``."""
    return await chat.users.refresh(token)


@router.post("/auth/logout", status_code=204)
async def logout(actor: ActorDep, chat: ChatDep) -> Response:
    await chat.users.logout(actor)
    return Response(status_code=204)
