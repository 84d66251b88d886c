"""Group commit: one writer per process stores every queued send in one transaction.

A send is queued as it arrives (so the sends of one socket keep their
order); the writer takes everything queued, resolves and authorises each
(from the in-memory directory, in queue order), stores the accepted ones
with ONE call to the database (``Database.store_messages``), and only after
the commit publishes the events, in ``seq`` order per topic (the batch's
order), and resolves each sender's future: an acknowledged message is
durable. While one batch is stored and published, the next one fills.

Per-message outcomes: a ``client_id`` the sender already used (in this batch
or stored before) returns the original message and stores nothing. If the
database refuses a batch, its messages are stored one by one, so only the
message at fault fails (with that exception: the transport answers
``internal``); but when the database is unreachable or dropped the connection (an outage:
``server.chat.kernel.outage``) every send of the batch fails at once with that error, which the
transport answers ``internal`` "the database is unavailable" and logs once per failure class:
nothing of the batch was stored, and trying each send alone would fail alike. A send whose
files another send attached first (checked again in the transaction) is refused alone,
``invalid``.

What rides along with a message is not the writer's business: it asks each of its send hooks
(``SendHook``, registered by their own packages on the conversations' port
(``conversations.assembly``): the outgoing webhooks' outbox, the notifications' jobs, the link
previews' queue) once per send for the rows to write with it, which go into the same
transaction (``NewMessage.with_rows``), and tells each hook that gave some once the batch
committed. A hook must answer at the cost of a dict lookup when it has nothing to add. A hook
that writes nothing with the message but wants to hear of its commit answers ``WAKE_ONLY``
(the previews: the message row is their queue entry; the message keeps its cheaper insert).

The writer runs in a task of its own and calls back into the service that queued the sends, its
``SendSide``: each send's ``Pending.resolve`` (the closure the service queued with it), then
``original`` for a repeated ``client_id`` and ``threads_changed`` for the threads a batch replied
in. Queue order needs these calls here, in the writer's task, rather than in the sender's. The
batch's events go to ``publish`` (the hub's, given where the parts are built), as the unit of
work hands a ``write()``'s events to the hub after its commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar, cast

from db.records import PLAIN, Extras
from db.sends import NewMessage, PinChange, Refused, Rows, Stored, new_message
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import invalid
from server.chat.kernel.events import Event, MessageCreated, ToTopic, ToUser, ToUsers
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.places import Place
from server.chat.kernel.schemas import MessageOut
from server.chat.kernel.views import message_out

log = logging.getLogger("parley.writer")
T = TypeVar("T")
MAX_BATCH = 512
RESOLVE_TIMEOUT = 2.5
"""Seconds by which the writer knows whether a send's slow resolution is a database that hangs. It
reads only on a cache miss (a name or a member set not loaded yet, a first message, a quote),
which a healthy database answers in milliseconds; but under load the read may wait its turn for a
pooled connection, and a first read on a new connection can take more than a second on a loaded
machine, so a slow read alone is no proof of a hang. A read still running ``PROBE_TIMEOUT``
before this bound therefore starts a probe of the database apart from the pool
(``Database.answers``): a database that answers is busy, and the send waits on (its read keeps its
place in the pool's queue; the pool's own ``POOL_WAIT`` bounds that), probed again as long as it
waits; one that does not answer hangs, and the send fails as in an outage
(``TimeoutError``: ``internal`` "the database is unavailable"), as ``db.sends_postgres.
STORE_TIMEOUT`` bounds the store, so one read cannot hold every send queued behind it until
PostgreSQL answers. This bound plus ``STORE_TIMEOUT`` stays under 5 s, so the sends queued behind
a hung read are answered within that of the database's return. Only where the database can hang
(``Database.may_hang``: a server across a network); SQLite's waits are its own writes queued in
this process, and a send there pays no timer."""
PROBE_TIMEOUT = 1.5  # seconds: a trivial statement on an open connection of the writer's own


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a send goes and what it carries besides its body (PROTOCOL.md section 8)."""

    place: Place
    extras: Extras = PLAIN  # reply, thread, mentions; or a system message's type and details
    mentioned: tuple[int, ...] = ()  # the members that get a mention row
    pin: PinChange | None = None  # stored with the system message that records it
    blockers: tuple[int, ...] = ()  # members who blocked the sender: they see ``blocked: true``
    files: tuple[str, ...] = ()  # ids attached in the send's transaction (their objects in ``extras``)


