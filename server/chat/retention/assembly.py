"""Retention's part of the composition: the sweep, started on a server (``serving``) only."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.files.service import FileService
from server.chat.kernel.wiring import Wiring
from server.chat.retention.sweep import RetentionSweep


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Messages' retention (PROTOCOL.md section 16)."""

    retention_days: int | None  # days a message is kept (None: for ever)
    retention_interval: float  # seconds between two retention sweeps of one node


def build(w: Wiring, limits: Limits, files: FileService | None) -> RetentionSweep:
    sweep = RetentionSweep(w.db, limits.retention_days, files, interval=limits.retention_interval)
    w.part("retention sweep", sweep.start, sweep.stop, serving=True)  # PROTOCOL.md section 16
    return sweep
