"""Hostile input over Engine.IO long-polling (httpx), against one real ``parley serve`` (PROTOCOL.md 2, 5a).

Each case is one POST body after mallory's session is up (or, with
``connect=False``, right after the handshake), the HTTP status it must get,
and what follows: ``Acks`` (the listed ack ids answered with these codes),
``Ended`` (the session is closed; counted undecodable or not). A body given as
a list of chunks is sent chunked (no Content-Length). An ``Upload`` is a body
the server must refuse before reading it all: only its head is sent, over a
plain socket, and the answer read (a client still writing would get a reset
instead). Every case also checks bob, nothing stored, and no traceback in the
log.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tests.edge.sio.polling import PATH, SEPARATOR, Closed, RawPolling, acks, event
from tests.hostile.harness import WAIT, Server, Watch, bystander, parley_serve

LIMIT = 64 * 1024


@dataclass(frozen=True)
class Acks:
    """Each ack id answered: ``"ok"`` or the error code."""

    codes: dict[int, str]

    async def check(self, raw: RawPolling, watch: Watch) -> None:
        got = acks(await raw.until(lambda p: set(self.codes) <= set(acks(p)), timeout=WAIT))
        assert {i: "ok" if got[i]["ok"] else got[i]["error"]["code"] for i in self.codes} == self.codes
        watch.counted(0)


@dataclass(frozen=True)
class Ended:
    """The server ends the session (a CLOSE packet or an unknown sid) without answering anything."""

    counted: int = 1

    async def check(self, raw: RawPolling, watch: Watch) -> None:
        with pytest.raises(Closed):
            await raw.until(lambda _: False, timeout=3 * WAIT)
        assert acks(raw.inbox) == {}
        watch.counted(self.counted)


@dataclass(frozen=True)
class Upload:
    """A body of ``size`` bytes, declared (Content-Length) or chunked, of which only ``sent`` go out."""

    size: int
    chunked: bool = False
    sent: int = LIMIT + 8192

    def head(self, target: str, host: str) -> bytes:
        framing = "Transfer-Encoding: chunked" if self.chunked else f"Content-Length: {self.size}"
        return f"POST {target} HTTP/1.1\r\nHost: {host}\r\n{framing}\r\n\r\n".encode()

    def first_bytes(self) -> bytes:
        part = b"4" + b"x" * (min(self.size, self.sent) - 1)
        return b"%x\r\n%s\r\n" % (len(part), part) if self.chunked else part


@dataclass(frozen=True)
class PollCase:
    id: str
    body: bytes | list[bytes] | Upload | None  # a list: sent chunked; None: no POST at all
    status: int
    then: Acks | Ended
    connect: bool = True


def packets(*items: str) -> bytes:
    return SEPARATOR.join(items).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def chunks(data: bytes, size: int = 8192) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


TWO_EVENTS = packets(event(1, "topic:list", {}), event(2, "nope", {}))
CASES = [
    # D13: a chunked POST's packets are handled; past the byte limit it is refused 413 and the session ends.
    PollCase("chunked-packets-handled", chunks(TWO_EVENTS, 10), 200, Acks({1: "ok", 2: "invalid"})),
    PollCase("chunked-1MB", Upload(1024 * 1024, chunked=True), 413, Ended(0)),
    PollCase("chunked-just-over-limit", Upload(LIMIT + 1, chunked=True), 413, Ended(0)),
    PollCase("declared-1MB", Upload(1024 * 1024), 413, Ended(0)),
    PollCase("declared-16MB", Upload(16 * 1024 * 1024), 413, Ended(0)),
    # D12 and D1: undecodable bodies end the session, answered 400 when the framing is wrong.
    PollCase("invalid-utf8", b"42\xff\xfe", 400, Ended()),
    PollCase("engineio-zz", b"zz", 400, Ended()),
    PollCase("engineio-nul", b"\x00", 400, Ended()),
    PollCase("engineio-open-from-client", b"0", 400, Ended()),
    PollCase("engineio-ping-from-client", b"2", 400, Ended()),
    PollCase("engineio-noop-from-client", packets(event(1, "topic:list", {}), "6"), 400, Ended()),
    PollCase("empty-packet-in-batch", packets(event(1, "topic:list", {}), ""), 400, Ended()),
    PollCase("base64-binary-packet", b"bBGhlbGxv", 400, Ended()),
    PollCase("binary-event", packets('451-["history",{"_placeholder":true,"num":0}]', "bAA=="), 400, Ended()),
    PollCase("binary-ack", packets('461-[{"_placeholder":true,"num":0}]'), 400, Ended()),
    PollCase("truncated-json", packets('421["topic:list",{'), 200, Ended()),
    PollCase(
        "lone-surrogate", packets('421["message:send",{"topic":"lobby","body":"\\ud800"}]'), 200, Ended()
    ),
    PollCase("nesting-10000", packets(f'421["topic:list",{nested(10_000)}]'), 200, Ended()),
    PollCase("connect-invalid-json", packets("40{bad"), 200, Ended(), connect=False),
    # Bad payloads in one batch: each is answered, the session stays.
    PollCase(
        "batch-of-wrong-types",
        packets(
            event(1, "message:send", {"topic": "lobby", "body": 5}),
            event(2, "connect", {}),
            event(3, "history", {"topic": "lobby", "limit": "5"}),
            event(4, "topic:list", {}),
        ),
        200,
        Acks({1: "invalid", 2: "invalid", 3: "invalid", 4: "ok"}),
    ),
    # Order: events before CONNECT are ignored and the connect timeout ends the transport.
    PollCase("event-before-connect", packets(event(1, "topic:list", {})), 200, Ended(0), connect=False),
    PollCase("transport-open-no-connect", None, 200, Ended(0), connect=False),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with parley_serve(Path(tmp_path_factory.mktemp("hostile-polling"))) as running:
        yield running


async def streamed(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def post(server: Server, http: httpx.AsyncClient, raw: RawPolling, body: PollCase) -> int:
    """The status of the case's POST (httpx sends a list of chunks chunked)."""
    if isinstance(body.body, Upload):
        return await upload(server, f"{PATH}?{urlencode(raw._params())}", body.body)
    content = streamed(body.body) if isinstance(body.body, list) else body.body
    return (await http.post(PATH, params=raw._params(), content=content)).status_code