Resolve = Callable[[], Awaitable[Destination | MessageOut]]
"""Where a send goes (or, for a resend that must open nothing, the original message): the
``SendSide``'s closure for one send, run in the writer's task in queue order."""


class SendSide(Protocol):
    """What the writer calls back into, from its own task: the service that queued the sends
    (``MessageService``). Queue order is why these run here and not in the sender's task."""

    async def original(self, actor: Actor, client_id: str) -> MessageOut | None:
        """The stored message a repeated ``client_id`` stands for (None: there is none)."""
        ...

    async def threads_changed(self, roots: list[tuple[Place, Actor, int]]) -> None:
        """After a batch is answered: each thread root a reply of it went to."""
        ...


class Publish(Protocol):
    """Where committed events go: the hub's ``publish`` (every node's sinks)."""

    def __call__(self, *events: Event) -> Awaitable[None]: ...


@dataclass
class Pending:
    actor: Actor
    resolve: Resolve = field(repr=False)
    body: str
    client_id: str | None
    created_at: datetime
    future: asyncio.Future[MessageOut] = field(repr=False)
    destination: Destination | None = None

    @property
    def key(self) -> tuple[int, str] | None:
        return (self.actor.id, self.client_id) if self.client_id is not None else None

    def view(self, stored: Stored) -> MessageOut:
        """The message as its sender sees it once stored."""
        place = _destination(self).place
        return _view(self, stored, place.kind, place.shown_as)


def _no_rows(_stored: Stored) -> Sequence[object]:
    return ()


WAKE_ONLY: Rows = _no_rows
"""A hook's answer for a send it writes nothing with but whose commit it wants (``committed``)."""


class SendHook(Protocol):
    """Something that writes rows with a new message, in its send batch's transaction."""

    def rows(self, pending: Pending) -> Rows | None:
        """For a resolved send: None (nothing to write, at the cost of a lookup), what makes the
        rows once the message is stored (called only then, inside the transaction), or
        ``WAKE_ONLY`` (nothing to write; ``committed`` once the batch committed)."""

    def committed(self) -> None:
        """A batch in which this hook gave rows committed."""


