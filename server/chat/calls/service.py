"""Calls in a conversation (PROTOCOL.md section 18): who is in which call, and the signals between
them. Media never passes through Parley: a call here is its participants and the WebRTC offers,
answers and candidates they exchange through it.

- ``start``: a member starts a call in a topic or a direct conversation (at most one runs there:
  a second start answers the running one) and takes part in it at once; its answer is the join's
  (``peer``, ``peers``, ``ice_servers``). Members hear ``call:started``, and a system message
  (``system.action`` ``call``) records it: members away get it in their backlog and, as a
  mention does, as a notification (section 15).
- ``join``: a member takes part through this socket; again from the same socket it answers the
  same, changing nothing; from another socket of theirs it moves them there (the old peer leaves,
  the new one joins). One more than ``max_peers`` is ``forbidden``.
- ``signal``: relayed to the one socket of the named peer, on whatever node holds it (the hub
  carries it; only that node writes it), never stored nor logged. At most ``MAX_SIGNAL_BYTES``
  of JSON, ``SIGNALS_PER_SECOND`` per socket.
- ``leave``, a socket gone for longer than the presence grace, or a member removed from the
  conversation (kicked, banned, left): the participant leaves; the last one out ends the call
  (``call:ended``, and the system message gets the duration).

Calls and their participants are rows (``db/calls/``), so every node sees the same calls; each
participant's row names its socket and node. A node killed without stopping leaves rows behind:
every serving node frees, every few seconds, the seats of sockets gone past the grace and of
nodes whose heartbeat row went stale (``server.chat.operators.nodes``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from db.calls.records import CallRecord, SeatRecord
from db.calls.repository import CallRepository
from db.errors import Conflict
from db.records import Extras
from db.repositories import Repositories
from db.uow import Database
from server.chat.calls.ice import ice_servers
from server.chat.calls.routes import End, Routes
from server.chat.calls.schemas import MAX_SIGNAL_BYTES, SIGNALS_PER_SECOND, call_json
from server.chat.conversations.message_events import edited
from server.chat.conversations.messages import MessageService
from server.chat.conversations.writer import Destination
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode, cannot_message, forbidden, invalid, not_found
from server.chat.kernel.events import (
    Audience,
    CallEnded,
    CallInfo,
    CallJoined,
    CallLeft,
    CallSignalled,
    CallStarted,
    MembershipChanged,
    ToTopic,
    ToUser,
    ToUsers,
)
from server.chat.kernel.hub import Hub
from server.chat.kernel.outage import DATABASE
from server.chat.kernel.periodic import Periodic
from server.chat.kernel.places import Place, place_of_topic
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.kernel.schemas import Target
from server.chat.kernel.views import direct_ids, iso_required
from server.chat.rules.access import named_topic, open_direct, peer_in, require_member

log = logging.getLogger("parley.calls")

MEDIA_WORDS = {"audio": "an audio call", "video": "a video call"}


def spoken(seconds: int) -> str:
    """``2 min 5 s``, ``1 h 3 min``, ``40 s``: a duration as a sentence says it."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def no_call(call_id: int) -> ChatError:
    """One answer for a call that is not running and for one the caller may not see."""
    return not_found(f"no call {call_id}")


