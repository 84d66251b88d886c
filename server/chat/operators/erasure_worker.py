"""The erasure worker (PROTOCOL.md section 16): finishes what ``ErasureService`` began, off the
request, one node per job.

It takes a job (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, then a lease it renews after every
batch; SQLite has one worker, and a lease a killed process left is void when it starts) and runs
its steps: the profile and everything of notifications (one transaction), then the user's
reactions, the messages it sent (each a tombstone, told to its topic) and its uploads (rows, then
the blobs no row names), each ``batch`` at a time in a transaction of its own, ``pause`` seconds
apart so that sends are never held up for long; last, the account is marked erased and the job
goes. Then nothing of it may stay at rest, where a backup would copy it: the user's exports (ZIPs,
then rows), the pushes and digest rows that told others of its messages, the preview cache's entries
of its URLs that no one else's message shows (before its messages lose their links), and the words
in the search index's old segments (``purge``); on SQLite every connection zeroes what it deletes
(``secure_delete``) and the WAL is checkpointed and truncated once the job is done. Each step finds
what is left of its work, so a job taken over after a crash (a lease that ran out, a restart) just
runs again and finishes. Woken when this node wrote a job, it polls for jobs other processes wrote
(a ``parley user delete --erase`` when no server ran it, another node).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import orjson

from db.uow import Database
from server.chat.conversations.messages import MessageService
from server.chat.conversations.reactions import ReactionService
from server.chat.exports.ports import ExportStore
from server.chat.files.service import FileService
from server.chat.kernel.periodic import IdlePoll, QueueLoop
from server.chat.previews.worker import url_key

log = logging.getLogger("parley.erasure")


class ErasureWorker:
    def __init__(
        self,
        db: Database,
        messages: MessageService,
        reactions: ReactionService,
        files: FileService | None,
        *,
        batch: int,
        pause: float,
        lease: float,
        single: bool,
        exports: ExportStore | None = None,
    ) -> None:
        self.db = db
        self.exports = exports  # None: no export store (a chat without a data directory)
        self.messages = messages
        self.reactions = reactions
        self.files = files  # None (the command line): blobs are left to a server's orphan sweep
        self.batch = batch
        self.pause = pause
        self.lease = timedelta(seconds=lease)
        self.single = single
        self._loop = QueueLoop(
            self._round, IdlePoll(1.0, 4.0), "erasing accounts", prepare=self._release if single else None
        )

    def wake(self) -> None:
        """A job was written: look now."""
        self._loop.ring()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def run(self, user_id: int) -> bool:
        """Take ``user_id``'s job (when nobody holds it) and finish it here; False when it is held
        elsewhere (or gone: finished already)."""
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            taken = await repos.erasure.claim(now, now + self.lease, user_id)
        if taken is None:
            return False
        await self._erase(taken)
        return True

    async def _release(self) -> None:
        """SQLite: the only worker; the leases a killed process left are void."""
        async with self.db.write() as repos:
            await repos.erasure.release_leases()

    async def _round(self) -> int:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            user_id = await repos.erasure.claim(now, now + self.lease)
        if user_id is None:
            return 0
        await self._erase(user_id)
        return 1

    async def _erase(self, user_id: int) -> None:
        log.info("erasing an account", extra={"user_id": user_id})
        async with self.db.write() as repos:
            await repos.erasure.wipe_profile(user_id)
            await repos.erasure.wipe_notifications(user_id)
        await self._forget_exports(user_id)
        await self._forget_previews(user_id)
        while True:
            while await self.reactions.withdraw_all(user_id, self.batch):
                await self._between(user_id)
            while await self.messages.erase_sent(user_id, self.batch):
                await self._between(user_id)
            while await self._uploads(user_id):
                await self._between(user_id)
            if await self._finish(user_id):
                break
        await self.db.search.purge()
        await self.db.checkpoint()
        log.info("erased an account", extra={"user_id": user_id})

    async def _forget_exports(self, user_id: int) -> None:
        """The user's exports: each ZIP, then the rows (a crash between: the rows are found again)."""
        async with self.db.read() as repos:
            export_ids = await repos.erasure.exports(user_id)
        if self.exports is not None:
            for export_id in export_ids:
                await self.exports.remove(export_id)
        async with self.db.write() as repos:
            await repos.erasure.forget_exports(export_ids)

    async def _forget_previews(self, user_id: int) -> None:
        """The cache entries of the URLs the user posted that no one else's message shows, a page
        of messages at a time; before the messages lose their links, so a crash loses none."""
        after = 0
        while True:
            async with self.db.read() as repos:
                page = await repos.erasure.links_after(user_id, after, self.batch)
            if not page:
                return
            urls = {url: url for _, links in page for url in orjson.loads(links)}
            async with self.db.write() as repos:
                await repos.previews.forget_unheld({url_key(url): url for url in urls}, user_id)
            after = page[-1][0]

    async def _finish(self, user_id: int) -> bool:
        """Mark the account erased, unless a send, a reaction or an upload that was in flight when
        it was disabled landed meanwhile (then the steps run again first)."""
        async with self.db.write() as repos:
            left = repos.erasure
            if await left.sent(user_id, 1) or await left.reacted(user_id, 1):
                return False
            if await left.owns_files(user_id):
                return False
            await repos.erasure.forget_told(user_id)
            await repos.erasure.finish(user_id, datetime.now(UTC))
        return True

    async def _uploads(self, user_id: int) -> int:
        async with self.db.write() as repos:
            sha256s = await repos.erasure.uploads(user_id, self.batch)
        if sha256s and self.files is not None:
            await self.files.release(sha256s)
        return len(sha256s)

    async def _between(self, user_id: int) -> None:
        """After a batch: the lease goes on, and sends get the database for a while."""
        async with self.db.write() as repos:
            await repos.erasure.renew(user_id, datetime.now(UTC) + self.lease)
        if self.pause > 0:
            await asyncio.sleep(self.pause)
