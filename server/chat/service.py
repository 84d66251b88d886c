"""The one service API the transports call: every chat service, built together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from db.uow import Database
from server.chat.accounts import AccountService
from server.chat.blocking import BlockService
from server.chat.bots import BotService
from server.chat.budgets import Budgets, SharedLimit, per_hour
from server.chat.conversations import ConversationService
from server.chat.delivery import DeliveryService
from server.chat.directory import Directory
from server.chat.echo import EchoService, Upstream
from server.chat.events import Event
from server.chat.files import FileLimits, FileService, FileStore
from server.chat.hooks import HookService
from server.chat.housekeeping import Housekeeping
from server.chat.hub import Hub
from server.chat.messages import MessageService
from server.chat.moderation import ModerationService
from server.chat.nodes import NodeService
from server.chat.online import OnlineRegistry
from server.chat.pins import PinService
from server.chat.presence import PresenceService
from server.chat.reactions import ReactionService
from server.chat.recovery import RecoveryService
from server.chat.refill import Refill
from server.chat.reports import ReportService
from server.chat.search import SearchService
from server.chat.security import PasswordHasher, TokenCodec
from server.chat.sessions import SessionService
from server.chat.signals import SignalService
from server.chat.topic_admin import TopicAdminService
from server.chat.topics import TopicService
from server.chat.users import UserService
from server.chat.webhook_worker import WebhookWorker
from server.chat.webhooks import MessageWebhooks, UrlGuard, WebhookService


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The services' limits and timers. Each is a setting of the same name (``server.config``),
    where its default, bounds and meaning are; the composition root copies them
    (``server.chat_factory.limits_from``)."""

    register_per_hour: int
    login_per_hour: int  # failed logins per address
    login_failures_per_account: int
    login_failure_window: float
    topics_per_hour: int  # topics one user creates
    invites_per_hour: int  # invites one user sends
    backlog_per_topic: int
    presence_grace: float
    typing_ttl: float
    cursor_flush_interval: float
    bcrypt_rounds: int
    echo_transcript_bytes: int
    max_connections_per_user: int
    recovery_window: float
    recovery_margin: float
    presence_ttl: float  # a server's heartbeat row (nodes.py) is live this long
    all_mention_limit: int  # members up to which anyone may say ``@all``
    hook_posts_per_minute: int  # posts to one incoming webhook (PROTOCOL.md section 12)
    max_file_bytes: int  # PROTOCOL.md section 11
    file_uploads_per_minute: int
    file_quota_bytes: int
    file_unattached_ttl_seconds: float