class CallService:
    def __init__(
        self,
        db: Database,
        hub: Hub,
        messages: MessageService,
        *,
        node: Callable[[], str],
        max_peers: int,
        ice_urls: Sequence[str],
        turn_secret: str | None,
        turn_ttl: int,
        grace: float,
        node_ttl: float,
    ) -> None:
        self.db = db
        self.hub = hub
        self.messages = messages
        self.node = node  # this node's name (its heartbeat row's): where its participants sit
        self.max_peers = max_peers
        self.ice_urls = list(ice_urls)
        self.turn_secret = turn_secret
        self.turn_ttl = turn_ttl
        self.grace = grace
        self.node_ttl = node_ttl
        # per socket of this node: its signals' rate, and their order (relayed one at a time)
        self._buckets: dict[str, TokenBucket] = {}
        self._in_order: dict[str, asyncio.Lock] = {}
        self.routes = Routes(self._seats_of)  # where each call's signals go, kept for a moment
        self._seated: set[str] = set()  # sockets of this node that took a seat (a close looks them up)
        self._leaving: dict[str, asyncio.Task[None]] = {}
        self._sweeping = Periodic(
            self.sweep, max(node_ttl / 3, 1.0), "freeing the seats of calls left behind"
        )

    # Parts ---------------------------------------------------------------------

    async def start(self) -> None:
        self._sweeping.start()

    async def stop(self) -> None:
        await self._sweeping.stop()
        for task in list(self._leaving.values()):
            task.cancel()
        self._leaving.clear()

    # Events --------------------------------------------------------------------

    async def start_call(self, actor: Actor, sid: str, target: Target, media: str) -> dict[str, Any]:
        """Start a call in ``target`` (or find the running one) and take part through ``sid``."""
        place = await self._place(actor, target)
        now = datetime.now(UTC)
        started: CallRecord | None = None
        try:
            async with self.db.write() as repos:
                await require_member(repos, place, actor, "start a call there")
                if place.archived:
                    raise forbidden(f"{place.name!r} is archived: nothing new starts there")
                if place.peer_id is not None and await repos.blocks.between(actor.id, place.peer_id):
                    raise cannot_message()
                if await repos.of(CallRepository).in_topic(place.topic_id) is None:
                    call_id = await repos.of(CallRepository).start(place.topic_id, media, actor.id, now)
                    peer = _new_peer()
                    await repos.of(CallRepository).sit(call_id, actor.id, peer, sid, self.node(), now)
                    started = CallRecord(call_id, place.topic_id, media, actor.id, actor.username, now, None)
                    seats = [SeatRecord(call_id, actor.id, actor.username, peer, sid, self.node(), now, None)]
                    repos.record(*await self._started(repos, place, started, seats))
        except Conflict:  # started meanwhile by someone else: take part in theirs
            started = None
        if started is not None:
            self._sit_here(sid)
            await self._record(actor, place, started)
            async with self.db.read() as repos:
                seats = await repos.of(CallRepository).seats([started.id])
            return self._answer(actor, place, started, seats)
        async with self.db.read() as repos:
            running = await repos.of(CallRepository).in_topic(place.topic_id)
        if running is None:  # ended between the two transactions: a rare race, said plainly
            raise ChatError(ErrorCode.CONFLICT, "the call ended as it was being started; start it again")
        return await self.join(actor, sid, running.id)

    async def join(self, actor: Actor, sid: str, call_id: int) -> dict[str, Any]:
        """Take part in a call through ``sid`` (again: the same answer; from another socket: moved)."""
        async with self.db.write() as repos:
            call, place = await self._visible(repos, actor, call_id, lock=True)
            seat = await repos.of(CallRepository).seat(call_id, actor.id)
            node = self.node()
            if seat is None:
                if await repos.of(CallRepository).count(call_id) >= self.max_peers:
                    raise forbidden("the call is full")
                peer = _new_peer()
                await repos.of(CallRepository).sit(call_id, actor.id, peer, sid, node, datetime.now(UTC))
                repos.record(CallJoined(call_id, actor.username, peer, _members(place, but=actor.id)))
            elif seat.sid != sid:  # moved: the others replace the user's connection with a new one,
                peer = _new_peer()  # and the user's other sockets hear that the old one is out
                await repos.of(CallRepository).move(call_id, actor.id, peer, sid, node)
                repos.record(
                    CallLeft(call_id, actor.username, seat.peer, ToUser(actor.id)),
                    CallJoined(call_id, actor.username, peer, _members(place, but=actor.id)),
                )
            seats = await repos.of(CallRepository).seats([call_id])
        self.routes.forget(call_id)
        self._sit_here(sid)
        return self._answer(actor, place, call, seats)

    async def leave(self, actor: Actor, sid: str, call_id: int) -> dict[str, Any]:
        async with self.db.write() as repos:
            call, place = await self._visible(repos, actor, call_id, lock=True)
            seat = await repos.of(CallRepository).seat(call_id, actor.id)
            if seat is None or not await repos.of(CallRepository).stand(call_id, actor.id):
                raise not_found("you are not in this call")
            await self._left(repos, call, place, seat)
        self.routes.forget(call_id)
        self._seated.discard(sid)
        return {}

    async def signal(self, actor: Actor, sid: str, call_id: int, to: str, data: Any) -> dict[str, Any]:
        """Relay ``data`` to the socket of peer ``to`` (the sender must take part in the call)."""
        bucket = self._buckets.get(sid)
        if bucket is None:
            bucket = self._buckets[sid] = TokenBucket(SIGNALS_PER_SECOND, SIGNALS_PER_SECOND)
        if not bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, "too many signals; slow down", retry_after=bucket.wait())
        try:
            text = orjson.dumps(data)
        except (TypeError, orjson.JSONEncodeError):
            raise invalid("a signal's data must be JSON") from None
        if len(text) > MAX_SIGNAL_BYTES:
            raise ChatError(ErrorCode.TOO_LARGE, f"a signal's data may have at most {MAX_SIGNAL_BYTES} bytes")
        # A page sends an offer and then its candidates without waiting for each answer; each
        # event runs in a task of its own, and a look-up that reads the seats or a publish may let
        # a later one overtake it. A candidate relayed before its description is one the other
        # side must throw away, and a call never connects: a socket's signals go out in the order
        # their events began (asyncio.Lock wakes its waiters first come, first served).
        order = self._in_order.get(sid)
        if order is None:
            order = self._in_order[sid] = asyncio.Lock()
        async with order:
            sender, addressee = await self.routes.ends(call_id, sid, to)
            if sender is None or sender.user_id != actor.id:
                raise not_found(f"this socket takes no part in call {call_id}")
            if addressee is None:
                raise not_found(f"no peer {to!r} in call {call_id}")
            event = CallSignalled(call_id, sender.peer, text.decode(), addressee.sid, addressee.user_id)
            if addressee.node == self.node():
                await self.hub.tell_here(event)
            else:
                await self.hub.publish(event)
        return {}

    async def _seats_of(self, call_id: int) -> list[End]:
        async with self.db.read() as repos:
            return [End(*row) for row in await repos.of(CallRepository).route(call_id)]

    async def listed(self, actor: Actor) -> dict[str, Any]:
        """The calls running in the user's conversations."""
        async with self.db.read() as repos:
            calls = await repos.of(CallRepository).of_member(actor.id)
            seats = await repos.of(CallRepository).seats(call.id for call in calls)
            shown = []
            for call in calls:
                place = await self._place_of(repos, call.topic_id, actor.id)
                mine = [seat for seat in seats if seat.call_id == call.id]
                shown.append(call_json(_info(call, place, mine)))
        return {"calls": shown}

    # Sockets and nodes ---------------------------------------------------------

    async def socket_closed(self, sid: str) -> None:
        """A socket of this node closed: its seats are kept for the grace, then freed unless the
        user joined again (from another socket) meanwhile."""
        self._buckets.pop(sid, None)
        self._in_order.pop(sid, None)
        if sid not in self._seated:
            return
        self._seated.discard(sid)
        async with self.db.write() as repos:
            seats = await repos.of(CallRepository).socket_gone(sid, datetime.now(UTC))
        if seats:
            task = asyncio.ensure_future(self._free_later(sid))
            self._leaving[sid] = task
            task.add_done_callback(lambda _t: self._leaving.pop(sid, None))

    async def _free_later(self, sid: str) -> None:
        """After the grace: free what ``sid`` still holds (a failure is left to the sweep)."""
        await asyncio.sleep(self.grace)
        try:
            async with self.db.write() as repos:
                freed = await repos.of(CallRepository).gone_through(sid)
                for call_id, user_id in freed:
                    await self._free(repos, call_id, user_id, sid)
        except Exception as exc:
            if not DATABASE.failed(exc, "freeing a call's seat"):
                log.exception("freeing a call's seat failed")
            return
        for call_id, _user_id in freed:
            self.routes.forget(call_id)

    async def sweep(self) -> None:
        """Free the seats of sockets gone past the grace (a task lost with a restart) and of nodes
        that stopped beating (killed): one read when there are none."""
        now = datetime.now(UTC)
        async with self.db.read() as repos:
            live = [node.name for node in await repos.nodes.live(now - timedelta(seconds=self.node_ttl))]
            stale = await repos.of(CallRepository).stale(
                now - timedelta(seconds=self.grace + 1), {*live, self.node()}
            )
        if not stale:
            return
        async with self.db.write() as repos:
            for call_id, user_id, sid in stale:
                await self._free(repos, call_id, user_id, sid)
        for call_id, _user_id, _sid in stale:
            self.routes.forget(call_id)

    async def _free(self, repos: Repositories, call_id: int, user_id: int, sid: str) -> None:
        seat = await repos.of(CallRepository).seat(call_id, user_id)
        call = await repos.of(CallRepository).by_id(call_id)
        if (
            seat is None
            or call is None
            or seat.sid != sid
            or not await repos.of(CallRepository).stand(call_id, user_id, sid)
        ):
            return  # joined again from another socket meanwhile, or freed by another node
        if await repos.topics.by_id(call.topic_id) is None:  # deleted by an operator: nobody to tell
            await repos.of(CallRepository).end(call_id)
            return
        place = await self._place_of(repos, call.topic_id, call.started_by)
        await self._left(repos, call, place, seat)

    async def removed(self, repos: Repositories, recorded: Sequence[object]) -> None:
        """A commit handler: a member who left the conversation (kicked, banned, gone) leaves its
        call in the same transaction; they hear it on their own sockets too (no longer in the
        conversation's room)."""
        for change in recorded:
            if not isinstance(change, MembershipChanged) or change.joined:
                continue
            for call_id, _sid in await repos.of(CallRepository).seats_in_topic(
                change.topic_id, change.user_id
            ):
                seat = await repos.of(CallRepository).seat(call_id, change.user_id)
                call = await repos.of(CallRepository).by_id(call_id)
                if (
                    seat is None
                    or call is None
                    or not await repos.of(CallRepository).stand(call_id, change.user_id)
                ):
                    continue
                repos.record(CallLeft(call_id, seat.username, seat.peer, ToUser(change.user_id)))
                place = await self._place_of(repos, call.topic_id, call.started_by)
                await self._left(repos, call, place, seat)

    # Helpers -------------------------------------------------------------------

    def _sit_here(self, sid: str) -> None:
        self._seated.add(sid)
        leaving = self._leaving.pop(sid, None)
        if leaving is not None:
            leaving.cancel()

    async def _left(self, repos: Repositories, call: CallRecord, place: Place, seat: SeatRecord) -> None:
        """After ``seat`` stood up: the others hear it (not its user: a ``call:leave``'s answer says
        it); the last one out ends the call, which every member hears."""
        self.routes.forget(call.id)
        repos.record(CallLeft(call.id, seat.username, seat.peer, _members(place, but=seat.user_id)))
        if await repos.of(CallRepository).count(call.id) > 0 or not await repos.of(CallRepository).end(
            call.id
        ):
            return
        duration = max(0, int((datetime.now(UTC) - _aware(call.started_at)).total_seconds()))
        repos.record(CallEnded(call.id, duration, _members(place)))
        if call.message_id is not None:
            await self._ended_message(repos, call, duration)

    async def _ended_message(self, repos: Repositories, call: CallRecord, duration: int) -> None:
        """The call's system message says how long it lasted (``message:edited`` to the members)."""
        message = await repos.messages.by_id(call.message_id or 0, lock=True)
        if message is None or message.deleted_at is not None or message.extras.system is None:
            return
        system = {**message.extras.system, "duration_s": duration}
        body = f"{message.body}; it lasted {spoken(duration)}"
        await repos.of(CallRepository).record_message(message.id, body, orjson.dumps(system).decode())
        message = await repos.messages.by_id(message.id)
        if message is None:
            return
        starter = Actor(call.started_by, call.started_by_name)
        place = await self._place_of(repos, call.topic_id, call.started_by)
        members = await self.messages.directory.members(place.topic_id)
        repos.record(*edited(message, starter, place, members))

    async def _record(self, actor: Actor, place: Place, call: CallRecord) -> None:
        """The call's system message (after the call's commit: a failure here keeps the call)."""
        system = {"action": "call", "actor": actor.username, "call": call.id, "media": call.media}
        destination = Destination(place, Extras(type="system", system=system))

        async def resolve() -> Destination:
            return destination

        body = f"{actor.username} started {MEDIA_WORDS.get(call.media, 'a call')}"
        try:
            message = await self.messages.writer.submit(actor, resolve, body, None)
            async with self.db.write() as repos:
                if not await repos.of(CallRepository).set_message(
                    call.id, message.id
                ):  # over before it was told
                    duration = max(0, int((datetime.now(UTC) - _aware(call.started_at)).total_seconds()))
                    await self._ended_message(repos, replace(call, message_id=message.id), duration)
        except Exception:
            log.exception("could not record a call's system message", extra={"call": call.id})

    async def _started(
        self, repos: Repositories, place: Place, call: CallRecord, seats: list[SeatRecord]
    ) -> list[CallStarted]:
        if not place.direct:
            return [CallStarted(_info(call, place, seats), ToTopic(place.topic_id))]
        topic = await repos.topics.by_id(place.topic_id)
        assert topic is not None, "a running call's conversation exists"
        shown = []
        for user_id in (call.started_by, place.peer_id):
            if user_id is None:
                continue
            peer = await peer_in(repos, topic, user_id)
            seen = place_of_topic(topic, peer) if peer is not None else place
            shown.append(CallStarted(_info(call, seen, seats), ToUser(user_id)))
        return shown

    async def _place(self, actor: Actor, target: Target) -> Place:
        if target.user is not None:
            return (await open_direct(self.db, actor, target.user)).place
        async with self.db.read() as repos:
            return place_of_topic(await named_topic(repos, target.topic or ""))

    async def _visible(
        self, repos: Repositories, actor: Actor, call_id: int, lock: bool = False
    ) -> tuple[CallRecord, Place]:
        """The running call and its conversation as the actor sees it; ``not_found`` for a call that
        is not running and for one in a conversation the actor is not a member of."""
        call = await repos.of(CallRepository).by_id(call_id, lock=lock)
        if call is None or await repos.memberships.get(call.topic_id, actor.id) is None:
            raise no_call(call_id)
        return call, await self._place_of(repos, call.topic_id, actor.id)

    async def _place_of(self, repos: Repositories, topic_id: int, viewer: int) -> Place:
        topic = await repos.topics.by_id(topic_id)
        if topic is None:
            raise not_found("the conversation is gone")
        if topic.kind != "direct":
            return place_of_topic(topic)
        return place_of_topic(topic, await peer_in(repos, topic, viewer))

    def _answer(
        self, actor: Actor, place: Place, call: CallRecord, seats: Sequence[SeatRecord]
    ) -> dict[str, Any]:
        mine = next((seat.peer for seat in seats if seat.user_id == actor.id), "")
        return {
            "call": call_json(_info(call, place, seats)),
            "peer": mine,
            "peers": [{"username": s.username, "peer": s.peer} for s in seats if s.user_id != actor.id],
            "ice_servers": ice_servers(self.ice_urls, self.turn_secret, self.turn_ttl, actor.username),
        }


def _members(place: Place, but: int | None = None) -> Audience:
    """The conversation's members (but one): a topic's room, or a direct conversation's two users
    (whose sockets are in no room of it: its events go to each user)."""
    if not place.direct:
        return ToTopic(place.topic_id, but)
    return ToUsers(tuple(user_id for user_id in direct_ids(place.name) if user_id != but))


def _info(call: CallRecord, place: Place, seats: Sequence[SeatRecord]) -> CallInfo:
    return CallInfo(
        id=call.id,
        media=call.media,
        started_by=call.started_by_name,
        started_at=iso_required(call.started_at),
        participants=tuple(seat.username for seat in seats),
        topic=None if place.direct else place.name,
        with_=place.peer_name if place.direct else None,
    )


def _new_peer() -> str:
    return secrets.token_urlsafe(12)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes that are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
