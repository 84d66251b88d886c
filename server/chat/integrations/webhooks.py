"""Outgoing webhooks (PROTOCOL.md section 12): registrations, the map the send path asks, and
the outbox rows each event writes.

An owner or admin of a topic registers a URL, the events it wants (``message``, ``mention``,
``reaction``, ``member``) and a secret. Each matching event writes one outbox row per webhook IN
THE TRANSACTION OF THE EVENT (a new message's rows go with its send batch, ``db/sends.py``), with
the exact JSON that will be signed and POSTed: nothing is lost on a crash and nothing on the send
path waits for HTTP. The delivery worker (``webhook_worker.py``) drains the outbox.

The webhooks listen; nothing calls them. Member and reaction changes note a fact
(``server.chat.kernel.facts``) and ``WebhookOutbox``, a commit handler of the unit of work
(``Database.before_commit``), turns each into outbox rows in the change's transaction. The send
path asks ``WebhookMap.of(topic_id)`` on every send: one dict lookup, so a topic without webhooks
costs nothing more. The map holds every active webhook (few: a handful per topic that has any),
is loaded when the server starts and kept exact on every node by ``WebhooksChanged``: the map is
a hub sink of its own, and rings this node's worker on ``OutboxWritten``.

The URL is checked twice by the guard the composition hands in (``UrlGuard``, I/O outside the
domain): at registration (refused: ``invalid``, "the address is not allowed") and at every
delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from db.records import DueDelivery, OutboxRow, UserRecord, WebhookRecord
from db.repositories import Repositories
from db.sends import Stored
from db.uow import Database
from server.chat.conversations.writer import Pending
from server.chat.integrations.bots import BotService
from server.chat.integrations.hook_bots import retire
from server.chat.integrations.schemas import (
    DeliveriesOut,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhooksOut,
)
from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.errors import ChatError, ErrorCode, conflict, invalid, not_found
from server.chat.kernel.events import Event, MembershipChanged, NewsMissed, OutboxWritten, WebhooksChanged
from server.chat.kernel.facts import Acted, MemberActed, ReactionActed
from server.chat.kernel.outbound import AddressRefused, UrlGuard
from server.chat.kernel.places import place_of_topic
from server.chat.kernel.schemas import MessageOut
from server.chat.kernel.views import iso_required, message_view
from server.chat.rules.access import named_topic, require_member
from server.chat.rules.authority import Act, check, standing_of
from server.chat.rules.workspace import Roles

NONE: tuple[WebhookRecord, ...] = ()
MAX_ANSWER = 4000  # a message body's limit (PROTOCOL.md section 3): a longer answer is cut
MAX_USERNAME = 32  # a bot's name is a username (PROTOCOL.md section 3)
MAX_BOT_NAMES = 100  # names tried for a webhook's bot before giving up (``conflict``)


class Bell:
    """Rung when outbox rows were written on this node, so the worker starts at once."""

    def __init__(self) -> None:
        self.listeners: list[Any] = []

    def ring(self) -> None:
        for listener in self.listeners:
            listener()


class WebhookMap:
    """topic id -> its active webhooks, on every node (``WebhooksChanged`` keeps it exact).

    The dict is never replaced, only changed in place: the writer holds it and asks it per send.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.by_topic: dict[int, tuple[WebhookRecord, ...]] = {}
        self.bell = Bell()  # rung when outbox rows were written here: this node's worker starts
        self._generation: dict[int, int] = {}

    def of(self, topic_id: int) -> tuple[WebhookRecord, ...]:
        return self.by_topic.get(topic_id, NONE)

    async def deliver(self, event: Event) -> None:
        """The hub's news: a topic's webhooks changed (read them again), outbox rows were written
        (ring this node's worker), or news was missed (read every webhook again)."""
        if isinstance(event, WebhooksChanged):
            await self.reload(event.topic_id)
            self.bell.ring()
        elif isinstance(event, OutboxWritten):
            self.bell.ring()
        elif isinstance(event, NewsMissed):
            await self.load()

    async def load(self) -> None:
        """Every active webhook (the server's start, and after missed news). A topic read again
        (``reload``) while this read runs keeps that read: a webhook removed meanwhile must not
        come back from this one."""
        before = dict(self._generation)
        async with self.db.read() as repos:
            hooks = await repos.webhooks.active()
        grouped: dict[int, list[WebhookRecord]] = {}
        for hook in hooks:
            grouped.setdefault(hook.topic_id, []).append(hook)
        loaded = {topic_id: tuple(found) for topic_id, found in grouped.items()}
        for topic_id, generation in self._generation.items():
            if before.get(topic_id) != generation:  # changed meanwhile: its own read stands
                loaded.pop(topic_id, None)
                if topic_id in self.by_topic:
                    loaded[topic_id] = self.by_topic[topic_id]
        self.by_topic.clear()
        self.by_topic.update(loaded)

    async def reload(self, topic_id: int) -> None:
        """A topic's webhooks changed (on some node): read them again. A read that a later change
        overtook leaves the map to that change's read."""
        generation = self._generation.get(topic_id, 0) + 1
        self._generation[topic_id] = generation
        async with self.db.read() as repos:
            hooks = tuple(await repos.webhooks.active(topic_id))
        if self._generation.get(topic_id) != generation:
            return
        if hooks:
            self.by_topic[topic_id] = hooks
        else:
            self.by_topic.pop(topic_id, None)


