"""Bots and their API tokens over REST (PROTOCOL.md section 12): ``BotService`` calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from server.chat.integrations.schemas import BotIn, BotOut, BotsOut, TokenCreatedOut, TokenIn, TokensOut
from server.chat.kernel.schemas import Empty
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/bots", tags=["bots"], responses=RESPONSES)
PLACE = 110  # its place among the API's routes and in the OpenAPI document (api.py)
BotName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("", status_code=201)
async def create(data: BotIn, actor: ActorDep, chat: ChatDep) -> BotOut:
    """A bot owned by the caller (a user: a bot is ``forbidden``); the name as for a sign-up."""
    return await chat.bots.create(actor, data.username)


@router.get("")
async def bots(actor: ActorDep, chat: ChatDep) -> BotsOut:
    """The caller's bots."""
    return await chat.bots.list(actor)


@router.delete("/{name}")
async def disable(name: BotName, actor: ActorDep, chat: ChatDep) -> Empty:
    """Disable one of the caller's bots: its tokens are revoked and its sockets close."""
    await chat.bots.disable(actor, name)
    return Empty()


@router.post("/{name}/tokens", status_code=201)
async def create_token(name: BotName, data: TokenIn, actor: ActorDep, chat: ChatDep) -> TokenCreatedOut:
    """A new API token of the caller's bot, shown in this answer only."""
    return await chat.bots.create_token(actor, name, data.label)


@router.get("/{name}/tokens")
async def tokens(name: BotName, actor: ActorDep, chat: ChatDep) -> TokensOut:
    """The bot's tokens (their ids, labels and times; never the tokens)."""
    return await chat.bots.tokens(actor, name)


@router.delete("/{name}/tokens/{token_id}")
async def revoke_token(name: BotName, token_id: TokenId, actor: ActorDep, chat: ChatDep) -> Empty:
    """Revoke a token: the sockets that connected with it close, on every node."""
    await chat.bots.revoke_token(actor, name, token_id)
    return Empty()
