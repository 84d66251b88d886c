"""Blocking and reports over REST (PROTOCOL.md section 10): the same service calls as ``user:block``,
``user:unblock``, ``user:blocks`` and ``message:report``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from server.chat.kernel.schemas import MAX_STORED_INT, Empty
from server.chat.kernel.schemas import In as InModel
from server.chat.moderation.schemas import ReportReason
from server.chat.rules.schemas import BlocksOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api", tags=["safety"], responses=RESPONSES)
PLACE = 90  # its place among the API's routes and in the OpenAPI document (api.py)
UserName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]
MessageId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]


class ReportBody(InModel):
    reason: ReportReason


@router.get("/users/me/blocks")
async def blocks(actor: ActorDep, chat: ChatDep) -> BlocksOut:
    """As ``user:blocks``: the users the caller blocked."""
    return await chat.blocks.list(actor)


@router.put("/users/me/blocks/{username}")
async def block(username: UserName, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``user:block`` (blocking twice changes nothing)."""
    return await chat.blocks.block(actor, username)


@router.delete("/users/me/blocks/{username}")
async def unblock(username: UserName, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``user:unblock`` (unblocking someone not blocked changes nothing)."""
    return await chat.blocks.unblock(actor, username)


@router.post("/messages/{message_id}/report")
async def report(message_id: MessageId, data: ReportBody, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``message:report``: stored for the operator; nobody else is told."""
    return await chat.reports.report(actor, message_id, data.reason)
