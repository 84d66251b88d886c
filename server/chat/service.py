"""The one service API the transports call, and the one composition root of the domain.

``Chat`` builds each capability package through its ``assembly.build``, floor by floor (the
import contract's order, bottom first), and keeps the services as attributes for the transports
(``chat.users``, ``chat.topics``, ``chat.messages``, ...). A build registers its own hub sinks
(staged by what each must come before, ``wiring.Stage``), commit handlers, send hooks and the
parts to start and stop; ``Chat`` attaches the sinks once every build is done (through the
wiring, by stage), and the unit of work's commit publishes straight to the hub. ``start`` and
``stop`` run every part, here and nowhere else: a server (``serving``) also starts what only a
server runs (its heartbeat row, the background workers, housekeeping, the search backfill and the
public topic: the parts registered with ``serving=True``), which the command line, building the
same chat, leaves alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.uow import Database
from server.chat.accounts import assembly as accounts
from server.chat.accounts.app_tokens import AppTokenVerifier
from server.chat.accounts.sso import IdentityProvider
from server.chat.audit import assembly as audit
from server.chat.backends import assembly as backends
from server.chat.backends import live
from server.chat.calls import assembly as calls
from server.chat.connections import assembly as connections
from server.chat.conversations import assembly as conversations
from server.chat.echo import assembly as echo
from server.chat.echo.service import Upstream
from server.chat.emoji import assembly as emoji
from server.chat.exports import assembly as exports
from server.chat.exports.ports import ExportStore
from server.chat.exports.service import ExportService
from server.chat.exports.worker import ExportWorker
from server.chat.files import assembly as files
from server.chat.files.service import FileStore
from server.chat.integrations import assembly as integrations
from server.chat.kernel.budgets import Budgets
from server.chat.kernel.gather import Gather, LocalGather
from server.chat.kernel.hub import Hub, MemoryHub
from server.chat.kernel.online import OnlineRegistry
from server.chat.kernel.outbound import Poster, UrlGuard
from server.chat.kernel.wiring import Wiring
from server.chat.moderation import assembly as moderation
from server.chat.notifications import assembly as notifications
from server.chat.notifications.mail import Composer, Mailer
from server.chat.notifications.ports import PushSender
from server.chat.operators import assembly as operators
from server.chat.people import assembly as people
from server.chat.presence import assembly as presence
from server.chat.previews import assembly as previews
from server.chat.previews.ports import PageSource
from server.chat.retention import assembly as retention
from server.chat.rules import assembly as rules
from server.chat.search import assembly as search
from server.chat.workspace import assembly as workspace

__all__ = ["Chat", "Limits", "Ports"]


# Each capability declares the limits it reads (its ``assembly.Limits``); a dataclass gathers the
# fields of every base, so one value serves every build, each typed as its own section.
@dataclass(frozen=True, kw_only=True)
class Limits(
    backends.Limits,
    calls.Limits,
    workspace.Limits,
    retention.Limits,
    audit.Limits,
    operators.Limits,
    notifications.Limits,
    previews.Limits,
    integrations.Limits,
    echo.Limits,
    files.Limits,
    connections.Limits,
    conversations.Limits,
    accounts.Limits,
    presence.Limits,
):
    """Every capability's limits and timers, one value each: each field is the setting of the
    same name, copied by the composition (``server.chat_factory.limits_from``)."""


@dataclass(frozen=True)
class Ports:
    """The outside world the domain is handed (``server.adapters``; none: one process, no uploads,
    no echo upstream, no webhook posts)."""

    hub: Hub | None = None
    registry: OnlineRegistry | None = None  # who is online on any node (Redis)
    budgets: Budgets | None = None  # limits counted for the cluster (Redis)
    file_store: FileStore | None = None
    upstream: Upstream | None = None  # the echo channel's upstream
    url_guard: UrlGuard | None = None  # where webhooks may point (PROTOCOL.md section 12)
    poster: Poster | None = None  # how a webhook delivery is posted
    page_source: PageSource | None = None  # how link previews are fetched (none: previews off)
    identity_provider: IdentityProvider | None = None  # single sign-on's provider (none: off)
    app_tokens: AppTokenVerifier | None = None  # the application's signature (section 17; none: off)
    # Email (PROTOCOL.md section 15): how mails are written and sent (none: email is off)
    composer: Composer | None = None
    mailer: Mailer | None = None
    push_sender: PushSender | None = None  # how Web Push is sent (PROTOCOL.md section 15; none: off)
    export_store: ExportStore | None = None  # where users' exports are written (section 16; none: off)
    gather: Gather | None = None  # asks every node (Redis; none: one process answers itself)


class Chat:
    """The domain's services over one database and one hub, built, started and stopped together."""

    def __init__(
        self,
        db: Database,
        secret: str,
        token_ttl: int,
        limits: Limits,
        default_topics: list[str],
        ports: Ports = Ports(),
        *,
        public_topic: str | None = None,
        serving: bool = False,
    ) -> None:
        self.db = db
        self.hub = ports.hub or MemoryHub()
        self.budgets = ports.budgets
        self.default_topics = default_topics
        w = self.wiring = Wiring(db, self.hub, ports.budgets, serving)
        db.on_commit = self.hub.publish  # a commit's events, to every node's sinks
        w.part("search index check", db.search.check)  # SQLite without FTS5: refuse, saying why
        if ports.budgets is not None:
            w.part("cluster budgets", ports.budgets.start, ports.budgets.stop)
        w.part("hub", self.hub.start, self.hub.stop)

        found = rules.build(w)
        self.blocks = found.block_service  # PROTOCOL.md section 10
        self.roles = found.roles  # the workspace's roles (PROTOCOL.md section 19)
        self.presence = presence.build(w, limits, ports.registry, found.blocks)
        signed = accounts.build(
            w, limits, secret, token_ttl, self.presence, ports.identity_provider, ports.app_tokens
        )
        self.users, self.sso = signed.users, signed.sso  # PROTOCOL.md sections 6 and 14
        self.auth_sessions = signed.sessions  # PROTOCOL.md section 19: sessions that last
        self.files = files.build(w, limits, ports.file_store)  # PROTOCOL.md section 11
        self.search = search.build(w)  # PROTOCOL.md section 9
        self.people = people.build(w, self.presence)  # PROTOCOL.md section 14
        linked = connections.build(w, limits, self.users, self.presence, found.blocks)
        self.sessions, self.delivery = linked.sessions, linked.delivery
        self.recovery, self.signals = linked.recovery, linked.signals
        self.echo = echo.build(
            w, limits, ports.upstream, self.sessions.take_socket, self.sessions.release_socket
        )
        talk = conversations.build(
            w,
            limits,
            found.blocks,
            self.presence,
            self.users,
            self.files,
            default_topics,
            public_topic,
            self.people,
            roles=found.roles,
        )
        self.directory, self.messages, self.topics = talk.directory, talk.messages, talk.topics
        self.conversations, self.reactions, self.pins = talk.direct, talk.reactions, talk.pins
        moderated = moderation.build(w, self.messages, self.topics.counts, limits.retention_days)
        self.moderation, self.reports = moderated.moderation, moderated.reports
        linked_out = integrations.build(w, limits, self.users, talk, ports.url_guard, ports.poster)
        self.bots, self.hooks, self.webhooks = linked_out.bots, linked_out.hooks, linked_out.webhooks
        self.webhook_map, self.webhook_worker = linked_out.webhook_map, linked_out.webhook_worker
        made = previews.build(w, limits, talk, ports.page_source)  # PROTOCOL.md section 13
        self.previews, self.preview_worker = made.service, made.worker
        told = notifications.build(  # PROTOCOL.md section 15
            w,
            limits,
            talk,
            self.presence,
            ports.push_sender,
            secret,
            composer=ports.composer,
            mailer=ports.mailer,
        )
        self.notifications, self.notifier, self.email = told.preferences, told.notifier, told.email
        self.push, self.push_worker = told.push, told.push_worker
        self.passwords = accounts.build_passwords(  # PROTOCOL.md section 19: change, reset
            w, limits, self.users, self.email.composer, self.email.written, self.roles.of
        )
        self.exports: ExportService | None = None  # PROTOCOL.md section 16
        self.export_worker: ExportWorker | None = None  # a part of w; tests count what it built
        if ports.export_store is not None:
            made_exports = exports.build(w, ports.export_store, ports.file_store)
            self.exports, self.export_worker = made_exports.service, made_exports.worker
        self.retention = retention.build(w, limits, self.files)  # PROTOCOL.md section 16
        self.audit = audit.build(w, limits)  # PROTOCOL.md section 16: Acted facts -> audit rows
        self.emoji = emoji.build(w, self.files)  # PROTOCOL.md section 13: custom emoji
        ops = operators.build(
            w, limits, self.users.hasher, self.presence, default_topics, talk, self.files, ports.export_store
        )
        self.accounts, self.nodes, self.topic_admin = ops.accounts, ops.nodes, ops.topic_admin
        self.housekeeping = ops.housekeeping
        self.erasure, self.erasure_worker = ops.erasure, ops.erasure_worker  # PROTOCOL.md section 16
        joining = workspace.build(w, limits, self.users, self.email)  # PROTOCOL.md section 19
        self.door, self.workspace = joining.door, joining.service
        self.workspace_users = ops.workspace_users  # PROTOCOL.md section 19
        server = backends.build(  # PROTOCOL.md section 17: the server API
            w,
            limits,
            backends.Services(self.users, talk, self.moderation, self.people, self.email, self.audit),
        )
        self.server_keys, self.server_publish = server.keys, server.publisher
        self.server_members, self.server_users = server.members, server.users
        on_nodes = live.build(w, ports.gather or LocalGather(), self.presence)  # PROTOCOL.md section 17
        self.live_events, self.server_presence = on_nodes.events, on_nodes.presence
        self.gather = on_nodes.gather  # the edge answers what only its sockets know
        nodes = ops.nodes
        self.calls = calls.build(  # PROTOCOL.md section 18: calls, signalled here
            w, limits, self.messages, lambda: nodes.name, limits.presence_grace, limits.presence_ttl
        )
        w.attach()

    async def start(self) -> None:
        """Start every part in order; if one fails, what started is stopped and the error raised."""
        try:
            await self.wiring.start()
        except BaseException:
            await self.wiring.stop()
            raise

    async def stop(self) -> None:
        await self.wiring.stop()