def payload(
    delivery_id: str, event: str, topic: str, created_at: datetime, **parts: dict[str, Any] | None
) -> str:
    """The JSON POSTed (and signed) for one delivery: ``{"id", "event", "topic", "message"?,
    "reaction"?, "member"?, "created_at"}``."""
    body: dict[str, Any] = {"id": delivery_id, "event": event, "topic": topic}
    body.update({key: value for key, value in parts.items() if value is not None})
    body["created_at"] = iso_required(created_at)
    return orjson.dumps(body).decode()


def new_id() -> str:
    return uuid.uuid4().hex


def message_rows(
    hooks: Sequence[WebhookRecord], message: MessageOut, sender_id: int, mentions: bool, now: datetime
) -> list[OutboxRow]:
    """The outbox rows of a new message: ``message`` for every webhook that wants it, ``mention``
    too when it mentions someone; none for a webhook whose own bot sent it (no loop)."""
    rows: list[OutboxRow] = []
    wire = message.wire
    for hook in hooks:
        if hook.bot_id == sender_id:
            continue
        for event in ("message", "mention"):
            if event in hook.events and (event == "message" or mentions):
                delivery = new_id()
                body = payload(delivery, event, message.topic, now, message=wire)
                rows.append(OutboxRow(delivery, hook.id, event, body, message.id, now))
    return rows


class MessageWebhooks:
    """The send hook (``server.chat.conversations.writer.SendHook``) of outgoing webhooks: a new message to a
    topic with webhooks that want it writes its outbox rows in its send batch's transaction; once
    the batch committed, the ``Bell`` rings for this node's delivery worker.

    ``WebhookMap.of`` is asked once per send: a topic without webhooks costs one dict lookup.
    """

    def __init__(self, webhooks: WebhookMap) -> None:
        self.webhooks = webhooks

    def rows(self, pending: Pending) -> Callable[[Stored], Sequence[OutboxRow]] | None:
        destination = pending.destination
        assert destination is not None, "a send is resolved before its rows are asked"
        hooks = self.webhooks.of(destination.place.topic_id)  # the hot path's one lookup
        sender_id = pending.actor.id
        extras = destination.extras
        if not hooks or extras.type == "system" or not any(_wants_messages(h, sender_id) for h in hooks):
            return None
        mentions = bool(extras.mentions) or extras.mentions_all

        def outbox(stored: Stored) -> Sequence[OutboxRow]:
            return message_rows(hooks, pending.view(stored), sender_id, mentions, pending.created_at)

        return outbox

    def committed(self) -> None:
        self.webhooks.bell.ring()


def _wants_messages(hook: WebhookRecord, sender_id: int) -> bool:
    """Whether a new message of ``sender_id`` may make a delivery of ``hook`` (not its own bot's)."""
    return hook.bot_id != sender_id and ("message" in hook.events or "mention" in hook.events)


def event_rows(
    hooks: Sequence[WebhookRecord],
    event: str,
    topic: str,
    now: datetime,
    trigger: int | None = None,
    **parts: dict[str, Any] | None,
) -> list[OutboxRow]:
    """The outbox rows of a ``reaction`` or ``member`` event, for the webhooks that want it."""
    rows: list[OutboxRow] = []
    for hook in hooks:
        if event in hook.events:
            delivery = new_id()
            rows.append(
                OutboxRow(
                    delivery, hook.id, event, payload(delivery, event, topic, now, **parts), trigger, now
                )
            )
    return rows


