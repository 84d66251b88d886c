"""The previews worker (PROTOCOL.md section 13): drains the queue of messages waiting for previews,
one per node, never on the send path.

It takes the messages of the queue (``db.previews.repository``: new messages with links
waiting, then edits and retries) ``BATCH`` together, leased on PostgreSQL so one node works on a
message at a time (SQLite's one worker keeps them in memory, ``_working``). For each message, each
of the first ``PREVIEWED`` links is looked up in the cache; a URL missing or expired there is
claimed by one worker of the cluster (``PreviewRepository.claim``), fetched through the
``PageSource`` port (the address guard, limits and parsing live in
``server.adapters.preview_http``) and stored for ``ttl`` seconds (a URL that gives no preview
for at most ``NONE_TTL``: a site that was down gets another chance the same day). A message one
of whose URLs another worker is fetching is postponed by ``RETRY`` seconds and finds the cache
filled then: so a URL in 50 messages on two nodes is fetched once.

Once every link is answered the previews are kept on the message (as rendered, so every later
rendering reads one row) in a transaction that first checks the message still has the links
they were made for (an edit during the fetch makes the job due again instead) and records
``message:previews`` for the members when they changed. While the database is down the worker
goes on polling and the outage is logged once per class (``server.chat.kernel.outage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from db.previews.repository import NONE, READY, CachedPreview, PreviewTarget
from db.repositories import Repositories
from db.uow import Database
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.periodic import IdlePoll, cancelled
from server.chat.previews.events import previews_changed, sender_place
from server.chat.previews.ports import Page, PageSource, Picture
from server.chat.previews.queue import Bell

log = logging.getLogger("parley.previews")

BATCH = 8  # messages taken and made together: one read, one claim and one write for them all
CONCURRENT = 2  # batches worked on at once per node
PREVIEWED = 3  # links of a message that get a preview
POLL = 1.0  # seconds between looks at the queue when nothing rang, after a look that found work
IDLE_POLL = 4.0  # ... and at most this long apart while looks find nothing (kernel.periodic.IdlePoll)
RETRY = 0.5  # seconds before a message waiting for another worker's fetch is looked at again
# A batch waits for the sends to be quiet (no send batch for ``QUIET`` seconds) at most ``YIELD``
# seconds: on SQLite each of its write transactions holds the lock the send batches take.
YIELD, QUIET, YIELD_STEP = 5.0, 0.2, 0.02
NONE_TTL = 3600.0  # a URL that gave no preview is tried again after at most an hour
PRUNE_EVERY = 600.0  # seconds between prunes of the cache (entries unused a TTL past their expiry)
PRUNE_BATCH = 500
# A new message waits for its previews at most this long: one stored while previews were off (no
# worker) gets none when they are switched on a week later, and a server down for longer than
# that does not fetch a week of old links at its start.
WAITS = timedelta(days=7)


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


Made = tuple[dict[str, Any], int | None]  # a Preview object and its picture's id


def rendered(url: str, cached: CachedPreview) -> Made | None:
    """A Preview object (PROTOCOL.md section 13) from the cache; None for a URL without one."""
    if cached.state != READY:
        return None
    image = None
    if cached.image_id is not None:
        image = {
            "url": f"/api/previews/{cached.image_id}/image",
            "width": cached.width,
            "height": cached.height,
        }
    preview = {
        "url": url,
        "title": cached.title,
        "description": cached.description,
        "site_name": cached.site_name,
        "image": image,
    }
    return preview, cached.image_id


class Sends(Protocol):
    """What the worker sees of the sends (``server.chat.conversations.writer.Writer``)."""

    batches: int  # send batches stored so far

    @property
    def busy(self) -> bool:
        """Sends are being stored or wait to be."""


class PreviewWorker:
    def __init__(
        self,
        db: Database,
        source: PageSource,
        bell: Bell,
        *,
        ttl: float,
        lease: float = 30.0,
        single: bool,
        sends: Sends | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.bell = bell
        self._poll = IdlePoll(POLL, IDLE_POLL)
        self.ttl = timedelta(seconds=ttl)
        self.none_ttl = timedelta(seconds=min(ttl, NONE_TTL))
        self.lease = timedelta(seconds=lease)  # longer than a page and its picture may take
        self.single = single  # SQLite: the only worker; leases a killed one left are void
        self.sends = sends  # the conversations' writer: previews wait for its bursts to end
        self.fetches = 0  # pages this node fetched (the tests count them)
        self._inflight: set[asyncio.Task[None]] = set()
        self._working: set[int] = set()  # messages taken by the batches in flight
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancelled(self._task, *self._inflight)
        self._task = None
        await self.source.close()

    async def _run(self) -> None:
        outage = False
        released = not self.single
        pruned = 0.0
        loop = asyncio.get_running_loop()
        while True:
            self.bell.event.clear()
            free = CONCURRENT - len(self._inflight)
            taken = 0
            try:
                if not released:
                    async with self.db.write() as repos:
                        await repos.previews.release_leases()
                    released = True
                if free > 0:
                    await self._yield_to_sends()
                    taken = self._start(await self._due(BATCH))
                if loop.time() - pruned > PRUNE_EVERY:
                    await self._prune()
                    pruned = loop.time()
            except Exception as exc:
                if DATABASE.failed(exc, "taking messages waiting for previews"):
                    outage = True
                else:
                    log.exception("taking messages waiting for previews failed; trying again")
            else:
                if outage:
                    DATABASE.recovered()
                outage = False
            if taken == BATCH and free > 1:
                continue  # more may be due
            self._poll.looked(taken or len(self._inflight))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll.wait):
                    await self.bell.event.wait()

    async def _prune(self) -> None:
        """Entries nobody linked to for a TTL past their expiry go, with the pictures no message
        shows: the cache stays the size of what is in use (on several nodes each prunes; the
        deletes are idempotent)."""
        before = datetime.now(UTC) - self.ttl
        while True:
            async with self.db.write() as repos:
                if await repos.previews.prune(before, PRUNE_BATCH) < PRUNE_BATCH:
                    return

    async def _due(self, limit: int) -> list[int]:
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            return await repos.previews.due(
                now,
                now + self.lease,
                limit,
                since=now - WAITS,
                working=self._working,
                lease_new=not self.single,
            )

    def _start(self, message_ids: list[int]) -> int:
        if message_ids:
            self._working.update(message_ids)
            task = asyncio.create_task(self._work(message_ids))
            self._inflight.add(task)
            task.add_done_callback(lambda done: self._done(done, message_ids))
        return len(message_ids)

    def _done(self, task: asyncio.Task[None], message_ids: list[int]) -> None:
        self._inflight.discard(task)
        self._working.difference_update(message_ids)
        self.bell.ring()  # a slot is free

    async def _work(self, message_ids: list[int]) -> None:
        try:
            await self._make(message_ids)
            return
        except Exception as exc:
            if DATABASE.failed(exc, "making link previews"):
                return  # the leases end and the jobs are taken again
            if len(message_ids) == 1:
                log.exception("link previews could not be made", extra={"message": message_ids[0]})
                await self._later(message_ids[0])
                return
        for message_id in message_ids:  # the one at fault fails alone (its lease ends: taken again)
            await self._work([message_id])

    async def _later(self, message_id: int) -> None:
        """A message whose previews failed is tried again after a lease's time, as when a node
        dies holding it (not at once: SQLite's worker holds no lease, and would take it again)."""
        try:
            async with self.db.write() as repos:
                await repos.previews.postpone(message_id, datetime.now(UTC) + self.lease)
        except Exception as exc:
            if not DATABASE.failed(exc, "postponing link previews"):
                log.exception("link previews could not be postponed", extra={"message": message_id})

    async def _make(self, message_ids: list[int]) -> None:
        """For a batch of messages: one read (the messages and the cache), one claim of the URLs
        to fetch, the fetches, and one write that stores what was fetched and shows the previews
        (a message one of whose URLs another worker is fetching is postponed): three transactions
        however many messages when a URL is new, two when every one is cached. On SQLite a write
        transaction holds the lock the send batches take: a few per batch, not a few per message,
        and each after a burst of sends (``_yield_to_sends``)."""
        await self._yield_to_sends()
        now = datetime.now(UTC)
        targets: dict[int, PreviewTarget] = {}
        gone: list[int] = []
        cached: dict[str, CachedPreview | None] = {}
        async with self.db.read() as repos:
            found = await repos.previews.targets(message_ids)
            for message_id in message_ids:
                target = found.get(message_id)
                if target is None or target.gone or (not target.links and not target.previews):
                    gone.append(message_id)
                    continue
                targets[message_id] = target
                for url in target.links[:PREVIEWED]:
                    if url not in cached:
                        cached[url] = await repos.previews.cached(url_key(url), now)
        missing = [url for url, entry in cached.items() if entry is None]
        claimed: list[str] = []
        if missing or gone:
            async with self.db.write() as repos:
                await repos.previews.drop(*gone)
                claimed = [
                    url
                    for url in missing
                    if await repos.previews.claim(url_key(url), url, now, now + self.lease)
                ]
        if not targets:
            return
        fetched = await asyncio.gather(*(self._fetch(url) for url in claimed))
        await self._yield_to_sends()
        now = datetime.now(UTC)
        async with self.db.write() as repos:
            for url, (page, picture) in zip(claimed, fetched, strict=True):
                cached[url] = await self._store(repos, url, page, picture, now)
            current = await repos.previews.targets(list(targets), lock=True)
            done: list[int] = []  # jobs with nothing (more) to do: dropped in one statement
            for message_id, made_for in targets.items():
                urls = made_for.links[:PREVIEWED]
                if any(cached[url] is None for url in urls):  # another worker is fetching one
                    await repos.previews.postpone(message_id, now + timedelta(seconds=RETRY))
                    continue
                made = [
                    m for url in urls if (entry := cached[url]) is not None and (m := rendered(url, entry))
                ]
                if await self._show(repos, made_for, current.get(message_id), made):
                    done.append(message_id)
            await repos.previews.drop(*done)

    async def _yield_to_sends(self) -> None:
        """Let a burst of sends go first (for at most ``YIELD`` seconds): previews come after the
        send is acknowledged, and never at the cost of the next send's ack. Quiet is no send batch
        for ``QUIET`` seconds (under a steady load the writer is idle between batches for a moment,
        longer the slower the machine: that is not the end of the burst)."""
        sends = self.sends
        if sends is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + YIELD
        seen, quiet_since = sends.batches, loop.time()
        while loop.time() < deadline:
            await asyncio.sleep(YIELD_STEP)
            if sends.busy or sends.batches != seen:
                seen, quiet_since = sends.batches, loop.time()
            elif loop.time() - quiet_since >= QUIET:
                return

    async def _fetch(self, url: str) -> tuple[Page | None, Picture | None]:
        self.fetches += 1
        page = await self.source.page(url)
        picture = None
        if page is not None and page.image_url is not None:
            picture = await self.source.picture(page.image_url)
        return page, picture

    async def _store(
        self, repos: Repositories, url: str, page: Page | None, picture: Picture | None, now: datetime
    ) -> CachedPreview:
        key = url_key(url)
        if page is None:
            await repos.previews.store(key, NONE, now + self.none_ttl, now=now)
            return CachedPreview(NONE, "", "", "", None, 0, 0)
        image = (
            None if picture is None else (picture.data, picture.content_type, picture.width, picture.height)
        )
        image_id = await repos.previews.store(
            key,
            READY,
            now + self.ttl,
            title=page.title,
            description=page.description,
            site_name=page.site_name,
            picture=image,
            now=now,
        )
        width, height = (picture.width, picture.height) if picture is not None else (0, 0)
        return CachedPreview(READY, page.title, page.description, page.site_name, image_id, width, height)

    async def _show(
        self, repos: Repositories, made_for: PreviewTarget, target: PreviewTarget | None, made: list[Made]
    ) -> bool:
        """Show what was made on the message as it is now (``target``, its row locked); True when
        only its job is left to drop."""
        message_id = made_for.message_id
        if target is None or target.gone:
            return True
        if target.links != made_for.links:  # edited while we fetched: make those of the new links
            await repos.previews.postpone(message_id, datetime.now(UTC))
            return False
        previews = [preview for preview, _ in made]
        if not previews and not target.previews:  # none to show and none shown (so no pictures)
            return True
        await repos.previews.show(message_id, previews, [i for _, i in made if i is not None])
        if previews != list(target.previews):
            found = await sender_place(repos, target.topic_id, target.sender_id)
            if found is not None:
                place, sender = found
                repos.record(*previews_changed(place, sender, message_id, previews))
        return False
