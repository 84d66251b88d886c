"""Outgoing webhooks over REST (PROTOCOL.md section 12): register, list, remove, and read a
webhook's delivery log. Owners and admins of the topic only (else ``forbidden``; a private topic
the caller is not in, or a missing one, is 404). REST only: section 12 names no Socket.IO events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from server.chat.integrations.schemas import DeliveriesOut, WebhookCreated, WebhookIn, WebhooksOut
from server.chat.kernel.schemas import Empty
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES
from server.edge.rest.topics import Name

router = APIRouter(prefix="/api/topics", tags=["webhooks"], responses=RESPONSES)
PLACE = 130  # its place among the API's routes and in the OpenAPI document (api.py)
HookId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/{name}/webhooks", status_code=201)
async def register(name: Name, data: WebhookIn, actor: ActorDep, chat: ChatDep) -> WebhookCreated:
    """Each matching event is POSTed to ``url``, signed with ``secret`` (``X-Parley-Signature``).
    A URL whose host resolves to an address webhooks may not reach is ``invalid``."""
    return await chat.webhooks.register(actor, name, data)


@router.get("/{name}/webhooks")
async def listing(name: Name, actor: ActorDep, chat: ChatDep) -> WebhooksOut:
    """The topic's webhooks, oldest first (never their secrets)."""
    return await chat.webhooks.list(actor, name)


@router.delete("/{name}/webhooks/{hook_id}")
async def remove(name: Name, hook_id: HookId, actor: ActorDep, chat: ChatDep) -> Empty:
    """Stops its deliveries: the ones still pending are dropped."""
    await chat.webhooks.remove(actor, name, hook_id)
    return Empty()


@router.get("/{name}/webhooks/{hook_id}/deliveries")
async def deliveries(name: Name, hook_id: HookId, actor: ActorDep, chat: ChatDep) -> DeliveriesOut:
    """The newest 100 delivery attempts, newest first."""
    return await chat.webhooks.deliveries(actor, name, hook_id)
