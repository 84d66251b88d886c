"""The one dispatch pipeline without a server: a small codec over text frames ``"<action> <arg>"``.

What every transport and dialect gets from it: decode before the rate check (a frame the codec
cannot read takes no token), the codec's ``rate_limited`` text, an unexpected exception answered
``internal`` with the reference the log line carries, and one count per answered frame.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.ratelimit import TokenBucket
from server.edge.realtime.dispatch import dispatch
from tests.edge.sio.logs import captured


class Sender:
    def __init__(self, burst: int, user_id: int = 1) -> None:
        self.actor = Actor(user_id, f"user{user_id}")
        self.bucket = TokenBucket(burst, 0)


class TextCodec:
    """``echo <text>`` answers the text; ``boom`` raises what no service would; anything else is invalid."""

    too_many = "too many frames; slow down"

    def __init__(self, senders: dict[str, Sender]) -> None:
        self.senders = senders
        self.counted: list[tuple[str | None, str]] = []
        self.limited_keys: list[str] = []
        self.seen: list[int] = []
        self.active = self.seen.append

    def admit(self, key: str) -> Sender:
        sender = self.senders.get(key)
        if sender is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "who are you")
        return sender

    def parse(self, frame: str) -> tuple[str, str]:
        action, _, arg = frame.partition(" ")
        if action not in ("echo", "boom"):
            raise ChatError(ErrorCode.INVALID, f"unknown action {action!r}")
        return action, arg

    async def invoke(self, _sender: Sender, action: str | None, arg: Any) -> Any:
        if action == "boom":
            raise ZeroDivisionError("a bug")
        return arg

    def ok(self, key: str, action: str | None, result: Any) -> tuple[str, Any]:
        return "ok", result

    def err(self, key: str, action: str | None, error: ChatError) -> tuple[str, Any]:
        return error.code.value, error.message

    def label(self, action: str | None) -> str:
        return f"text:{action or 'unknown'}"

    def record(self, action: str | None, outcome: str, elapsed: float) -> None:
        assert elapsed >= 0
        self.counted.append((action, outcome))

    def limited(self, key: str) -> None:
        self.limited_keys.append(key)


async def test_a_frame_is_decoded_invoked_rendered_and_counted() -> None:
    codec = TextCodec({"a": Sender(5)})

    assert await dispatch(codec, "a", "echo hi") == ("ok", "hi")
    assert codec.counted == [("echo", "ok")]


async def test_an_unknown_sender_is_refused_before_anything_is_read() -> None:
    codec = TextCodec({})

    assert await dispatch(codec, "nobody", "echo hi") == ("unauthorized", "who are you")
    assert codec.counted == [(None, "unauthorized")]


async def test_a_frame_the_codec_cannot_read_takes_no_token() -> None:
    codec = TextCodec({"a": Sender(1)})

    assert await dispatch(codec, "a", "dance") == ("invalid", "unknown action 'dance'")
    assert await dispatch(codec, "a", "echo one") == ("ok", "one")
    assert await dispatch(codec, "a", "echo two") == ("rate_limited", "too many frames; slow down")
    assert codec.counted == [(None, "invalid"), ("echo", "ok"), ("echo", "rate_limited")]
    assert codec.limited_keys == ["a"]  # the refusal, counted with its key (server.refusals)


async def test_an_unexpected_exception_is_internal_with_the_reference_of_its_log_line() -> None:
    codec = TextCodec({"a": Sender(5)})

    with captured("parley") as logs:
        outcome, message = await dispatch(codec, "a", "boom")

    assert outcome == "internal"
    reference = re.fullmatch(r"internal error \(reference (\w{12})\)", message)
    assert reference is not None, message
    [line] = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert (line.getMessage(), line.event, line.reference) == (
        "event failed",
        "text:boom",
        reference.group(1),
    )  # type: ignore[attr-defined]
    assert line.exc_info is not None and line.exc_info[0] is ZeroDivisionError
    assert codec.counted == [("boom", "internal")]


async def test_every_admitted_frame_is_its_users_activity_even_one_refused_later() -> None:
    codec = TextCodec({"a": Sender(1, user_id=7), "b": Sender(5, user_id=8)})

    await dispatch(codec, "a", "echo hi")
    await dispatch(codec, "a", "echo again")  # rate_limited: still the user's own input
    await dispatch(codec, "b", "nonsense")
    await dispatch(codec, "nobody", "echo hi")

    assert codec.seen == [7, 7, 8]


async def test_a_codec_without_activity_tells_no_one() -> None:
    codec = TextCodec({"a": Sender(5)})
    codec.active = None

    assert await dispatch(codec, "a", "echo hi") == ("ok", "hi")
    assert codec.seen == []