async def enqueue(repos: Repositories, topic_id: int, rows: Sequence[OutboxRow]) -> None:
    """Write outbox rows in the event's transaction; once it commits, ``OutboxWritten`` rings
    the bell of every node's worker (``Directory.deliver``)."""
    if rows:
        await repos.webhooks.enqueue(rows)
        repos.record(OutboxWritten(topic_id))


class WebhookOutbox:
    """The commit handler (``Database.before_commit``): each member or reaction fact of a
    transaction becomes the outbox rows of the webhooks that want it, in that transaction. A
    topic without webhooks costs a dict lookup per fact."""

    def __init__(self, hooks: WebhookMap) -> None:
        self.hooks = hooks

    async def __call__(self, repos: Repositories, recorded: Sequence[object]) -> None:
        for fact in recorded:
            if isinstance(fact, MemberActed):
                await self._member(repos, fact)
            elif isinstance(fact, ReactionActed):
                await self._reaction(repos, fact)

    async def _member(self, repos: Repositories, fact: MemberActed) -> None:
        if not self.hooks.of(fact.topic_id):
            return
        username = fact.username
        if username is None:
            user = await repos.users.by_id(fact.user_id)
            username = user.username if user else "?"
        await tell_member(repos, self.hooks, fact.topic_id, fact.topic, username, fact.action)

    async def _reaction(self, repos: Repositories, fact: ReactionActed) -> None:
        """Who did what, and the message in its current form (with the reactions after the change)."""
        place, message = fact.place, fact.message
        found = self.hooks.of(place.topic_id)
        if not found:
            return
        sender = await repos.users.by_id(message.sender_id)
        shown = message_view(message, sender.username if sender else "?", place.kind, place.shown_as)
        action = "added" if fact.added else "removed"
        reaction = {"emoji": fact.emoji, "user": fact.username, "action": action}
        rows = event_rows(
            found,
            "reaction",
            place.shown_as,
            datetime.now(UTC),
            message.id,
            message=shown.wire,
            reaction=reaction,
        )
        await enqueue(repos, place.topic_id, rows)


async def tell_member(
    repos: Repositories,
    hooks: WebhookMap | None,
    topic_id: int,
    topic: str,
    username: str,
    action: str,
    skip: str | None = None,
) -> None:
    """A ``member`` event (``joined``, ``left``, ``kicked``, ``banned``) in the change's transaction
    (to every webhook of the topic but ``skip``: one being removed in this transaction)."""
    found = hooks.of(topic_id) if hooks is not None else NONE
    found = tuple(hook for hook in found if hook.id != skip)
    if hooks is None or not found:
        return
    member = {"username": username, "action": action}
    await enqueue(repos, topic_id, event_rows(found, "member", topic, datetime.now(UTC), member=member))


