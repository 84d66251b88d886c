"""People over REST (PROTOCOL.md section 14): profiles, status, availability and the directory;
live sockets see the changes exactly as from Socket.IO (``user:updated``, ``presence``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.chat.kernel.schemas import ProfileOut
from server.chat.people.schemas import AvailabilitySetIn, ProfileUpdateIn, StatusSetIn, UsersOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/users", tags=["people"], responses=RESPONSES)
PLACE = 150  # its place among the API's routes and in the OpenAPI document (api.py)
Q = Annotated[str, Query(min_length=1, max_length=64, description="a prefix of a word of the name")]
Limit = Annotated[int, Query(ge=1, le=50)]


@router.get("")
async def search(q: Q, actor: ActorDep, chat: ChatDep, limit: Limit = 20) -> UsersOut:
    """The directory: users whose username or display name has a word starting with ``q``."""
    return await chat.people.search(actor, q, limit)


@router.get("/me")
async def me(actor: ActorDep, chat: ChatDep) -> ProfileOut:
    return await chat.people.profile(actor, actor.username)


@router.patch("/me")
async def update(data: ProfileUpdateIn, actor: ActorDep, chat: ChatDep) -> ProfileOut:
    return await chat.people.update(actor, data)


@router.put("/me/status")
async def set_status(data: StatusSetIn, actor: ActorDep, chat: ChatDep) -> ProfileOut:
    return await chat.people.set_status(actor, data)


@router.delete("/me/status")
async def clear_status(actor: ActorDep, chat: ChatDep) -> ProfileOut:
    return await chat.people.clear_status(actor)


@router.put("/me/availability")
async def set_availability(data: AvailabilitySetIn, actor: ActorDep, chat: ChatDep) -> ProfileOut:
    return await chat.people.set_availability(actor, data.availability)


@router.get("/{username}")
async def profile(username: str, actor: ActorDep, chat: ChatDep) -> ProfileOut:
    return await chat.people.profile(actor, username)
