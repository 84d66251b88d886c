"""Web Push over REST (PROTOCOL.md section 15): the VAPID key a browser subscribes with, and the
caller's own subscriptions. REST only: section 15 names no Socket.IO events for them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from server.chat.notifications.schemas import (
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    PushSubscriptionsOut,
)
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/push", tags=["push"], responses=RESPONSES)
PLACE = 180  # its place among the API's routes and in the OpenAPI document (api.py)
SubscriptionId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/key")
async def key(chat: ChatDep) -> PushKeyOut:
    """The VAPID application server key (base64url) for ``PushManager.subscribe``: public, as the
    browser and every push service see it anyway (no token needed)."""
    return chat.push.key()


@router.post("/subscriptions", status_code=201)
async def subscribe(data: PushSubscriptionIn, actor: ActorDep, chat: ChatDep) -> PushSubscriptionOut:
    """A browser's ``PushSubscription`` JSON. The same endpoint again keeps one subscription, now
    the caller's; an endpoint the address guard refuses, or a 21st subscription, is ``invalid``."""
    return await chat.push.subscribe(actor, data)


@router.get("/subscriptions")
async def subscriptions(actor: ActorDep, chat: ChatDep) -> PushSubscriptionsOut:
    """The caller's own subscriptions, oldest first."""
    return await chat.push.list(actor)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(subscription_id: SubscriptionId, actor: ActorDep, chat: ChatDep) -> Response:
    """Removes one of the caller's subscriptions (and the pushes it still owes); anyone else's is 404."""
    await chat.push.remove(actor, subscription_id)
    return Response(status_code=204)
