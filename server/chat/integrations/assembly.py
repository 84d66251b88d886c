"""The integrations' part of the composition. They listen: the webhook map is a hub sink, the
outbox of member and reaction events a commit handler, a message's outbox a send hook on the
conversations' port; bots post through the message service like anyone."""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.accounts.users import UserService
from server.chat.conversations.assembly import Conversations
from server.chat.integrations.bots import BotService
from server.chat.integrations.hooks import HookService
from server.chat.integrations.webhook_worker import WebhookWorker
from server.chat.integrations.webhooks import (
    MessageWebhooks,
    WebhookMap,
    WebhookOutbox,
    WebhookService,
)
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.limits import OutboundLimits
from server.chat.kernel.outbound import Poster, UrlGuard
from server.chat.kernel.wiring import Stage, Wiring


@dataclass(frozen=True, kw_only=True)
class Limits(OutboundLimits):
    """Incoming hooks' rate and the delivery log's life (PROTOCOL.md section 12)."""

    hook_posts_per_minute: int  # posts to one incoming webhook
    webhook_log_retention: float  # housekeeping: seconds an attempt stays in the delivery log


@dataclass(frozen=True)
class Integrations:
    bots: BotService
    hooks: HookService
    webhooks: WebhookService
    webhook_map: WebhookMap
    webhook_worker: WebhookWorker | None  # a server's, when it can post (no poster: none)


def build(
    w: Wiring,
    limits: Limits,
    users: UserService,
    conversations: Conversations,
    guard: UrlGuard | None,
    poster: Poster | None,
) -> Integrations:
    webhook_map = WebhookMap(w.db)  # topic -> its outgoing webhooks (section 12), on every node
    w.sink(Stage.SEND_PATH, webhook_map)  # kept exact like the directory, before clients hear
    w.before_commit(WebhookOutbox(webhook_map))  # member and reaction facts -> outbox rows
    conversations.send_hooks.append(MessageWebhooks(webhook_map))  # a message's -> outbox rows
    w.part("webhook map", webhook_map.load)  # before any send: the send path asks it
    prune_deliveries(w, limits.webhook_outbox_retention, limits.webhook_log_retention)
    bots = BotService(w.db, users, conversations.messages)  # PROTOCOL.md section 12
    roles = conversations.directory.roles  # section 19: workspace admins manage public topics'
    posts = SharedLimit("hook-posts", limits.hook_posts_per_minute, 60.0, w.budgets)
    hooks = HookService(w.db, bots, posts, roles)
    webhooks = WebhookService(w.db, webhook_map, guard, bots, roles)
    worker = None
    if poster is not None:
        worker = WebhookWorker(
            w.db,
            webhook_map,
            poster,
            retry_base=limits.webhook_retry_base,
            give_up=limits.webhook_give_up,
            lease=limits.webhook_lease,
            single=is_sqlite(w.db.url),
            answer=webhooks.answer,  # a {"text"} answer, posted as the webhook's bot
            sends=conversations.messages.writer,  # a burst's acks before its deliveries
        )
        w.part("webhook worker", worker.start, worker.stop, serving=True)
    return Integrations(bots, hooks, webhooks, webhook_map, worker)


def prune_deliveries(w: Wiring, outbox: float, log: float) -> None:
    """Housekeeping: finished deliveries (``outbox``, ``ok`` or ``failed``) and delivery-log
    attempts (``log``; the log lists a webhook's newest 100) after their retention, in seconds. A
    pending delivery of a live webhook is never pruned; one of a removed webhook (or deleted
    topic), which no worker takes, is owed to nobody and goes after the same retention."""
    w.prune("outbox", outbox, lambda repos, before, limit: repos.webhooks.prune_outbox(before, limit))
    w.prune("log", log, lambda repos, before, limit: repos.webhooks.prune_log(before, limit))