class WebhookService:
    """Register, list and remove a topic's webhooks, and read a webhook's delivery log."""

    def __init__(
        self,
        db: Database,
        hooks: WebhookMap,
        guard: UrlGuard | None,
        bots: BotService,
        roles: Roles | None = None,
    ) -> None:
        self.db = db
        self.hooks = hooks
        self.guard = guard
        self.bots = bots
        self.roles = roles  # the workspace's owners and admins manage every public topic's

    async def answer(self, row: DueDelivery, text: str) -> None:
        """A receiver's ``{"text"}`` answer, posted as the webhook's bot in a thread on the message
        that triggered the delivery (its root when it is itself a reply, ``BotService.post``).
        ``client_id`` ``webhook:<delivery id>`` stores it once however often the delivery is
        repeated. Nothing when the webhook has no bot (any more) or the event had no message."""
        if row.bot_id is None or row.trigger_message_id is None:
            return
        bot = await self.bots.actor(row.bot_id)
        if bot is None:
            return
        await self.bots.post(
            bot, row.topic_id, text[:MAX_ANSWER], row.trigger_message_id, f"webhook:{row.id}"
        )

    async def register(self, actor: Actor, topic: str, data: WebhookIn) -> WebhookCreated:
        async with self.db.read() as repos:
            await self._managed(repos, actor, topic)
        if self.guard is not None:
            try:
                await self.guard.check(data.url)
            except AddressRefused as exc:
                raise invalid(f"the address of this URL is not allowed: {exc}") from exc
        bot = await self._new_bot(actor, topic)
        hook_id = new_id()
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            found = await self._managed(repos, actor, topic)
            record = await repos.topics.by_id(found)
            assert record is not None, "just found"
            await repos.memberships.add(record, bot.id, "member", now)
            repos.record(MembershipChanged(bot.id, found, joined=True))
            await tell_member(repos, self.hooks, found, record.name, bot.username, "joined")
            hook = WebhookRecord(
                hook_id, found, data.url, tuple(data.events), data.secret, bot.id, actor.id, now
            )
            await repos.webhooks.add(hook)
            repos.record(WebhooksChanged(found))
            details = {"url": data.url, "events": list(data.events), "bot": bot.username}  # no secret
            repos.note(Acted(Doer.of(actor), "webhook.create", hook_id, record.name, details))
        return WebhookCreated(id=hook_id)

    async def _new_bot(self, owner: Actor, topic: str) -> UserRecord:
        """The webhook's bot, owned by whoever registers it: ``<topic>-webhook``, or with the first
        free number after it (``general-webhook2``) when the name is taken."""
        for n in range(1, MAX_BOT_NAMES + 1):
            suffix = "-webhook" + (str(n) if n > 1 else "")
            name = topic[: MAX_USERNAME - len(suffix)] + suffix
            try:
                return await self.bots.create_bot(owner, name)
            except ChatError as exc:
                if exc.code != ErrorCode.CONFLICT:
                    raise
        raise conflict(f"every name for this webhook's bot is taken ({topic}-webhook..{MAX_BOT_NAMES})")

    async def list(self, actor: Actor, topic: str) -> WebhooksOut:
        async with self.db.read() as repos:
            found = await self._managed(repos, actor, topic)
            hooks = await repos.webhooks.active(found)
        return WebhooksOut(
            webhooks=[
                WebhookOut(id=h.id, url=h.url, events=list(h.events), created_at=iso_required(h.created_at))
                for h in hooks
            ]
        )

    async def remove(self, actor: Actor, topic: str, hook_id: str) -> None:
        """The webhook stops (its pending deliveries dropped); its bot, made for it, leaves the
        topic and is disabled (``hook_bots.retire``), the other webhooks told it left."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            found = await self._managed(repos, actor, topic)
            removed = next((h for h in await repos.webhooks.active(found) if h.id == hook_id), None)
            if removed is None or not await repos.webhooks.remove(found, hook_id, now):
                raise _no_webhook(hook_id)
            repos.record(WebhooksChanged(found))
            record = await repos.topics.by_id(found)
            where = record.name if record is not None else topic
            repos.note(Acted(Doer.of(actor), "webhook.remove", hook_id, where, {"url": removed.url}))
            if removed.bot_id is not None:
                bot = await repos.users.by_id(removed.bot_id)
                if await retire(repos, found, removed.bot_id, True, now) and bot and record:
                    await tell_member(
                        repos, self.hooks, found, record.name, bot.username, "left", skip=hook_id
                    )

    async def deliveries(self, actor: Actor, topic: str, hook_id: str) -> DeliveriesOut:
        async with self.db.read() as repos:
            found = await self._managed(repos, actor, topic)
            if not await repos.webhooks.exists(found, hook_id):
                raise _no_webhook(hook_id)
            attempts = await repos.webhooks.attempts(hook_id)
        return DeliveriesOut(
            deliveries=[
                DeliveryOut(
                    id=a.outbox_id,
                    event=a.event,
                    attempt=a.attempt,
                    at=iso_required(a.at),
                    status=a.status,  # the table holds only the three
                    code=a.code,
                )
                for a in attempts
            ]
        )

    async def _managed(self, repos: Repositories, actor: Actor, topic: str) -> int:
        """The topic's id when the actor is its owner or an admin: a missing topic, or a private
        one the actor is not in, is ``not_found``; anyone else ``forbidden``."""
        found = await named_topic(repos, topic)
        if self.roles is not None and self.roles.acts_in(actor.id, found.kind):
            return found.id  # a workspace owner or admin: every public topic's (section 19)
        membership = await require_member(repos, place_of_topic(found), actor, "manage its webhooks")
        check(Act.WEBHOOKS, standing_of(membership), kind=found.kind, where=repr(found.name))
        return found.id


def _no_webhook(hook_id: str) -> Exception:
    return not_found(f"no webhook {hook_id!r} in this topic")
