"""What the server must answer to a hostile WebSocket input: the expectations the catalogue names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from tests.hostile.harness import Watch
from tests.hostile.raw import NO_CLOSE_FRAME, RawSocket


class Expectation(Protocol):
    async def check(self, raw: RawSocket, watch: Watch) -> None: ...


@dataclass(frozen=True)
class Refused:
    """Ack 1 is the error ``code``; the socket stays connected (ack 2 of a follow-up succeeds)."""

    code: str = "invalid"
    namespace: str = "/"

    async def check(self, raw: RawSocket, watch: Watch) -> None:
        ack = await raw.ack(1)
        assert ack["ok"] is False, ack
        assert ack["error"]["code"] == self.code, ack
        await Served(self.namespace).check(raw, watch)


@dataclass(frozen=True)
class Served:
    """The socket still answers: a follow-up event (ack 2) succeeds; nothing was counted undecodable."""

    namespace: str = "/"

    async def check(self, raw: RawSocket, watch: Watch) -> None:
        if self.namespace == "/":
            await raw.send('422["topic:list",{}]')
            assert (await raw.ack(2))["ok"] is True
        else:
            await raw.send(f'42{self.namespace},2["echo","ping"]')
            assert await raw.ack(2) == "ping"
        watch.counted(0)


@dataclass(frozen=True)
class Acked:
    """Ack ``ack_id`` is ``payload`` exactly (``None``: any success envelope)."""

    ack_id: int = 1
    payload: Any = None

    async def check(self, raw: RawSocket, watch: Watch) -> None:
        ack = await raw.ack(self.ack_id)
        if self.payload is None:
            assert ack["ok"] is True, ack
        else:
            assert ack == self.payload
        watch.counted(0)


@dataclass(frozen=True)
class Closed:
    """The server closes this socket with a close frame, answers nothing, counts ``counted`` undecodable."""

    counted: int = 1

    async def check(self, raw: RawSocket, watch: Watch) -> None:
        code = await raw.closed()
        assert code != NO_CLOSE_FRAME, "the TCP connection was dropped without a close frame"
        assert raw.answered() == [], "a packet that closes the connection was answered"
        watch.counted(self.counted)


@dataclass(frozen=True)
class ConnectRefused:
    """A CONNECT_ERROR whose message and data.code are ``code``."""

    code: str = "unauthorized"

    async def check(self, raw: RawSocket, watch: Watch) -> None:
        error = await raw.connect_error()
        assert error["message"] == self.code, error
        assert error["data"]["code"] == self.code, error
        watch.counted(0)
