"""Direct conversations over REST."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from server.chat.conversations.schemas import PageOut, TopicsOut
from server.chat.kernel.schemas import MAX_STORED_INT, In, Target, TopicOut, Username
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=RESPONSES)
PLACE = 50  # its place among the API's routes and in the OpenAPI document (api.py)
Peer = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]


class OpenConversation(In):
    recipient: Username


@router.post("")
async def open_conversation(data: OpenConversation, actor: ActorDep, chat: ChatDep) -> TopicOut:
    return await chat.topics.open_conversation(actor, data.recipient)


@router.get("")
async def list_conversations(actor: ActorDep, chat: ChatDep) -> TopicsOut:
    return await chat.topics.conversations(actor)


@router.get("/{username}/messages")
async def messages(
    username: Peer,
    actor: ActorDep,
    chat: ChatDep,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_STORED_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PageOut:
    return await chat.messages.history(actor, Target(user=username), before_seq, limit)
