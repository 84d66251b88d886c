"""Search's part of the composition: the service, and a server's backfill of the index."""

from __future__ import annotations

from server.chat.kernel.wiring import Wiring
from server.chat.search.service import SearchService


def build(w: Wiring) -> SearchService:
    search = SearchService(w.db)
    w.part("search backfill", search.start, search.stop, serving=True)  # what a migration left
    return search
