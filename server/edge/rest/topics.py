"""Topics over REST: the same service calls as the Socket.IO events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from server.chat.conversations.schemas import (
    InvitedOut,
    MembersOut,
    NotifyLevel,
    PageOut,
    PinsOut,
    SubscribedOut,
    TopicCreateIn,
    TopicsOut,
)
from server.chat.kernel.schemas import MAX_STORED_INT, Empty, Target, TopicOut, Username
from server.chat.kernel.schemas import In as InModel
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/topics", tags=["topics"], responses=RESPONSES)
PLACE = 30  # its place among the API's routes and in the OpenAPI document (api.py)
Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
BeforeSeq = Annotated[int | None, Query(ge=1, le=MAX_STORED_INT)]
Limit = Annotated[int, Query(ge=1, le=200)]


class InviteBody(InModel):
    username: Username


class NotifyBody(InModel):
    level: NotifyLevel


@router.get("")
async def list_topics(actor: ActorDep, chat: ChatDep) -> TopicsOut:
    return await chat.topics.list(actor)


@router.post("", status_code=201)
async def create_topic(data: TopicCreateIn, actor: ActorDep, chat: ChatDep) -> TopicOut:
    return await chat.topics.create(actor, data.name, data.private)


@router.get("/{name}")
async def get_topic(name: Name, actor: ActorDep, chat: ChatDep) -> TopicOut:
    return await chat.topics.get(actor, name)


@router.get("/{name}/members")
async def members(
    name: Name,
    actor: ActorDep,
    chat: ChatDep,
    query: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int | None, Query(ge=1, le=200)] = None,
) -> MembersOut:
    """Every member, or with ``query`` those a word of whose name starts with it (``topic:members``)."""
    return await chat.topics.members(actor, name, query=query, limit=limit)


@router.post("/{name}/subscribe")
async def subscribe(name: Name, actor: ActorDep, chat: ChatDep) -> SubscribedOut:
    return await chat.topics.subscribe(actor, name)


@router.post("/{name}/unsubscribe")
async def unsubscribe(name: Name, actor: ActorDep, chat: ChatDep) -> Empty:
    await chat.topics.unsubscribe(actor, name)
    return Empty()


@router.post("/{name}/invite")
async def invite(name: Name, data: InviteBody, actor: ActorDep, chat: ChatDep) -> InvitedOut:
    return await chat.topics.invite(actor, name, data.username)


@router.get("/{name}/messages")
async def messages(
    name: Name, actor: ActorDep, chat: ChatDep, before_seq: BeforeSeq = None, limit: Limit = 50
) -> PageOut:
    return await chat.messages.history(actor, Target(topic=name), before_seq, limit)


@router.put("/{name}/notify")
async def notify(name: Name, data: NotifyBody, actor: ActorDep, chat: ChatDep) -> TopicOut:
    """As ``topic:notify``: the caller's notification level for the topic."""
    return await chat.topics.notify(actor, Target(topic=name), data.level)


@router.get("/{name}/pins")
async def pins(name: Name, actor: ActorDep, chat: ChatDep) -> PinsOut:
    """As ``topic:pins``: newest pin first."""
    return await chat.pins.list(actor, Target(topic=name))
