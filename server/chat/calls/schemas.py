"""DTOs of calls (PROTOCOL.md section 18): what a client sends, and the Call object."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from server.chat.kernel.events import CallInfo
from server.chat.kernel.schemas import MAX_STORED_INT, In, ToTarget

MAX_SIGNAL_BYTES = 64 * 1024  # a signal's ``data``, as JSON
SIGNALS_PER_SECOND = 50  # per socket (a burst of as many)

CallId = Annotated[int, Field(ge=1, le=MAX_STORED_INT)]
PeerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class CallStartIn(ToTarget):
    media: Literal["audio", "video"] = "audio"


class CallRefIn(In):
    call: CallId


class CallSignalIn(In):
    call: CallId
    to: PeerId
    data: Any


def call_json(call: CallInfo) -> dict[str, Any]:
    """A Call object: ``topic`` or ``with``, never both."""
    where = {"topic": call.topic} if call.topic is not None else {"with": call.with_}
    return {
        "id": call.id,
        **where,
        "media": call.media,
        "started_by": call.started_by,
        "started_at": call.started_at,
        "participants": list(call.participants),
    }
