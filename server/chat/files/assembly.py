"""The files' part of the composition: no store (the command line), no uploads."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.files.service import FileLimits, FileService, FileStore
from server.chat.kernel.budgets import SharedLimit
from server.chat.kernel.wiring import Wiring


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Uploads (PROTOCOL.md section 11)."""

    max_file_bytes: int
    file_uploads_per_minute: int
    file_quota_bytes: int
    file_unattached_ttl_seconds: float


def build(w: Wiring, limits: Limits, store: FileStore | None) -> FileService | None:
    if store is None:
        return None
    files = FileService(
        w.db,
        store,
        FileLimits(
            max_bytes=limits.max_file_bytes,
            uploads_per_minute=limits.file_uploads_per_minute,
            quota_bytes=limits.file_quota_bytes,
            unattached_ttl=limits.file_unattached_ttl_seconds,
        ),
        SharedLimit("uploads", limits.file_uploads_per_minute, 60.0, w.budgets),
    )
    w.part("file sweeps", files.start, files.stop)
    return files
