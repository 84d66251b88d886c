"""Notification preferences over REST (PROTOCOL.md section 15), the same service calls as
``notifications:get`` / ``notifications:set``."""

from __future__ import annotations

from fastapi import APIRouter

from server.chat.notifications.schemas import NotificationPrefsIn, NotificationPrefsOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/users/me/notifications", tags=["notifications"], responses=RESPONSES)
PLACE = 160  # its place among the API's routes and in the OpenAPI document (api.py)


@router.get("")
async def preferences(actor: ActorDep, chat: ChatDep) -> NotificationPrefsOut:
    return await chat.notifications.get(actor)


@router.put("")
async def set_preferences(data: NotificationPrefsIn, actor: ActorDep, chat: ChatDep) -> NotificationPrefsOut:
    """Only the fields given change; ``"quiet_hours": null`` removes the quiet hours."""
    return await chat.notifications.set(actor, data)
