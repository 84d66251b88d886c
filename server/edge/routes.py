"""The event route table: event or action name -> payload model -> service call.

Socket.IO registers every route, and the topics dialect maps its own action names
onto the same routes (the original topics service's ``suscribe``, ``create``,
``invite`` and ``message`` are routes here already), so those two transports share
each event's service call, written once here. REST, the other dialects and the bots
call the services themselves. ``invoke`` validates and calls; whatever a call raises is
classified once (``server.edge.errors.classify``) and rendered by the
transport's codec (``server.edge.realtime.dispatch``).

A few events are about the connection itself rather than the chat (``connection_routes``:
``auth:refresh``): their call gets the realtime connection, so only the transports of the
realtime runtime offer them (Socket.IO's chat namespace; no dialect has such an action).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from server.chat.accounts.schemas import RefreshedOut, RefreshIn
from server.chat.calls.schemas import CallRefIn, CallSignalIn, CallStartIn
from server.chat.connections.schemas import CursorIn, TypingIn
from server.chat.conversations.schemas import (
    DeleteIn,
    EditIn,
    HistoryIn,
    InviteIn,
    LegacyMessageIn,
    MembersIn,
    NotifyIn,
    PinsIn,
    ReactionIn,
    SendIn,
    ThreadHistoryIn,
    TopicCreateIn,
    TopicRefIn,
)
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import EmptyIn
from server.chat.kernel.views import iso_required
from server.chat.moderation.schemas import BanIn, MemberActionIn, MuteIn, ReportIn, RoleIn, TopicUpdateIn
from server.chat.notifications.schemas import NotificationPrefsIn
from server.chat.people.schemas import (
    AvailabilitySetIn,
    ProfileUpdateIn,
    StatusSetIn,
    UsersGetIn,
    UsersSearchIn,
)
from server.chat.previews.schemas import RemovePreviewsIn
from server.chat.rules.schemas import BlockIn
from server.chat.search.schemas import SearchIn
from server.chat.service import Chat

if TYPE_CHECKING:  # the runtime uses this table, not the other way round
    from server.edge.realtime.connection import Connection
    from server.edge.realtime.expiry import Expiry

Call = Callable[[Actor, Any], Awaitable[Any]]
ConnectionCall = Callable[["Connection", Any], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    model: type[BaseModel]
    call: Call


@dataclass(frozen=True)
class ConnectionRoute:
    """An event about the connection itself: its call gets the connection, not only its actor."""

    model: type[BaseModel]
    call: ConnectionCall


def chat_routes(chat: Chat) -> dict[str, Route]:
    """Every client-to-server event of PROTOCOL.md section 3, with the original protocol's aliases."""
    c = chat
    return {
        "topic:create": Route(TopicCreateIn, lambda a, d: c.topics.create(a, d.name, d.private)),
        "topic:subscribe": Route(TopicRefIn, lambda a, d: c.topics.subscribe(a, d.topic)),
        "topic:unsubscribe": Route(TopicRefIn, lambda a, d: c.topics.unsubscribe(a, d.topic)),
        "topic:invite": Route(InviteIn, lambda a, d: c.topics.invite(a, d.topic, d.username)),
        "topic:list": Route(EmptyIn, lambda a, _d: c.topics.list(a)),
        "topic:members": Route(
            MembersIn, lambda a, d: c.topics.members(a, d.topic, query=d.query, limit=d.limit)
        ),
        "message:send": Route(
            SendIn,
            lambda a, d: c.messages.send(a, d.target, d.body, d.client_id, d.reply_to, d.thread, d.file_ids),
        ),
        "message:edit": Route(EditIn, lambda a, d: c.messages.edit(a, d.id, d.body)),
        "message:delete": Route(DeleteIn, lambda a, d: c.messages.delete(a, d.id)),
        "history": Route(HistoryIn, lambda a, d: c.messages.history(a, d.target, d.before_seq, d.limit)),
        "typing": Route(TypingIn, lambda a, d: c.signals.typing(a, d.target, d.typing)),
        "read": Route(CursorIn, lambda a, d: c.signals.read(a, d.target, d.seq)),
        "delivered": Route(CursorIn, lambda a, d: c.delivery.acknowledge(a, d.target, d.seq)),
        # Conversations (PROTOCOL.md section 8).
        "reaction:add": Route(ReactionIn, lambda a, d: c.reactions.add(a, d.id, d.emoji)),
        "reaction:remove": Route(ReactionIn, lambda a, d: c.reactions.remove(a, d.id, d.emoji)),
        "thread:history": Route(
            ThreadHistoryIn, lambda a, d: c.messages.thread_history(a, d.root, d.before_id, d.limit)
        ),
        "topic:notify": Route(NotifyIn, lambda a, d: c.topics.notify(a, d.target, d.level)),
        # People (PROTOCOL.md section 14).
        "profile:update": Route(ProfileUpdateIn, lambda a, d: c.people.update(a, d)),
        "status:set": Route(StatusSetIn, lambda a, d: c.people.set_status(a, d)),
        "status:clear": Route(EmptyIn, lambda a, _d: c.people.clear_status(a)),
        "availability:set": Route(
            AvailabilitySetIn, lambda a, d: c.people.set_availability(a, d.availability)
        ),
        "presence:active": Route(EmptyIn, lambda a, _d: c.people.still_here(a)),
        "users:search": Route(UsersSearchIn, lambda a, d: c.people.search(a, d.q, d.limit)),
        "users:get": Route(UsersGetIn, lambda a, d: c.people.get(a, d.usernames)),
        # Notifications (PROTOCOL.md section 15).
        "notifications:get": Route(EmptyIn, lambda a, _d: c.notifications.get(a)),
        "notifications:set": Route(NotificationPrefsIn, lambda a, d: c.notifications.set(a, d)),
        "message:previews:remove": Route(RemovePreviewsIn, lambda a, d: c.previews.remove(a, d.id)),
        "message:pin": Route(DeleteIn, lambda a, d: c.pins.pin(a, d.id)),
        "message:unpin": Route(DeleteIn, lambda a, d: c.pins.unpin(a, d.id)),
        "topic:pins": Route(PinsIn, lambda a, d: c.pins.list(a, d.target)),
        # Moderation (PROTOCOL.md section 10).
        "topic:role": Route(RoleIn, lambda a, d: c.moderation.role(a, d.topic, d.username, d.role)),
        "topic:kick": Route(MemberActionIn, lambda a, d: c.moderation.kick(a, d.topic, d.username, d.reason)),
        "topic:ban": Route(BanIn, lambda a, d: c.moderation.ban(a, d.topic, d.username, d.reason, d.minutes)),
        "topic:unban": Route(MemberActionIn, lambda a, d: c.moderation.unban(a, d.topic, d.username)),
        "topic:bans": Route(TopicRefIn, lambda a, d: c.moderation.bans(a, d.topic)),
        "topic:mute": Route(MuteIn, lambda a, d: c.moderation.mute(a, d.topic, d.username, d.minutes)),
        "topic:unmute": Route(MemberActionIn, lambda a, d: c.moderation.unmute(a, d.topic, d.username)),
        "topic:update": Route(
            TopicUpdateIn, lambda a, d: c.moderation.update(a, d.topic, d.name, d.description, d.retention())
        ),
        "topic:archive": Route(TopicRefIn, lambda a, d: c.moderation.archive(a, d.topic)),
        "topic:unarchive": Route(TopicRefIn, lambda a, d: c.moderation.unarchive(a, d.topic)),
        # Blocking and reports (PROTOCOL.md section 10).
        "user:block": Route(BlockIn, lambda a, d: c.blocks.block(a, d.username)),
        "user:unblock": Route(BlockIn, lambda a, d: c.blocks.unblock(a, d.username)),
        "user:blocks": Route(EmptyIn, lambda a, _d: c.blocks.list(a)),
        "message:report": Route(ReportIn, lambda a, d: c.reports.report(a, d.id, d.reason)),
        # Search (PROTOCOL.md section 9).
        "search": Route(SearchIn, lambda a, d: c.search.search(a, d.q, d.topic, d.with_, d.cursor, d.limit)),
        # The original JSON protocol's names (also the topics gateway's actions).
        "subscribe": Route(TopicRefIn, lambda a, d: c.topics.subscribe(a, d.topic)),
        "suscribe": Route(TopicRefIn, lambda a, d: c.topics.subscribe(a, d.topic)),
        "create": Route(TopicCreateIn, lambda a, d: c.topics.create(a, d.name, d.private)),
        "invite": Route(InviteIn, lambda a, d: c.topics.invite(a, d.topic, d.username)),
        "message": Route(
            LegacyMessageIn, lambda a, d: c.messages.send_legacy(a, d.topic_name, d.content, d.client_id)
        ),
    }


