"""DTOs of the server API's live side (PROTOCOL.md section 17): an ``app:`` event emitted, and
presence asked for the cluster."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from server.chat.kernel.schemas import In, Out, TopicName, Username, check_text

APP_PREFIX = "app:"
MAX_ACK_MS = 30_000


def _check_app_event(value: str) -> str:
    if not value.startswith(APP_PREFIX):
        raise ValueError(f"must start with {APP_PREFIX!r}: the application's events are named apart")
    return check_text(value)


AppEventName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_app_event)
]


class EmitIn(In):
    """``POST /api/server/emit``: ``event`` with ``data`` to a topic's online members or a user's
    sockets; with ``user``, ``ack_timeout_ms`` asks each socket for an acknowledgement."""

    topic: TopicName | None = None
    user: Username | None = None
    event: AppEventName
    data: Any = None
    ack_timeout_ms: Annotated[int, Field(ge=1, le=MAX_ACK_MS)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> EmitIn:
        if (self.topic is None) == (self.user is None):
            raise ValueError("exactly one of 'topic' and 'user' is required")
        if self.ack_timeout_ms is not None and self.user is None:
            raise ValueError(
                "'ack_timeout_ms' is for a 'user': acknowledgements are asked of one user's sockets"
            )
        return self


class EmittedOut(Out):
    """The sockets the event was written to, summed over the nodes that answered."""

    sockets: int


class AckOut(Out):
    socket: str
    data: Any


class AcksOut(Out):
    """Each socket's acknowledgement, and how many of the user's sockets did not answer in time."""

    acks: list[AckOut]
    missing: int


class TopicPresenceOut(Out):
    """The topic's members with a socket on any node, by name."""

    online: list[str]
    count: int


class UserPresenceOut(Out):
    online: bool
    sockets: int
    availability: Literal["online", "away", "dnd", "offline"]
    last_seen: str | None
