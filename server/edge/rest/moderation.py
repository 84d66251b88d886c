"""Moderation over REST (PROTOCOL.md section 10): the same service calls as the Socket.IO events."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path

from server.chat.kernel.schemas import Empty, TopicName, TopicOut, Username
from server.chat.kernel.schemas import In as InModel
from server.chat.moderation.schemas import (
    UNCHANGED,
    BansOut,
    Description,
    Minutes,
    Reason,
    RetentionDays,
    Unchanged,
)
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES
from server.edge.rest.topics import Name

router = APIRouter(prefix="/api/topics", tags=["moderation"], responses=RESPONSES)
PLACE = 40  # its place among the API's routes and in the OpenAPI document (api.py)
UserPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]


class RoleBody(InModel):
    role: Literal["admin", "moderator", "member"]


class MemberBody(InModel):
    username: Username
    reason: Reason | None = None


class TimedBody(MemberBody):
    minutes: Minutes | None = None


class UpdateBody(InModel):
    name: TopicName | None = None
    description: Description | None = None
    retention_days: RetentionDays | None = None  # section 16: null, the server's; absent, unchanged

    def retention(self) -> int | Unchanged | None:
        return self.retention_days if "retention_days" in self.model_fields_set else UNCHANGED


@router.put("/{name}/members/{username}/role")
async def role(name: Name, username: UserPath, data: RoleBody, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``topic:role``: the owner gives any role, an admin moderator or member; to lower ranks only."""
    await chat.moderation.role(actor, name, username, data.role)
    return Empty()


@router.post("/{name}/kick")
async def kick(name: Name, data: MemberBody, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``topic:kick``: moderators and up, on lower ranks."""
    await chat.moderation.kick(actor, name, data.username, data.reason)
    return Empty()


@router.post("/{name}/ban")
async def ban(name: Name, data: TimedBody, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``topic:ban`` (``minutes``: it ends by itself)."""
    await chat.moderation.ban(actor, name, data.username, data.reason, data.minutes)
    return Empty()


@router.get("/{name}/bans")
async def bans(name: Name, actor: ActorDep, chat: ChatDep) -> BansOut:
    """As ``topic:bans``: the bans in force, for moderators and up (Parley's addition)."""
    return await chat.moderation.bans(actor, name)


@router.post("/{name}/unban")
async def unban(name: Name, data: MemberBody, actor: ActorDep, chat: ChatDep) -> Empty:
    await chat.moderation.unban(actor, name, data.username)
    return Empty()


@router.post("/{name}/mute")
async def mute(name: Name, data: TimedBody, actor: ActorDep, chat: ChatDep) -> Empty:
    """As ``topic:mute``: the member reads but may not send, react or pin."""
    await chat.moderation.mute(actor, name, data.username, data.minutes)
    return Empty()


@router.post("/{name}/unmute")
async def unmute(name: Name, data: MemberBody, actor: ActorDep, chat: ChatDep) -> Empty:
    await chat.moderation.unmute(actor, name, data.username)
    return Empty()


@router.patch("/{name}")
async def update(name: Name, data: UpdateBody, actor: ActorDep, chat: ChatDep) -> TopicOut:
    """As ``topic:update``: rename, describe and/or set the retention (owners and admins)."""
    return await chat.moderation.update(actor, name, data.name, data.description, data.retention())


@router.post("/{name}/archive")
async def archive(name: Name, actor: ActorDep, chat: ChatDep) -> TopicOut:
    """As ``topic:archive``: read-only for everyone until unarchived."""
    return await chat.moderation.archive(actor, name)


@router.post("/{name}/unarchive")
async def unarchive(name: Name, actor: ActorDep, chat: ChatDep) -> TopicOut:
    return await chat.moderation.unarchive(actor, name)
