"""Exports' part of the composition (PROTOCOL.md section 16): the service the transports call, a
server's worker that builds the ZIPs, and its pass that removes them after 7 days. Without an
export store (a chat built for tests without a data directory) there is no export service."""

from __future__ import annotations

from dataclasses import dataclass

from db.engine import is_sqlite
from server.chat.exports.clock import Clock
from server.chat.exports.ports import ExportStore
from server.chat.exports.service import ExportService
from server.chat.exports.worker import ExportWorker
from server.chat.files.service import FileStore
from server.chat.kernel.wiring import Wiring


@dataclass(frozen=True)
class Exports:
    service: ExportService
    worker: ExportWorker


def build(w: Wiring, store: ExportStore, files: FileStore | None) -> Exports:
    clock = Clock()
    worker = ExportWorker(w.db, store, files, clock, single=is_sqlite(w.db.url))
    service = ExportService(w.db, store, clock, worker.wake)
    w.part("export worker", worker.start, worker.stop, serving=True)
    w.part("export removal", service.sweep.start, service.sweep.stop, serving=True)
    return Exports(service, worker)
