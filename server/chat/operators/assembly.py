"""The operators' part of the composition: the services of ``parley user|topic|stats`` and the
Admin UI, a server's heartbeat row and its housekeeping."""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.accounts.security import PasswordHasher
from server.chat.conversations.assembly import Conversations
from server.chat.exports.ports import ExportStore
from server.chat.files.service import FileService
from server.chat.kernel.budgets import per_hour
from server.chat.kernel.limits import OutboundLimits
from server.chat.kernel.wiring import Wiring
from server.chat.operators.accounts import AccountService
from server.chat.operators.erasure import WRONG_PASSWORDS_PER_HOUR, ErasureService
from server.chat.operators.erasure_worker import ErasureWorker
from server.chat.operators.housekeeping import Housekeeping, prune_relay
from server.chat.operators.nodes import NodeService
from server.chat.operators.topic_admin import TopicAdminService
from server.chat.operators.workspace_users import WorkspaceUsers
from server.chat.presence.service import PresenceService


@dataclass(frozen=True, kw_only=True)
class Limits(OutboundLimits):
    """A node's heartbeat row and erasure (PROTOCOL.md section 16; it leases its job as the workers do)."""

    presence_ttl: float  # a server's heartbeat row is live this long
    erasure_batch: int  # rows an erasure changes per transaction
    erasure_pause: float  # seconds between an erasure's batches


@dataclass(frozen=True)
class Operators:
    accounts: AccountService
    nodes: NodeService
    topic_admin: TopicAdminService
    housekeeping: Housekeeping
    erasure: ErasureService  # PROTOCOL.md section 16
    erasure_worker: ErasureWorker
    workspace_users: WorkspaceUsers  # PROTOCOL.md section 19: roles and disabling by owners and admins


def build(
    w: Wiring,
    limits: Limits,
    hasher: PasswordHasher,
    presence: PresenceService,
    default_topics: list[str],
    talk: Conversations,
    files: FileService | None,
    exports: ExportStore | None = None,
) -> Operators:
    nodes = NodeService(w.db, presence, limits.presence_ttl)
    w.part("node heartbeat", nodes.start, nodes.stop, serving=True)  # a row for parley stats
    prune_relay(w)  # the other tables' prunings are registered by their capabilities' builds
    housekeeping = Housekeeping(w.db, w.prunings)
    w.part("housekeeping", housekeeping.start, housekeeping.stop, serving=True)  # old rows pruned
    worker, erasure = build_erasure(w, limits, hasher, talk, files, exports)
    return Operators(
        AccountService(w.db, hasher),
        nodes,
        TopicAdminService(w.db, nodes, default_topics),
        housekeeping,
        erasure,
        worker,
        WorkspaceUsers(w.db, talk.directory.roles),
    )


def build_erasure(
    w: Wiring,
    limits: Limits,
    hasher: PasswordHasher,
    talk: Conversations,
    files: FileService | None,
    exports: ExportStore | None = None,
) -> tuple[ErasureWorker, ErasureService]:
    """Erasure (PROTOCOL.md section 16): the service that begins one and the worker that finishes
    it, a server's (the command line runs the job it wrote itself: ``ErasureWorker.run``)."""
    worker = ErasureWorker(
        w.db,
        talk.messages,
        talk.reactions,
        files,
        batch=limits.erasure_batch,
        pause=limits.erasure_pause,
        lease=limits.webhook_lease,
        single=is_sqlite(w.db.url),
        exports=exports,  # the user's export ZIPs go too
    )
    w.part("erasure worker", worker.start, worker.stop, serving=True)
    return worker, ErasureService(
        w.db, hasher, worker, per_hour("erasure-passwords", WRONG_PASSWORDS_PER_HOUR, w.budgets)
    )