class Writer:
    def __init__(
        self, db: Database, side: SendSide, publish: Publish, hooks: Sequence[SendHook] = ()
    ) -> None:
        self.db = db
        self.side = side  # called back from the writer's task (``SendSide``)
        self.publish = publish
        self.hooks = hooks  # the composition's list, not a copy: a hook registered later is asked
        self.batches = 0
        self._bound = RESOLVE_TIMEOUT if db.may_hang else None
        self._queue: list[Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._abandoned: set[asyncio.Future[Any]] = set()  # reads given up on, until they end

    async def submit(self, actor: Actor, resolve: Resolve, body: str, client_id: str | None) -> MessageOut:
        """Queue a send at once (so one socket's sends keep their order) and wait for its outcome."""
        future: asyncio.Future[MessageOut] = asyncio.get_running_loop().create_future()
        self._queue.append(Pending(actor, resolve, body, client_id, datetime.now(UTC), future))
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        return await future

    @property
    def busy(self) -> bool:
        """Sends are being stored or wait to be (what background work yields to)."""
        return self._task is not None

    async def drain(self) -> None:
        """Shutdown: wait until everything queued is stored and answered."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                self.batches += 1
                try:
                    await self._commit(batch)
                except Exception as exc:  # a bug, not bad input: answer everyone, keep writing
                    log.exception("send batch failed")
                    for pending in batch:
                        _fail(pending.future, exc)
        finally:
            self._task = None

    async def _commit(self, batch: list[Pending]) -> None:
        leaders: dict[tuple[int, str], Pending] = {}
        unique: list[Pending] = []
        followers: list[tuple[Pending, Pending]] = []
        for pending in await self._resolved(batch):
            key = pending.key
            if key is not None and key in leaders:
                followers.append((pending, leaders[key]))
                continue
            if key is not None:
                leaders[key] = pending
            unique.append(pending)
        if unique:  # (every send refused or failed to resolve: nothing to store, nothing stored)
            await self._store(unique)
        for follower, leader in followers:
            await self._follow(leader.future, follower)

    async def _resolved(self, batch: list[Pending]) -> list[Pending]:
        """Resolve each send in queue order, each within ``RESOLVE_TIMEOUT``; refusals (``ChatError``)
        and a resolution that timed out answer only their sender."""
        ready: list[Pending] = []
        for pending in batch:
            try:  # the side's closure for this send (``Resolve``), in queue order
                destination = await self._within(pending.resolve)
            except Exception as exc:
                _fail(pending.future, exc)
                continue
            if isinstance(destination, MessageOut):
                _answer(pending.future, destination)
                continue
            if pending.actor.bot and not destination.extras.bot:  # known in memory: no lookup
                destination = replace(destination, extras=replace(destination.extras, bot=True))
            pending.destination = destination
            ready.append(pending)
        return ready

    async def _within(self, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``'s outcome; where the database may hang, while it answers a probe (a busy
        pool is load, not an outage), else ``TimeoutError`` by ``RESOLVE_TIMEOUT``: a read still
        running ``RESOLVE_TIMEOUT - PROBE_TIMEOUT`` in starts a probe beside it, so a database
        that hangs is known by the bound, as sends queued behind this one need."""
        if self._bound is None:
            return await read()
        task = asyncio.ensure_future(read())
        probe: asyncio.Future[bool] | None = None
        try:
            while not (await asyncio.wait((task,), timeout=self._bound - PROBE_TIMEOUT))[0]:
                probe = asyncio.ensure_future(self.db.answers(PROBE_TIMEOUT))
                await asyncio.wait((task, probe), return_when=asyncio.FIRST_COMPLETED)
                if task.done():
                    break
                if not probe.result():
                    raise TimeoutError("the database did not answer a probe")
            return task.result()
        finally:
            if probe is not None and not probe.done():
                probe.cancel()  # the read ended first (the probe has a connection of its own to drop)
            if not task.done():  # gave up (or was cancelled): the read is cancelled, not awaited
                task.cancel()  # (SQLAlchemy's graceful close of its connection may take 2 s more)
                self._abandoned.add(task)
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        """An abandoned read has ended: whatever it raised is of no one's concern now."""
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()

    async def _store(self, batch: list[Pending]) -> None:
        rode: list[SendHook] = []  # the hooks that gave rows in this batch
        try:
            rows = [self._row(p, rode) for p in batch]
            outcomes = await self.db.store_messages(rows)
        except Exception as exc:
            if DATABASE.failed(exc, "storing sends"):  # the transport answers each alike
                for pending in batch:
                    _fail(pending.future, exc)
                return
            if len(batch) == 1:
                log.warning("a send could not be stored", extra={"error": type(exc).__name__})
                _fail(batch[0].future, exc)
                return
            for pending in batch:  # isolate the message at fault
                await self._store([pending])
            return
        if DATABASE.down:
            DATABASE.recovered()
        events: list[Event] = []
        answers: list[tuple[Pending, MessageOut]] = []
        duplicates: list[Pending] = []
        for pending, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                duplicates.append(pending)
                continue
            if isinstance(outcome, Refused):  # its files went to another send meanwhile
                _fail(pending.future, invalid(outcome.reason))
                continue
            answer, announced = _render(pending, outcome)
            answers.append((pending, answer))
            events += announced
        if events:  # committed by ``store_messages``: to the hub, as the events of a write() go
            await self.publish(*events)
        for hook in rode:
            hook.committed()
        for pending, answer in answers:
            _answer(pending.future, answer)
        for pending in duplicates:
            await self._answer_original(pending)
        roots = {
            (_destination(p).place, p.actor, root)
            for p, _ in answers
            if (root := _destination(p).extras.thread_root_id) is not None
        }
        if roots:
            await self.side.threads_changed(sorted(roots, key=lambda found: found[2]))

    async def _follow(self, first: asyncio.Future[MessageOut], pending: Pending) -> None:
        """A client_id repeated in one batch gets what its first copy got (answered by now)."""
        if first.cancelled():  # its sender went away; the message itself was stored
            await self._answer_original(pending)
        elif first.exception() is not None:
            _fail(pending.future, cast(BaseException, first.exception()))
        else:
            _answer(pending.future, first.result())

    async def _answer_original(self, pending: Pending) -> None:
        try:
            original = await self._within(partial(self.side.original, pending.actor, pending.client_id or ""))
        except Exception as exc:
            _fail(pending.future, exc)
            return
        if original is None:  # cannot happen: the store found it taken inside the transaction
            _fail(pending.future, LookupError("the message of a repeated client_id is gone"))
        else:
            _answer(pending.future, original)

    def _row(self, pending: Pending, rode: list[SendHook]) -> NewMessage:
        with_rows: list[Rows] = []
        for hook in self.hooks:
            rows = hook.rows(pending)
            if rows is not None:
                if rows is not WAKE_ONLY:
                    with_rows.append(rows)
                if hook not in rode:
                    rode.append(hook)
        return _row(pending, tuple(with_rows))


def _destination(pending: Pending) -> Destination:
    assert pending.destination is not None, "stored sends are resolved first"
    return pending.destination


def _row(pending: Pending, with_rows: tuple[Rows, ...]) -> NewMessage:
    destination = _destination(pending)
    return new_message(
        destination.place.topic_id,
        pending.actor.id,
        pending.body,
        pending.client_id,
        pending.created_at,
        destination.extras,
        destination.mentioned,
        destination.pin,
        destination.files,
        with_rows,
    )


def _render(pending: Pending, stored: Stored) -> tuple[MessageOut, list[Event]]:
    """The sender's view and the events: one for a topic room, one per side of a DM (a new message
    has no reactions, so one rendering fits every member but those who blocked the sender: they
    get their own, ``blocked: true``, PROTOCOL.md section 10)."""
    destination = _destination(pending)
    place, actor, blockers = destination.place, pending.actor, destination.blockers
    mine = _view(pending, stored, place.kind, place.shown_as)
    if place.peer_id is None and not blockers:
        return mine, [MessageCreated(mine, ToTopic(place.topic_id), place.topic_id)]
    if place.peer_id is None:
        hidden = _view(pending, stored, place.kind, place.shown_as, blocked=True)
        return mine, [
            MessageCreated(mine, ToTopic(place.topic_id, exclude_users=blockers), place.topic_id),
            MessageCreated(hidden, ToUsers(blockers), place.topic_id),
        ]
    theirs = _view(pending, stored, place.kind, f"@{actor.username}", blocked=bool(blockers))
    return mine, [
        MessageCreated(mine, ToUser(actor.id), place.topic_id),
        MessageCreated(theirs, ToUser(place.peer_id), place.topic_id),
    ]


def _view(pending: Pending, stored: Stored, kind: str, shown_as: str, blocked: bool = False) -> MessageOut:
    actor = pending.actor
    return message_out(
        kind,
        shown_as,
        stored.id,
        stored.seq,
        actor.username,
        pending.body,
        pending.created_at,
        None,
        pending.client_id,
        extras=_destination(pending).extras,
        blocked=blocked,
    )


def _answer(future: asyncio.Future[MessageOut], answer: MessageOut) -> None:
    if not future.done():
        future.set_result(answer)


def _fail(future: asyncio.Future[MessageOut], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