class Chat:
    """Users, sessions, topics, conversations, messages, delivery, presence, signals and echo over one
    database."""

    def __init__(
        self,
        db: Database,
        secret: str,
        token_ttl: int,
        limits: Limits,
        default_topics: list[str],
        upstream: Upstream | None = None,
        hub: Hub | None = None,
        registry: OnlineRegistry | None = None,
        file_store: FileStore | None = None,
        url_guard: UrlGuard | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.db = db
        self.budgets = budgets  # several nodes: the limits below hold for the cluster
        self.hub = hub or Hub()
        self.directory = Directory(db)
        self.hub.attach(self.directory)  # first: the send path must see a change before clients do
        db.on_commit = self._publish
        self.default_topics = default_topics
        self.presence = PresenceService(
            db, self.hub, limits.presence_grace, registry, blocks=self.directory.blocks
        )
        self.users = UserService(
            db,
            PasswordHasher(limits.bcrypt_rounds),
            TokenCodec(secret, token_ttl),
            self.presence,
            per_hour("sign-ups", limits.register_per_hour, budgets),
            per_hour("failed-logins", limits.login_per_hour, budgets),
            SharedLimit(
                "account-failures", limits.login_failures_per_account, limits.login_failure_window, budgets
            ),
        )
        self.hub.attach(self.users.known)  # before transports: a logout is seen before sockets close
        self.hub.attach(self.users.known_tokens)  # likewise a revoked API token (section 12)
        self.files = (  # PROTOCOL.md section 11; no store (the command line): no uploads
            None
            if file_store is None
            else FileService(
                db,
                file_store,
                FileLimits(
                    max_bytes=limits.max_file_bytes,
                    uploads_per_minute=limits.file_uploads_per_minute,
                    quota_bytes=limits.file_quota_bytes,
                    unattached_ttl=limits.file_unattached_ttl_seconds,
                ),
                SharedLimit("uploads", limits.file_uploads_per_minute, 60.0, budgets),
            )
        )
        self.messages = MessageService(
            db,
            self.directory,
            limits.all_mention_limit,
            self.files,
            (MessageWebhooks(self.directory.webhooks),),
        )
        self.topics = TopicService(
            db,
            self.presence,
            self.messages,
            per_hour("topics", limits.topics_per_hour, budgets),
            per_hour("invites", limits.invites_per_hour, budgets),
        )
        self.reactions = ReactionService(db, self.directory)
        self.pins = PinService(db, self.directory, self.messages)
        self.moderation = ModerationService(db, self.messages, self.presence.online_among)
        self.conversations = ConversationService(db)
        self.blocks = BlockService(db)  # PROTOCOL.md section 10
        self.reports = ReportService(db)
        self.bots = BotService(db, self.users, self.messages)  # PROTOCOL.md section 12
        self.hooks = HookService(
            db, self.bots, SharedLimit("hook-posts", limits.hook_posts_per_minute, 60.0, budgets)
        )
        self.search = SearchService(db)  # PROTOCOL.md section 9
        self.webhooks = WebhookService(db, self.directory.webhooks, url_guard, self.bots)  # section 12
        self.webhook_worker: WebhookWorker | None = None  # a server's; started with it (server.app)
        self.housekeeping: Housekeeping | None = None  # a server's pruning of old rows (server.app)
        self.delivery = DeliveryService(db, limits.backlog_per_topic, limits.cursor_flush_interval)
        self.hub.attach(self.delivery)  # every node's stored messages bound the cursors here
        self.signals = SignalService(db, self.hub, limits.typing_ttl, blocks=self.directory.blocks)
        self.recovery = RecoveryService(
            db, limits.recovery_window, limits.recovery_margin, limits.backlog_per_topic
        )
        self.sessions = SessionService(
            db,
            self.users,
            self.presence,
            self.delivery,
            self.signals,
            self.recovery,
            limits.max_connections_per_user,
            budgets,
        )
        self.hub.attach(self.sessions)  # before transports: a revocation reaches opens under way
        # What the hub missed (a broker outage) is read back from the database; after the caches
        # above forgot what they knew, the memberships of the users here are read and told to the
        # transports (PROTOCOL.md section 4, "Several nodes").
        refill = Refill(db, self.directory.blocks, self.hub, self.sessions.token_versions)
        self.hub.missed = refill
        self.hub.attach(refill)
        # An echo socket is one of the user's sockets too (PROTOCOL.md section 2: ``/echo`` included).
        sockets = self.sessions
        self.echo = EchoService(
            db, upstream, limits.echo_transcript_bytes, sockets.take_socket, sockets.release_socket
        )
        self.users.on_registered.append(self._join_defaults)
        # Operator commands (``parley user|topic|stats``)
        self.accounts = AccountService(db, self.users.hasher)
        self.nodes = NodeService(db, self.presence, limits.presence_ttl)  # started by a server only
        self.topic_admin = TopicAdminService(db, self.nodes, default_topics)

    async def start(self) -> None:
        await self.db.search.check()  # SQLite without FTS5: refuse to start, saying why
        if self.budgets is not None:
            await self.budgets.start()
        await self.hub.start()
        await self.directory.webhooks.load()  # before any send: the send path asks it
        await self.presence.start()
        for name in self.default_topics:
            await self.topics.ensure_public(name)
        self.delivery.start()
        self.recovery.start()
        if self.files is not None:
            self.files.start()

    async def stop(self) -> None:
        await self.messages.writer.drain()
        await self.signals.close()
        await self.presence.close()
        await self.delivery.stop()
        await self.recovery.stop()
        if self.files is not None:
            await self.files.stop()
        await self.echo.stop()
        await self.hub.stop()
        if self.budgets is not None:
            await self.budgets.stop()

    async def _publish(self, events: list[object]) -> None:
        await self.hub.publish(*cast(list[Event], events))

    async def _join_defaults(self, user_id: int) -> None:
        await self.topics.join(user_id, self.default_topics)