async def upload(server: Server, target: str, body: Upload) -> int:
    """Send the head of ``body`` over a plain socket; the status the server answers."""
    address = urlsplit(server.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(body.head(target, address.netloc) + body.first_bytes())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), WAIT)
        return int(status_line.split()[1])
    finally:
        writer.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_a_hostile_post_gets_its_answer_and_harms_no_one(server: Server, case: PollCase) -> None:
    async with bystander(server) as bob, httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        watch = server.watch()
        raw = RawPolling(http)
        if case.connect:
            await raw.connect({"token": server.tokens["mallory"]})
        else:
            await raw.open()
        if case.body is not None:
            assert await post(server, http, raw, case) == case.status
        await case.then.check(raw, watch)
        watch.nothing_stored()
        await watch.others_still_served(bob)


async def test_a_post_to_an_unknown_session_is_refused_and_harms_no_one(server: Server) -> None:
    async with bystander(server) as bob, httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        watch = server.watch()
        params = {"EIO": "4", "transport": "polling", "sid": "no-such-session"}
        answer = await http.post(PATH, params=params, content=packets(event(1, "topic:list", {})))
        assert answer.status_code == 400
        watch.nothing_stored()
        await watch.others_still_served(bob)


async def test_a_refused_token_over_polling_is_a_connect_error(server: Server) -> None:
    async with bystander(server) as bob, httpx.AsyncClient(base_url=server.url, timeout=WAIT) as http:
        watch = server.watch()
        raw = RawPolling(http)
        await raw.open()
        assert (await raw.post("40" + json.dumps({"token": "garbage"}))).status_code == 200
        [refusal] = await raw.until(lambda got: any(p.startswith("44") for p in got), timeout=WAIT)
        assert json.loads(refusal[2:])["data"]["code"] == "unauthorized"
        watch.nothing_stored()
        await watch.others_still_served(bob)
