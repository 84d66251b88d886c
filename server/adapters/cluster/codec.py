"""Domain events as JSON, to cross nodes.

Events are frozen dataclasses whose fields are plain values, audiences (more
dataclasses) and the pydantic results of ``schemas``. Each object is written
with its class name under ``"$"``; only the classes registered here can be
read back, so a message on the channel can name nothing else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from pydantic import BaseModel

from server.chat.kernel import events as ev
from server.chat.kernel.schemas import (
    MessageOut,
    PreviewOut,
    ProfileOut,
    ReactionOut,
    ThreadSummaryOut,
    TopicOut,
)

DATACLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        ev.ToTopic,
        ev.ToUser,
        ev.ToUsers,
        ev.ToEveryone,
        ev.MessageCreated,
        ev.MessageEdited,
        ev.MessageDeleted,
        ev.ReactionsChanged,
        ev.ThreadChanged,
        ev.PinsChanged,
        ev.PreviewsChanged,
        ev.UserUpdated,
        ev.TopicRemoved,
        ev.MuteChanged,
        ev.TopicUpdated,
        ev.TopicInvited,
        ev.TopicCreated,
        ev.Typing,
        ev.RoomEntered,
        ev.ReadMarked,
        ev.PresenceChanged,
        ev.MembershipChanged,
        ev.MemberListChanged,
        ev.SessionsRevoked,
        ev.SessionEnded,
        ev.RoleChanged,
        ev.TokenRevoked,
        ev.TopicRenamed,
        ev.TopicDeleted,
        ev.UserDeleted,
        ev.BlockChanged,
        ev.WebhooksChanged,
        ev.OutboxWritten,
        ev.EmojiEntry,
        ev.EmojiChanged,
        ev.CallInfo,
        ev.CallStarted,
        ev.CallJoined,
        ev.CallLeft,
        ev.CallEnded,
        ev.CallSignalled,
    )
}
MODELS: dict[str, type[BaseModel]] = {
    cls.__name__: cls for cls in (MessageOut, TopicOut, ReactionOut, ThreadSummaryOut, PreviewOut, ProfileOut)
}


class UnknownEvent(ValueError):
    """The channel carried something this node cannot read (another version, or not ours)."""


def dumps(node: str, events: tuple[ev.Event, ...], number: int = 0) -> bytes:
    """``number``: the sending node's count of its messages on the channel (the hub's heartbeats
    included), so that a receiver sees one it missed (``server.adapters.cluster.redis_hub``)."""
    return orjson.dumps({"node": node, "n": number, "events": [_plain(event) for event in events]})


def loads(data: bytes | str) -> tuple[str, list[ev.Event]]:
    """The sending node and its events. Raises ``UnknownEvent``."""
    node, _number, events = loads_numbered(data)
    return node, events


def loads_numbered(data: bytes | str) -> tuple[str, int, list[ev.Event]]:
    """The sending node, its number for this message (0 if none) and its events. Raises
    ``UnknownEvent``."""
    try:
        message = orjson.loads(data)
        events = [_build(item) for item in message["events"]]
        return str(message["node"]), int(message.get("n", 0)), events
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UnknownEvent(f"unreadable hub message: {exc}") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {"$": type(value).__name__, **value.model_dump(mode="json")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$": type(value).__name__, **fields}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _build(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_build(item) for item in value)
    if not isinstance(value, dict):
        return value
    name = value.get("$")
    fields = {key: item for key, item in value.items() if key != "$"}
    if name in MODELS:
        return MODELS[name].model_validate(fields)
    if name in DATACLASSES:
        return DATACLASSES[name](**{key: _build(item) for key, item in fields.items()})
    raise UnknownEvent(f"unknown type {name!r} on the hub channel")
