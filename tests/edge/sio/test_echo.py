"""The echo channel, namespace ``/echo`` (PROTOCOL.md section 5).

``echo`` acks its payload as is (no envelope), or, with an upstream WebSocket
echo server configured, the upstream's answer. An upstream that is down or
silent gives an ``internal`` error envelope within the echo timeout and the
socket stays usable. Each socket's transcript is stored when it disconnects
and listed newest first by ``GET /api/echo/history``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import socketio
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection, serve

from tests.support import WAIT, Client, LiveServer, bearer, running
from tests.support import test_settings as settings_with

ECHO = "/echo"
HANG = "please hang"


async def echo_client(live_server: LiveServer, username: str, token: str) -> Client:
    return await live_server.connect(username, token, wait_session=False, namespaces=[ECHO])


async def echo(client: Client, payload: Any) -> Any:
    return await client.call("echo", payload, namespace=ECHO)


@asynccontextmanager
async def upstream_server(received: list[Any]) -> AsyncIterator[str]:
    """A WebSocket echo server answering ``{"upstream": payload}``, silent for ``HANG``."""

    async def answer(ws: ServerConnection) -> None:
        async for frame in ws:
            payload = json.loads(frame)
            received.append(payload)
            if payload == HANG:
                await ws.wait_closed()
                return
            await ws.send(json.dumps({"upstream": payload}))

    async with serve(answer, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


def closed_port() -> int:
    """A port nothing listens on: bound by the OS, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def transcripts(live_server: LiveServer, token: str, count: int, **page: int) -> list[dict[str, Any]]:
    """The user's transcripts once ``count`` are stored.

    The server stores a transcript in its disconnect handler, which no event
    announces, so this asks again until they are there (bounded by WAIT).
    """
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        response = await live_server.http.get("/api/echo/history", headers=bearer(token))
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["transcripts"]
        if len(found) >= count:
            break
        assert asyncio.get_running_loop().time() < deadline, f"{count} transcripts expected, got {found}"
        await asyncio.sleep(0.02)
    if page:
        response = await live_server.http.get("/api/echo/history", params=page, headers=bearer(token))
        assert response.status_code == 200, response.text
        found = response.json()["transcripts"]
    return found


PAYLOADS = [
    pytest.param({"hello": "world", "n": 1}, id="object"),
    pytest.param([1, "two", None, 3.5, False], id="list"),
    pytest.param("héllo, wörld ✓", id="string"),
    pytest.param(42, id="integer"),
    pytest.param(-0.125, id="float"),
    pytest.param(True, id="boolean"),
    pytest.param({}, id="empty-object"),
    pytest.param({"a": {"b": [{"c": [1, [2, [3, {"d": None}]]]}], "e": []}}, id="nested"),
]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_echo_acks_any_json_payload_as_is(live_server: LiveServer, payload: Any) -> None:
    token = await live_server.register("alice")
    client = await echo_client(live_server, "alice", token)

    assert await echo(client, payload) == payload


async def test_an_echo_without_upstream_is_answered_in_its_sockets_reader_not_in_a_task_of_its_own(
    live_server: LiveServer,
) -> None:
    """python-socketio starts a task per event so that a handler that waits does not hold up its
    socket's next frames; the echo channel without an upstream awaits nothing, so its answer is
    made where the frame is read (``ParleyServer.answer_inline``): no task per echo. The same
    recording sees the server's reader tasks, so it would see a handler's task."""
    token = await live_server.register("alice")
    client = await echo_client(live_server, "alice", token)
    loop = asyncio.get_running_loop()
    created: list[str] = []

    def recording(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(getattr(coro, "__qualname__", ""))
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(recording)
    try:
        for n in range(5):
            assert await echo(client, {"n": n}) == {"n": n}
    finally:
        loop.set_task_factory(None)

    readers = {"LeanSocket._read_frames", "AsyncSocket._websocket_handler.<locals>.websocket_wait"}
    assert readers & set(created)  # the server's reader (parked, or on the upgraded path) was seen
    assert "AsyncServer._handle_event_internal" not in created


async def raw_echo_ack(live_server: LiveServer, token: str, payload_json: str) -> list[Any]:
    """The arguments of the ack to ``echo`` sent with this exact JSON payload.

    python-socketio's ``call`` returns None both for an ack of ``[null]`` and
    for an ack with no argument, so this speaks Engine.IO 4 / Socket.IO 5
    text frames over a bare WebSocket, as any client library does.
    """
    url = live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with ws_connect(url) as ws:
        assert str(await ws.recv()).startswith("0{")  # Engine.IO open
        await ws.send(f"40{ECHO}," + json.dumps({"token": token}))
        assert str(await ws.recv()).startswith(f"40{ECHO},")  # namespace connected
        await ws.send(f'42{ECHO},7["echo",{payload_json}]')
        ack = str(await ws.recv())
    prefix = f"43{ECHO},7"
    assert ack.startswith(prefix), ack
    arguments: list[Any] = json.loads(ack[len(prefix) :])
    return arguments


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"a": [None]}, id="object"),
        pytest.param(0, id="zero"),
        pytest.param(None, id="null"),
    ],
)
async def test_echo_acks_exactly_one_argument_equal_to_the_payload(
    live_server: LiveServer, payload: Any
) -> None:
    token = await live_server.register("alice")

    assert await raw_echo_ack(live_server, token, json.dumps(payload)) == [payload]


