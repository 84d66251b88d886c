"""The one dispatch pipeline: a client's frame in, its answer out, on every realtime transport.

admit -> decode -> rate -> invoke (validate and call) -> render -> metrics, with the failure
of any step classified once (``server.edge.errors.classify``: an unexpected exception is
``internal`` with a logged reference) and rendered by the same codec. A transport or dialect
supplies only a ``Codec``: who sent the frame, what it asks, how to answer it and what to count.

Every admitted frame is its user's activity (``Codec.active``: away after a quiet while,
PROTOCOL.md section 14), told here for every transport and dialect whose sockets hold the
user's presence; a codec whose sockets hold none (the echo channels) has no ``active``.

Decoding comes before the rate check, as each dialect always did: a frame the dialect cannot
read takes no token (a Socket.IO event always decodes; its payload is checked when invoked).
This runs once per client event, on the hot path of ``message:send``: no awaits of its own and
no allocation but the ``(action, payload)`` pair; a codec's ``invoke`` may return the service's
awaitable as it is rather than wrap it in a coroutine of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any, Protocol, TypeVar

from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.ratelimit import TokenBucket
from server.edge.errors import classify


class Peer(Protocol):
    """The sender as the pipeline needs it: its user and its rate bucket (the codec knows the
    rest). A sender without a bucket is not limited here: a codec that admits such a sender says
    why."""

    @property
    def actor(self) -> Actor: ...

    @property
    def bucket(self) -> TokenBucket | None: ...


Active = Callable[[int], None]
"""Told a user's id on every frame of theirs (``PeopleService.active``: two dict writes)."""


K = TypeVar("K", contravariant=True)  # what names the sender: a sid, a socket
P = TypeVar("P", bound=Peer)  # the admitted sender
F = TypeVar("F", contravariant=True)  # a frame as the transport hands it in
R = TypeVar("R", covariant=True)  # the answer: an ack to return, or None once the codec wrote it


class Codec(Protocol[K, P, F, R]):
    """One transport's or dialect's side of the pipeline."""

    too_many: str  # the ``rate_limited`` text ("too many events; slow down")
    active: Active | None  # the sender's activity; None: this codec's sockets hold no presence

    def admit(self, key: K) -> P:
        """The sender of a frame; raises (``unauthorized``) when there is none."""
        ...

    def parse(self, frame: F) -> tuple[str | None, Any]:
        """The action a frame asks for and its payload; raises (``invalid``) for a frame that is not one."""
        ...

    def invoke(self, peer: P, action: str | None, payload: Any) -> Awaitable[Any]:
        """Validate the payload and call the service (the route table's or the dialect's action)."""
        ...

    def ok(self, key: K, action: str | None, result: Any) -> R: ...

    def err(self, key: K, action: str | None, error: ChatError) -> R: ...

    def label(self, action: str | None) -> str:
        """The name of the action in the log line of a failure (and, usually, in the metrics)."""
        ...

    def record(self, action: str | None, outcome: str, elapsed: float) -> None:
        """Count the answered frame (``outcome``: ``ok`` or the error code) and its handling time."""
        ...

    def limited(self, key: K) -> None:
        """The frame was refused ``rate_limited``: count the refusal, with the client's address
        (``server.refusals``)."""
        ...


async def dispatch(codec: Codec[K, P, F, R], key: K, frame: F) -> R:
    """Answer one frame; never raises (an ack handler or a reader loop must not)."""
    started = perf_counter()
    action: str | None = None
    try:
        peer = codec.admit(key)
        active = codec.active
        if active is not None:
            active(peer.actor.id)
        action, payload = codec.parse(frame)
        bucket = peer.bucket
        if bucket is not None and not bucket.take():
            raise ChatError(ErrorCode.RATE_LIMITED, codec.too_many)
        answer = codec.ok(key, action, await codec.invoke(peer, action, payload))
        outcome = "ok"
    except Exception as exc:
        error = classify(exc, "event failed", event=codec.label(action))
        answer = codec.err(key, action, error)
        outcome = error.code.value
        if error.code is ErrorCode.RATE_LIMITED:
            codec.limited(key)
    codec.record(action, outcome, perf_counter() - started)
    return answer
