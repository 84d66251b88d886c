"""The one hub sink: a domain event becomes what each transport's writer writes.

Per event it resolves the audience once: the catching-up connections it is for hold it
(``Connection.hold``; one too far behind is cut), and the connections addressed one by one
(``Registry.reach``) are handed to their writer's ``write_many``. A writer with rooms
(Socket.IO) also reaches the rest of the audience itself, with one emit encoded once
(``server.edge.engine.fanout``): nothing is done here per recipient for it. A membership
change moves the user's connections (``Writer.moved``); a logout closes them
(``Writer.close``), and the end of a session (``SessionEnded``) those of its tokens.
Rendering stays with each writer: each transport and dialect has its own shapes.

The writers are called in the order given, one after the other; a writer must not raise
for one recipient (the event is already committed).
"""

from __future__ import annotations

from collections.abc import Iterable

from server.chat.kernel import events as ev
from server.edge.realtime.connection import REVOKED, Close, Connection, State, Writer
from server.edge.realtime.registry import Registry


class HubSink:
    def __init__(self, registry: Registry, writers: list[Writer] | None = None) -> None:
        self.registry = registry
        self.writers: list[Writer] = list(writers or ())

    def add_writer(self, writer: Writer) -> None:
        if writer not in self.writers:
            self.writers.append(writer)

    async def deliver(self, event: ev.Event) -> None:
        if isinstance(event, ev.MembershipChanged):
            await self._move(event)
            return
        if isinstance(event, ev.MembershipsKnown):
            await self._align(event)
            return
        if isinstance(event, ev.SessionsRevoked):
            await self.revoke(event.user_id)
            return
        if isinstance(event, ev.TokenRevoked):
            await self.revoke(event.user_id, event.token_id)
            return
        if isinstance(event, ev.SessionEnded):
            await self.revoke(event.user_id, session_id=event.session_id)
            return
        audience: ev.Audience | None = getattr(event, "audience", None)
        if audience is None:
            if isinstance(event, ev.CallSignalled):  # for one socket: written by the node that holds it
                await self._one_socket(event)
            return  # for name caches only (UserDeleted)
        catching_up = self.registry.catching_up()
        held, cuts = self._hold(event, audience, catching_up) if catching_up else _NOTHING_HELD
        reached = self.registry.reach(audience)
        for writer in self.writers:
            mine = [c for c in reached if c.writer is writer and c.state is State.LIVE] if reached else _NONE
            if mine or writer.rooms:
                await writer.write_many(event, audience, mine, held.get(id(writer), _NONE) if held else _NONE)
        for connection, decision in cuts:
            await connection.writer.close(connection, decision)

    async def _one_socket(self, event: ev.CallSignalled) -> None:
        """A call's signal to one socket, if this node holds it (held while it catches up)."""
        connection = self.registry.get(event.sid)
        if connection is None or connection.actor.id != event.user_id:
            return
        if connection.catching_up:
            decision = connection.hold(event)
            if decision is not None:
                await connection.writer.close(connection, decision)
        elif connection.state is State.LIVE:
            await connection.writer.write(connection, event)

    def _hold(
        self, event: ev.Event, audience: ev.Audience, catching_up: Iterable[Connection]
    ) -> tuple[dict[int, list[Connection]], list[tuple[Connection, Close]]]:
        """Hold the event for each catching-up connection it is for: those, by writer, and the
        close decisions of the ones now too far behind."""
        held: dict[int, list[Connection]] = {}
        cuts: list[tuple[Connection, Close]] = []
        for connection in catching_up:
            if connection.catching_up and connection.reaches(audience):
                held.setdefault(id(connection.writer), []).append(connection)
                decision = connection.hold(event)
                if decision is not None:
                    cuts.append((connection, decision))
        return held, cuts

    async def revoke(self, user_id: int, token_id: str | None = None, session_id: str | None = None) -> None:
        """A logout: close every connection of the user (of every transport); with ``token_id``,
        a revoked API token: only those that connected with it; with ``session_id``, a session
        signed out (PROTOCOL.md section 19): only those that connected with its tokens."""
        for connection in self.registry.of_user(user_id):
            if token_id is not None and connection.actor.token_id != token_id:
                continue
            if session_id is not None and connection.actor.session_id != session_id:
                continue
            decision = connection.close(REVOKED)
            if decision is not None:
                await connection.writer.close(connection, decision)

    async def _align(self, event: ev.MembershipsKnown) -> None:
        """After missed news: the user's connections follow exactly the topics they are members of
        (a join or a leave made meanwhile on another node moves them now)."""
        for connection in self.registry.of_user(event.user_id):
            if not connection.follows_memberships or self.registry.get(connection.key) is not connection:
                continue
            joined, left = event.topic_ids - connection.follows, connection.follows - event.topic_ids
            for topic_id in sorted(joined):
                self.registry.follow(connection, topic_id)
                await connection.writer.moved(connection, topic_id, True)
            for topic_id in sorted(left):
                self.registry.unfollow(connection, topic_id)
                await connection.writer.moved(connection, topic_id, False)

    async def _move(self, event: ev.MembershipChanged) -> None:
        for connection in self.registry.of_user(event.user_id):
            if not connection.follows_memberships or self.registry.get(connection.key) is not connection:
                continue  # follows fixed topics, or gone while an earlier one moved
            if event.joined:
                self.registry.follow(connection, event.topic_id)
            else:
                self.registry.unfollow(connection, event.topic_id)
            await connection.writer.moved(connection, event.topic_id, event.joined)


# Shared and never changed: no allocation per event when nothing is held or reached one by one.
_NONE: list[Connection] = []
_NOTHING_HELD: tuple[dict[int, list[Connection]], list[tuple[Connection, Close]]] = ({}, [])
