"""Web Push subscriptions (PROTOCOL.md section 15): the VAPID key a browser subscribes with, and
the subscriptions a user keeps (``/api/push/...``).

An endpoint is checked by the push sender's address guard (``PARLEY_PUSH_ALLOW_HOSTS``) when it
is given, and again at every push: an endpoint that is not https (http only for an allowed
host) or resolves to an address pushes may not reach is ``invalid``. One row per endpoint: the
same endpoint subscribed again keeps its row, now the caller's (a browser shared by two
accounts pushes to the one signed in last). A user keeps at most ``MAX_PER_USER``
(``invalid`` past it).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

from db.errors import Conflict
from db.notifications.push import SubscriptionRecord
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import invalid, not_found
from server.chat.kernel.outbound import AddressRefused
from server.chat.kernel.views import iso_required
from server.chat.notifications.ports import PushSender
from server.chat.notifications.schemas import (
    PushKeyOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    PushSubscriptionsOut,
)

MAX_PER_USER = 20


def endpoint_key(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscription_view(record: SubscriptionRecord) -> PushSubscriptionOut:
    return PushSubscriptionOut(
        id=record.id,
        endpoint_host=urlsplit(record.endpoint).hostname or "",
        created_at=iso_required(record.created_at),
    )


class PushService:
    def __init__(self, db: Database, sender: PushSender | None) -> None:
        self.db = db
        self.sender = sender  # none: the command line, which sends no pushes

    def _sender(self) -> PushSender:
        if self.sender is None:
            raise invalid("this server sends no pushes")
        return self.sender

    def key(self) -> PushKeyOut:
        """``GET /api/push/key``; ``invalid`` when the server sends no pushes."""
        return PushKeyOut(public_key=self._sender().public_key)

    async def subscribe(self, actor: Actor, data: PushSubscriptionIn) -> PushSubscriptionOut:
        """``POST /api/push/subscriptions``: ``invalid`` for an endpoint refused by the guard or
        past ``MAX_PER_USER`` subscriptions."""
        try:
            await self._sender().check(data.endpoint)
        except AddressRefused as exc:
            raise invalid(f"endpoint: the address is not allowed ({exc})") from exc
        key = endpoint_key(data.endpoint)
        record = SubscriptionRecord(
            uuid.uuid4().hex, actor.id, data.endpoint, data.keys.p256dh, data.keys.auth, datetime.now(UTC)
        )
        try:
            return subscription_view(await self._store(record, key))
        except Conflict:  # the same endpoint subscribed at once elsewhere: it has its row now
            return subscription_view(await self._store(record, key))

    async def _store(self, record: SubscriptionRecord, key: str) -> SubscriptionRecord:
        async with self.db.write() as repos:
            if await repos.push.count(record.user_id, except_key=key) >= MAX_PER_USER:
                raise invalid(f"at most {MAX_PER_USER} push subscriptions per user")
            return await repos.push.subscribe(record, key)

    async def list(self, actor: Actor) -> PushSubscriptionsOut:
        """``GET /api/push/subscriptions``: the caller's own, oldest first."""
        async with self.db.read() as repos:
            found = await repos.push.subscriptions(actor.id)
        return PushSubscriptionsOut(subscriptions=[subscription_view(record) for record in found])

    async def remove(self, actor: Actor, subscription_id: str) -> None:
        """``DELETE /api/push/subscriptions/{id}``: ``not_found`` unless it is the caller's."""
        async with self.db.write() as repos:
            if not await repos.push.unsubscribe(subscription_id, actor.id):
                raise not_found("no such push subscription")
