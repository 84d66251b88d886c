"""Joining the workspace over REST (PROTOCOL.md section 19): its settings (``GET``/``PATCH
/api/admin/settings``), invitations (``/api/invites``) and the accounts owners and admins create
(``POST /api/admin/users``). Anyone not allowed gets 403 ``forbidden``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from server.chat.kernel.schemas import MAX_STORED_INT
from server.chat.workspace.schemas import (
    CreatedInvitationOut,
    InvitationIn,
    InvitationsOut,
    NewUserIn,
    NewUserOut,
    WorkspaceSettingsIn,
    WorkspaceSettingsOut,
)
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api", tags=["workspace"], responses=RESPONSES)
PLACE = 230  # its place among the API's routes and in the OpenAPI document (api.py)
InviteId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]


@router.get("/admin/settings")
async def settings(actor: ActorDep, chat: ChatDep) -> WorkspaceSettingsOut:
    """``registration`` (open, invite or closed), ``allowed_domains``, ``members_invite``."""
    return await chat.workspace.settings(actor)


@router.patch("/admin/settings")
async def update_settings(data: WorkspaceSettingsIn, actor: ActorDep, chat: ChatDep) -> WorkspaceSettingsOut:
    """Change the fields given (owners and admins; audited): the next sign-up on every node obeys."""
    return await chat.workspace.update(actor, data)


@router.post("/invites", status_code=201)
async def create_invite(data: InvitationIn, actor: ActorDep, chat: ChatDep) -> CreatedInvitationOut:
    """An invitation link (owners and admins; members too when ``members_invite``), mailed to
    ``email`` when given; its code is shown once."""
    return await chat.workspace.create_invite(actor, data)


@router.get("/invites")
async def invites(actor: ActorDep, chat: ChatDep) -> InvitationsOut:
    """The invitations (an admin sees all, a member their own), never their codes."""
    return await chat.workspace.invites(actor)


@router.delete("/invites/{invite_id}", status_code=204)
async def revoke_invite(invite_id: InviteId, actor: ActorDep, chat: ChatDep) -> Response:
    await chat.workspace.revoke(actor, invite_id)
    return Response(status_code=204)


@router.post("/admin/users", status_code=201)
async def create_user(data: NewUserIn, actor: ActorDep, chat: ChatDep) -> NewUserOut:
    """An account made by an owner or admin, whatever the registration; without a password an
    invitation bound to it is mailed to ``email``."""
    return await chat.workspace.create_user(actor, data)