async def test_every_echo_is_counted(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    client = await echo_client(live_server, "alice", token)
    for n in range(3):
        assert await echo(client, n) == n

    metrics = (await live_server.http.get("/metrics")).text
    assert 'parley_socket_events_total{event="echo",outcome="ok"} 3.0' in metrics


async def test_echo_refuses_a_connection_without_a_valid_token(live_server: LiveServer) -> None:
    for auth in (None, {"token": "not-a-jwt"}):
        sio = socketio.AsyncClient(reconnection=False)
        refusals: list[Any] = []
        sio.on("connect_error", refusals.append, namespace=ECHO)

        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(live_server.url, namespaces=[ECHO], auth=auth, wait_timeout=WAIT)

        [refusal] = refusals
        assert refusal["message"] == "unauthorized", refusal
        assert refusal["data"]["code"] == "unauthorized", refusal
        assert sio.connected is False


async def test_echo_forwards_to_the_upstream_and_acks_its_answer(tmp_path: Path) -> None:
    received: list[Any] = []
    async with upstream_server(received) as url:
        async with running(settings_with(tmp_path / "data", echo_upstream=url, echo_timeout=1.0)) as live:
            client = await echo_client(live, "alice", await live.register("alice"))

            answers = [await echo(client, payload) for payload in ({"n": [1, 2]}, "text", 7)]

    assert answers == [{"upstream": {"n": [1, 2]}}, {"upstream": "text"}, {"upstream": 7}]
    assert received == [{"n": [1, 2]}, "text", 7]


async def test_an_unreachable_upstream_is_an_internal_error_and_the_socket_stays_usable(
    tmp_path: Path,
) -> None:
    url = f"ws://127.0.0.1:{closed_port()}"
    async with running(settings_with(tmp_path / "data", echo_upstream=url, echo_timeout=1.0)) as live:
        client = await echo_client(live, "alice", await live.register("alice"))

        first = await echo(client, {"n": 1})
        second = await echo(client, {"n": 2})

        for ack in (first, second):
            assert ack["ok"] is False and ack["error"]["code"] == "internal", ack
            assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
        assert client.connected


async def test_a_silent_upstream_times_out_as_an_internal_error_and_the_socket_stays_usable(
    tmp_path: Path,
) -> None:
    received: list[Any] = []
    async with upstream_server(received) as url:
        async with running(settings_with(tmp_path / "data", echo_upstream=url, echo_timeout=0.5)) as live:
            token = await live.register("alice")
            client = await echo_client(live, "alice", token)

            timed_out = await echo(client, HANG)  # Client.call gives up after WAIT (5 s)
            answered = await echo(client, {"after": "the timeout"})
            await client.close()

            [transcript] = await transcripts(live, token, 1)

    assert timed_out["ok"] is False and timed_out["error"]["code"] == "internal", timed_out
    assert answered == {"upstream": {"after": "the timeout"}}
    assert [(line["from"], line["payload"]) for line in transcript["lines"][::2]] == [
        ("client", HANG),
        ("client", {"after": "the timeout"}),
    ]
    assert [line["from"] for line in transcript["lines"]] == ["client", "error", "client", "server"]
    assert transcript["lines"][3]["payload"] == answered


async def test_the_transcript_is_stored_on_disconnect_in_order_with_times(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    client = await echo_client(live_server, "alice", token)
    payloads: list[Any] = ["one", {"two": 2}, [3]]
    for payload in payloads:
        await echo(client, payload)

    await client.close()

    [transcript] = await transcripts(live_server, token, 1)
    assert set(transcript) == {"id", "started_at", "ended_at", "lines"}
    assert [(line["from"], line["payload"]) for line in transcript["lines"]] == [
        (source, payload) for payload in payloads for source in ("client", "server")
    ]
    times = [transcript["started_at"], *(line["at"] for line in transcript["lines"]), transcript["ended_at"]]
    assert all(t.endswith("Z") for t in times), times
    moments = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times]
    assert moments == sorted(moments)


async def test_a_long_transcript_keeps_its_newest_lines_within_the_bound_and_says_how_many_went(
    tmp_path: Path,
) -> None:
    async with running(settings_with(tmp_path / "data", echo_transcript_bytes=8192)) as live:
        token = await live.register("alice")
        client = await echo_client(live, "alice", token)
        for n in range(150):  # about 150 KB of payloads through a socket whose transcript keeps 8 KiB
            assert await echo(client, {"n": n, "pad": "x" * 1000}) == {"n": n, "pad": "x" * 1000}

        await client.close()

        [transcript] = await transcripts(live, token, 1)
    first, *kept = transcript["lines"]
    assert first["from"] == "dropped" and first["payload"] == 300 - len(kept)
    assert sum(len(json.dumps(line, separators=(",", ":"))) for line in kept) <= 8192
    assert [line["payload"]["n"] for line in kept[-2:]] == [149, 149]  # the newest question and answer
    assert [line["from"] for line in kept[-2:]] == ["client", "server"]


async def test_transcripts_are_listed_newest_first_in_pages_and_only_to_their_owner(
    live_server: LiveServer,
) -> None:
    token = await live_server.register("alice")
    for visit in (1, 2, 3):
        client = await echo_client(live_server, "alice", token)
        await echo(client, {"visit": visit})
        await client.close()
        await transcripts(live_server, token, visit)  # stored before the next visit begins
    bob_token = await live_server.register("bob")

    first_page = await transcripts(live_server, token, 3, limit=2)
    second_page = await transcripts(live_server, token, 3, before=first_page[-1]["id"], limit=2)
    everything = await transcripts(live_server, token, 3)

    def visits(page: list[dict[str, Any]]) -> list[int]:
        return [t["lines"][0]["payload"]["visit"] for t in page]

    assert visits(first_page) == [3, 2]
    assert visits(second_page) == [1]
    assert visits(everything) == [3, 2, 1]
    assert len({t["id"] for t in everything}) == 3
    assert await transcripts(live_server, bob_token, 0) == []
    anonymous = await live_server.http.get("/api/echo/history")
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthorized")
