"""Messages over REST: live sockets see the result exactly as from Socket.IO."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import field_validator

from server.chat.schemas import MAX_STORED_INT, Empty, In, MessageOut, SendIn, check_body
from server.edge.http import ActorDep, ChatDep

router = APIRouter(prefix="/api/messages", tags=["messages"])
MessageId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]


class EditBody(In):
    body: str

    _body = field_validator("body")(check_body)


@router.post("", status_code=201)
async def send(data: SendIn, actor: ActorDep, chat: ChatDep) -> MessageOut:
    return await chat.messages.send(actor, data.target, data.body, data.client_id)


@router.put("/{message_id}")
async def edit(message_id: MessageId, data: EditBody, actor: ActorDep, chat: ChatDep) -> MessageOut:
    return await chat.messages.edit(actor, message_id, data.body)


@router.delete("/{message_id}")
async def delete(message_id: MessageId, actor: ActorDep, chat: ChatDep) -> Empty:
    await chat.messages.delete(actor, message_id)
    return Empty()
