"""Messages over REST: live sockets see the result exactly as from Socket.IO."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator, field_validator

from server.chat.conversations.schemas import PageOut, PinnedOut, ReactionsOut, SendIn
from server.chat.kernel.schemas import MAX_STORED_INT, Empty, In, MessageOut, check_body, check_emoji
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/messages", tags=["messages"], responses=RESPONSES)
PLACE = 60  # its place among the API's routes and in the OpenAPI document (api.py)
MessageId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]
EmojiPath = Annotated[
    str,
    Path(min_length=1, max_length=32, description="a Unicode emoji or a :name: shortcode, URL-encoded"),
    AfterValidator(check_emoji),
]
BeforeId = Annotated[int | None, Query(ge=1, le=MAX_STORED_INT)]
Limit = Annotated[int, Query(ge=1, le=200)]


class EditBody(In):
    body: str

    _body = field_validator("body")(check_body)


@router.post("", status_code=201)
async def send(data: SendIn, actor: ActorDep, chat: ChatDep) -> MessageOut:
    return await chat.messages.send(
        actor, data.target, data.body, data.client_id, data.reply_to, data.thread, data.file_ids
    )


@router.put("/{message_id}")
async def edit(message_id: MessageId, data: EditBody, actor: ActorDep, chat: ChatDep) -> MessageOut:
    return await chat.messages.edit(actor, message_id, data.body)


@router.delete("/{message_id}")
async def delete(message_id: MessageId, actor: ActorDep, chat: ChatDep) -> Empty:
    await chat.messages.delete(actor, message_id)
    return Empty()


@router.get("/{message_id}/thread")
async def thread(
    message_id: MessageId, actor: ActorDep, chat: ChatDep, before_id: BeforeId = None, limit: Limit = 50
) -> PageOut:
    """A thread's replies, as ``thread:history``: newest page first, oldest first inside."""
    return await chat.messages.thread_history(actor, message_id, before_id, limit)


@router.put("/{message_id}/reactions/{emoji}")
async def react(message_id: MessageId, emoji: EmojiPath, actor: ActorDep, chat: ChatDep) -> ReactionsOut:
    """As ``reaction:add`` (adding twice counts once)."""
    return await chat.reactions.add(actor, message_id, emoji)


@router.delete("/{message_id}/reactions/{emoji}")
async def unreact(message_id: MessageId, emoji: EmojiPath, actor: ActorDep, chat: ChatDep) -> ReactionsOut:
    """As ``reaction:remove`` (removing an absent one is a no-op)."""
    return await chat.reactions.remove(actor, message_id, emoji)


@router.put("/{message_id}/pin")
async def pin(message_id: MessageId, actor: ActorDep, chat: ChatDep) -> PinnedOut:
    """As ``message:pin``."""
    return await chat.pins.pin(actor, message_id)


@router.delete("/{message_id}/pin")
async def unpin(message_id: MessageId, actor: ActorDep, chat: ChatDep) -> PinnedOut:
    """As ``message:unpin``."""
    return await chat.pins.unpin(actor, message_id)
