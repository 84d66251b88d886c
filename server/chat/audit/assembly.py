"""The audit log's part of the composition. It listens: a commit handler turns the ``Acted`` facts
any capability notes into rows of the same transaction; the service lists them."""

from __future__ import annotations

from server.chat.audit.log import AuditService, AuditWriter
from server.chat.kernel.wiring import Wiring


def build(w: Wiring) -> AuditService:
    w.before_commit(AuditWriter())  # Acted facts -> audit rows, before the commit
    return AuditService(w.db)
