"""The audit log's part of the composition. It listens: a commit handler turns the ``Acted`` facts
any capability notes into rows of the same transaction; the service lists them."""

from __future__ import annotations

from dataclasses import dataclass

from db.audit.repository import AuditRepository
from server.chat.audit.log import AuditService, AuditWriter
from server.chat.kernel.wiring import Wiring


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The audit log's life (PROTOCOL.md section 16)."""

    audit_retention_days: int  # days an audit row is kept


def build(w: Wiring, limits: Limits) -> AuditService:
    w.before_commit(AuditWriter())  # Acted facts -> audit rows, before the commit
    prune_audit(w, limits.audit_retention_days * 86400.0)
    return AuditService(w.db)


def prune_audit(w: Wiring, keep: float) -> None:
    """Housekeeping: audit rows written more than ``keep`` seconds ago, oldest first."""
    w.prune("audit", keep, lambda repos, before, limit: repos.of(AuditRepository).prune(before, limit))
