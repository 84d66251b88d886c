"""Link previews (PROTOCOL.md section 13): the queue of messages waiting for previews, the cache of
one preview per URL, the re-encoded pictures and which messages show them.

The queue is the messages themselves: a message with links whose ``previews`` is still NULL waits
(the partial index ``ix_messages_previews_waiting``), so a send writes nothing more than its row
and a restart loses none; its previews (``[]`` for none) take it out. ``preview_jobs`` holds what
is rare: an edit's new links, a retry at a later time, and on PostgreSQL the lease a node takes on
a message (``due`` leases with ``FOR UPDATE SKIP LOCKED`` and ``locked_until``; a new message's
lease is an insert that only one node's succeeds), so one node works on a message at a time.
SQLite's one worker keeps what it works on in memory. The cache (``link_previews``) is what makes a
URL fetched once however many messages and nodes carry it: ``claim`` turns a missing or expired
entry into ``fetching`` in one statement (an upsert whose update has a condition), and only the
worker whose claim returned a row fetches; the others wait for the entry to be ready.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.conversations.extras import previews_json
from db.conversations.tables import Membership, Message, Topic
from db.previews.tables import LinkPreview, MessagePreviewImage, PreviewImage, PreviewJob

FETCHING = "fetching"
READY = "ready"
NONE = "none"  # fetched: no preview (not HTML, no title, refused, too slow or too big)
SHOWN_NONE = "[]"  # ``messages.previews`` of a message done with no preview (NULL: still waiting)


@dataclass(frozen=True, slots=True)
class PreviewTarget:
    """What a worker needs of a message waiting for previews."""

    message_id: int
    topic_id: int
    sender_id: int
    links: tuple[str, ...]
    previews: tuple[dict[str, object], ...]
    gone: bool  # deleted, or its sender removed its previews: nothing to make


@dataclass(frozen=True, slots=True)
class CachedPreview:
    state: str  # READY or NONE
    title: str
    description: str
    site_name: str
    image_id: int | None
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StoredPicture:
    data: bytes
    content_type: str


def _new_waiting(since: datetime) -> tuple[Any, ...]:
    """New messages waiting since ``since`` or later, no job row holding them: the first two
    terms are the partial index's condition, so the planners read that index."""
    return (
        col(Message.links).is_not(None),
        col(Message.previews).is_(None),
        col(Message.created_at) >= since,
        ~exists().where(col(PreviewJob.message_id) == col(Message.id)),
    )


class PreviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # The queue ---------------------------------------------------------------------------

    async def enqueue(self, message_id: int, now: datetime) -> None:
        """Make ``message_id`` due now (a new job, or an edit of a message that has one)."""
        insert = pg_insert if self._postgres() else sqlite_insert
        statement = insert(PreviewJob).values(message_id=message_id, due_at=now, attempts=0)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["message_id"], set_={"due_at": now})
        )

    async def due(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        *,
        since: datetime,
        working: Collection[int] = (),
        lease_new: bool = True,
    ) -> list[int]:
        """Take up to ``limit`` messages to make previews for: due jobs without a live lease first
        (leased until ``lease_until``), then new messages waiting since ``since`` or later, oldest
        first. ``working``: new messages this worker has already taken. ``lease_new``: lease
        those too (several workers: PostgreSQL); SQLite's one worker keeps them in memory."""
        query = (
            select(col(PreviewJob.message_id))
            .where(
                col(PreviewJob.due_at) <= now,
                or_(col(PreviewJob.locked_until).is_(None), col(PreviewJob.locked_until) <= now),
            )
            .order_by(col(PreviewJob.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one worker
        )
        taken = list((await self.session.execute(query)).scalars())
        if taken:
            await self.session.execute(
                update(PreviewJob)
                .where(col(PreviewJob.message_id).in_(taken))
                .values(locked_until=lease_until)
            )
        if len(taken) < limit:
            taken += await self._new(now, lease_until, limit - len(taken), since, working, lease_new)
        return taken

    async def _new(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        since: datetime,
        working: Collection[int],
        lease_new: bool,
    ) -> list[int]:
        """New messages waiting (the partial index's rows) that no job row holds."""
        query = select(col(Message.id)).where(*_new_waiting(since)).order_by(col(Message.id)).limit(limit)
        if working:
            query = query.where(col(Message.id).not_in(list(working)))
        found = [int(i or 0) for i in (await self.session.execute(query)).scalars()]  # ids: never NULL
        if not found or not lease_new:
            return found
        insert = pg_insert if self._postgres() else sqlite_insert
        table = PreviewJob.__table__  # type: ignore[attr-defined]
        rows = [{"message_id": i, "due_at": now, "locked_until": lease_until, "attempts": 0} for i in found]
        statement = insert(PreviewJob).values(rows).on_conflict_do_nothing().returning(table.c.message_id)
        return sorted(int(i) for i in (await self.session.execute(statement)).scalars())

    async def waiting(self, since: datetime) -> int:
        """How many messages wait for previews (jobs and new messages): what the tests wait on."""
        new = select(func.count()).where(*_new_waiting(since))
        jobs = select(func.count()).select_from(PreviewJob)
        return int((await self.session.execute(new)).scalar_one()) + int(
            (await self.session.execute(jobs)).scalar_one()
        )

    async def release_leases(self) -> None:
        """SQLite's one worker starts: leases a killed process left are void, and so are the
        fetches it had claimed (an entry still ``fetching`` has nothing to keep)."""
        await self.session.execute(update(PreviewJob).values(locked_until=None))
        await self.session.execute(delete(LinkPreview).where(col(LinkPreview.state) == FETCHING))

    async def postpone(self, message_id: int, due_at: datetime) -> None:
        """Try again at ``due_at`` (another worker is fetching one of its URLs, or an edit changed
        its links meanwhile): its job row, made if it had none (a new message)."""
        insert = pg_insert if self._postgres() else sqlite_insert
        table = PreviewJob.__table__  # type: ignore[attr-defined]
        statement = insert(PreviewJob).values(message_id=message_id, due_at=due_at, attempts=1)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["message_id"],
                set_={"due_at": due_at, "locked_until": None, "attempts": table.c.attempts + 1},
            )
        )

    async def drop(self, *message_ids: int) -> None:
        """Done with these messages: their jobs go, and one still waiting as new gets ``[]`` (it
        leaves the queue; a message gone, deleted or with nothing to show). Two statements."""
        if message_ids:
            await self._drop_jobs(*message_ids)
            await self.session.execute(
                update(Message)
                .where(col(Message.id).in_(message_ids), col(Message.previews).is_(None))
                .values(previews=SHOWN_NONE)
            )

    async def _drop_jobs(self, *message_ids: int) -> None:
        await self.session.execute(delete(PreviewJob).where(col(PreviewJob.message_id).in_(message_ids)))

    async def targets(self, message_ids: Sequence[int], lock: bool = False) -> dict[int, PreviewTarget]:
        """The messages the jobs are for, by id (one query; a message that no longer exists is
        missing). ``lock``: their rows locked until the commit (PostgreSQL)."""
        if not message_ids:
            return {}
        query = select(
            col(Message.id),
            col(Message.topic_id),
            col(Message.sender_id),
            col(Message.links),
            col(Message.previews),
            col(Message.previews_off),
            col(Message.deleted_at),
        ).where(col(Message.id).in_(message_ids))
        query = query.order_by(col(Message.id))  # rows locked in one order
        if lock:
            query = query.with_for_update()
        found: dict[int, PreviewTarget] = {}
        rows: Sequence[Any] = (await self.session.execute(query)).all()
        for row in rows:
            message_id, topic_id, sender_id, links, previews, off, deleted_at = row
            found[int(message_id)] = PreviewTarget(
                int(message_id),
                int(topic_id),
                int(sender_id),
                tuple(orjson.loads(links)) if links else (),
                tuple(orjson.loads(previews)) if previews else (),
                bool(off) or deleted_at is not None,
            )
        return found

    async def show(
        self, message_id: int, previews: Sequence[dict[str, object]], image_ids: Sequence[int]
    ) -> None:
        """Keep ``previews`` on the message (as rendered) and which pictures it shows; done with its job."""
        shown = previews_json(previews) or SHOWN_NONE  # never NULL: that is waiting
        await self.session.execute(
            update(Message).where(col(Message.id) == message_id).values(previews=shown)
        )
        await self.session.execute(
            delete(MessagePreviewImage).where(col(MessagePreviewImage.message_id) == message_id)
        )
        for image_id in dict.fromkeys(image_ids):
            self.session.add(MessagePreviewImage(message_id=message_id, image_id=image_id))
        await self._drop_jobs(message_id)
        await self.session.flush()

    async def remove(self, message_id: int) -> None:
        """The sender removed the message's previews: for good (an edit brings none back)."""
        await self.session.execute(
            update(Message)
            .where(col(Message.id) == message_id)
            .values(previews=SHOWN_NONE, previews_off=True)
        )
        await self.session.execute(
            delete(MessagePreviewImage).where(col(MessagePreviewImage.message_id) == message_id)
        )
        await self._drop_jobs(message_id)

    # The cache ---------------------------------------------------------------------------

    async def cached(self, url_hash: str, now: datetime) -> CachedPreview | None:
        """The URL's preview (or its absence) while it has not expired."""
        query = (
            select(LinkPreview, col(PreviewImage.width), col(PreviewImage.height))
            .outerjoin(PreviewImage, col(PreviewImage.id) == col(LinkPreview.image_id))
            .where(
                col(LinkPreview.url_hash) == url_hash,
                col(LinkPreview.state) != FETCHING,
                col(LinkPreview.expires_at) > now,
            )
        )
        found = (await self.session.execute(query)).first()
        if found is None:
            return None
        entry, width, height = found
        return CachedPreview(
            entry.state,
            entry.title or "",
            entry.description or "",
            entry.site_name or "",
            entry.image_id,
            int(width or 0),
            int(height or 0),
        )

    async def claim(self, url_hash: str, url: str, now: datetime, lease_until: datetime) -> bool:
        """Whether this worker fetches ``url`` now: no entry yet, an expired one, or a fetch whose
        lease ran out (its worker died). One statement, so two workers never both win."""
        insert = pg_insert if self._postgres() else sqlite_insert
        table = LinkPreview.__table__  # type: ignore[attr-defined]
        statement = (
            insert(LinkPreview)
            .values(url_hash=url_hash, url=url, state=FETCHING, locked_until=lease_until)
            .on_conflict_do_update(
                index_elements=["url_hash"],
                set_={"state": FETCHING, "locked_until": lease_until},
                where=or_(
                    and_(table.c.state != FETCHING, table.c.expires_at <= now),
                    and_(table.c.state == FETCHING, table.c.locked_until <= now),
                ),
            )
            .returning(table.c.id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def store(
        self,
        url_hash: str,
        state: str,
        expires_at: datetime,
        *,
        title: str = "",
        description: str = "",
        site_name: str = "",
        picture: tuple[bytes, str, int, int] | None = None,
        now: datetime,
    ) -> int | None:
        """The fetch's outcome for every message carrying the URL; the new picture's id."""
        image_id = None
        if picture is not None:
            data, content_type, width, height = picture
            image = PreviewImage(
                data=data, content_type=content_type, width=width, height=height, created_at=now
            )
            self.session.add(image)
            await self.session.flush()
            assert image.id is not None, "the flush gave it its id"
            image_id = image.id
        await self.session.execute(
            update(LinkPreview)
            .where(col(LinkPreview.url_hash) == url_hash)
            .values(
                state=state,
                title=title,
                description=description,
                site_name=site_name,
                image_id=image_id,
                expires_at=expires_at,
                locked_until=None,
            )
        )
        return image_id

    # The pictures ------------------------------------------------------------------------

    async def picture(self, image_id: int) -> StoredPicture | None:
        found = (
            await self.session.execute(
                select(col(PreviewImage.data), col(PreviewImage.content_type)).where(
                    col(PreviewImage.id) == image_id
                )
            )
        ).first()
        return None if found is None else StoredPicture(bytes(found[0]), str(found[1]))

    async def showing(self, image_id: int, reader_id: int, limit: int) -> list[tuple[int, int, str]]:
        """Up to ``limit`` live messages showing the picture in topics ``reader_id`` may read (public
        ones, or ones the reader is a member of): (message id, topic id, topic kind), public topics
        first. Only the reader's topics are looked at, so however many messages of other private
        topics show the picture, they never hide the reader's own from this lookup."""
        member = exists().where(
            col(Membership.topic_id) == col(Message.topic_id), col(Membership.user_id) == reader_id
        )
        query = (
            select(col(Message.id), col(Message.topic_id), col(Topic.kind))
            .join(MessagePreviewImage, col(MessagePreviewImage.message_id) == col(Message.id))
            .join(Topic, col(Topic.id) == col(Message.topic_id))
            .where(
                col(MessagePreviewImage.image_id) == image_id,
                col(Message.deleted_at).is_(None),
                or_(col(Topic.kind) == "public", member),
            )
            .order_by((col(Topic.kind) != "public"), col(Message.id))
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        return [(int(m or 0), int(t), str(k)) for m, t, k in rows]

    async def prune(self, expired_before: datetime, limit: int) -> int:
        """Forget up to ``limit`` cache entries that expired before ``expired_before`` (nobody
        linked to them since) and the pictures no message shows and no entry holds any more."""
        stale = (
            select(col(LinkPreview.id))
            .where(col(LinkPreview.state) != FETCHING, col(LinkPreview.expires_at) < expired_before)
            .limit(limit)
        )
        gone = await self.session.execute(delete(LinkPreview).where(col(LinkPreview.id).in_(stale)))
        entries = int(getattr(gone, "rowcount", 0) or 0)
        shown = select(col(MessagePreviewImage.image_id))
        held = select(col(LinkPreview.image_id)).where(col(LinkPreview.image_id).is_not(None))
        unused = (
            select(col(PreviewImage.id))
            .where(col(PreviewImage.id).not_in(shown), col(PreviewImage.id).not_in(held))
            .limit(limit)
        )
        gone = await self.session.execute(delete(PreviewImage).where(col(PreviewImage.id).in_(unused)))
        return entries + int(getattr(gone, "rowcount", 0) or 0)

    async def forget_unheld(self, urls: Mapping[str, str], sender_id: int) -> None:
        """Erasure (PROTOCOL.md section 16): the cache entries of ``urls`` (by their keys) that no
        message of anyone but ``sender_id`` still shows (not deleted, its links naming the URL),
        so the URLs an erased person posted leave the cache unless others posted them too. Each
        check reads the messages with links (no index names a URL): a few URLs a batch."""
        for key, url in urls.items():
            needle = orjson.dumps(url).decode()  # as ``messages.links`` holds it: a JSON string
            held = exists().where(
                col(Message.links).contains(needle, autoescape=True),
                col(Message.deleted_at).is_(None),
                col(Message.sender_id) != sender_id,
            )
            await self.session.execute(delete(LinkPreview).where(col(LinkPreview.url_hash) == key, ~held))
