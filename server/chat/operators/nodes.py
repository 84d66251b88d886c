"""Each running server's heartbeat row in the database: what ``parley stats`` shows per node.

The command line is a process of its own: it cannot see a server's sockets, with or without
Redis, but every server and the command line share the database. So each server (``parley
serve``, every worker, every host) keeps one row in ``node`` with its open sockets and
connected users, rewritten every ``ttl / 3`` seconds and removed when it stops. A row that has
not been rewritten for ``ttl`` seconds is a server that was killed: ``live`` leaves it out and
the next beat of any server prunes it. The times are each server's own clock, so the hosts'
clocks must agree to well within ``ttl`` (NTP does).

One write every few seconds per server, whatever the traffic: nothing on the message path.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from db.uow import Database
from server.chat.kernel.periodic import Periodic
from server.chat.kernel.views import iso_required
from server.chat.operators.schemas import NodeOut
from server.chat.presence.service import PresenceService

log = logging.getLogger("parley.nodes")


def node_name() -> str:
    """``host:pid:tag``: where to look for the process, plus a tag (one process may run two apps)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:4]}"


class NodeService:
    def __init__(self, db: Database, presence: PresenceService, ttl: float) -> None:
        self.db = db
        self.presence = presence
        self.ttl = ttl
        self.name = node_name()
        self.started_at = datetime.now(UTC)
        self._beating = Periodic(self.beat, ttl / 3, "writing this node's heartbeat row")

    async def start(self) -> None:
        """Write the first row now (a server is counted from its start), then keep beating."""
        await self.beat()
        self._beating.start()

    async def stop(self) -> None:
        """Stop beating and remove the row: a stopped server is not a node any more.

        A failure to remove it (the database went away first) only logs: the row goes stale
        within ``ttl`` and the next live server prunes it, and the shutdown goes on.
        """
        await self._beating.stop()
        try:
            async with self.db.write() as repos:
                await repos.nodes.remove(self.name)
        except Exception as exc:
            log.warning("could not remove this node's heartbeat row (%s); it goes stale", exc)

    async def beat(self) -> None:
        now = datetime.now(UTC)
        sockets, users = self.presence.here()
        async with self.db.write() as repos:
            await repos.nodes.prune(now - timedelta(seconds=self.ttl))
            await repos.nodes.beat(self.name, self.started_at, now, sockets, users)

    async def live(self) -> list[NodeOut]:
        """Every server that beat within ``ttl``, by name."""
        since = datetime.now(UTC) - timedelta(seconds=self.ttl)
        async with self.db.read() as repos:
            rows = await repos.nodes.live(since)
        return [
            NodeOut(
                node=row.name,
                sockets=row.sockets,
                users=row.users,
                started_at=iso_required(row.started_at),
                beat_at=iso_required(row.beat_at),
            )
            for row in rows
        ]