async def invoke(route: Route, actor: Actor, payload: Any) -> Any:
    """Validate ``payload`` with the route's model and call the service. Raises what the call raises."""
    return await route.call(actor, route.model.model_validate(payload))


def connection_routes(chat: Chat, expiry: Expiry) -> dict[str, ConnectionRoute]:
    """The events about a realtime connection itself (PROTOCOL.md section 10, "Token refresh")."""

    async def refresh(connection: Connection, data: RefreshIn) -> RefreshedOut:
        expires_at = await chat.users.renew(connection.actor, data.token)  # unauthorized: keeps its own
        expiry.extend(connection, expires_at)
        return RefreshedOut(expires_at=iso_required(expires_at))

    return {"auth:refresh": ConnectionRoute(RefreshIn, refresh)}


def call_routes(chat: Chat) -> dict[str, ConnectionRoute]:
    """Calls (PROTOCOL.md section 18): a participant takes part through one socket, so these calls
    get the connection (its key, the Socket.IO sid, is where the call's signals go)."""
    c = chat.calls
    return {
        "call:start": ConnectionRoute(
            CallStartIn, lambda n, d: c.start_call(n.actor, n.key, d.target, d.media)
        ),
        "call:join": ConnectionRoute(CallRefIn, lambda n, d: c.join(n.actor, n.key, d.call)),
        "call:leave": ConnectionRoute(CallRefIn, lambda n, d: c.leave(n.actor, n.key, d.call)),
        "call:signal": ConnectionRoute(
            CallSignalIn, lambda n, d: c.signal(n.actor, n.key, d.call, d.to, d.data)
        ),
        "call:list": ConnectionRoute(EmptyIn, lambda n, _d: c.listed(n.actor)),
    }


async def invoke_on(route: ConnectionRoute, connection: Connection, payload: Any) -> Any:
    """``invoke`` for a connection's own event."""
    return await route.call(connection, route.model.model_validate(payload))
