"""An application's ``app:`` events on Socket.IO sockets (PROTOCOL.md section 17), one node.

The backend's emit is called as the server API calls it (``chat.live_events``); the sockets are
real python-socketio clients. Across two nodes: ``tests/scaleout/test_server_live_nodes.py``.
One server per module; each test has its own users and topics (``names``).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from server.chat.backends.live_schemas import AcksOut, EmitIn, EmittedOut
from server.chat.kernel.events import AppEvent, ToUser
from tests.shared_server import Names, own_sockets, shared_server
from tests.support import Client, LiveServer

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with shared_server(tmp_path_factory) as shared:
        yield shared


@pytest_asyncio.fixture(loop_scope="module")
async def live_server(server: LiveServer) -> AsyncIterator[LiveServer]:
    async with own_sockets(server) as live:
        yield live


@pytest.fixture
def names() -> Names:
    return Names()


async def emit(server: LiveServer, **fields: Any) -> Any:
    return await server.chat.live_events.emit(EmitIn.model_validate(fields))


def answering(client: Client, event: str, answer: Any) -> list[Any]:
    """Make ``client`` acknowledge ``event`` with ``answer``; the data it got, in a list."""
    got: list[Any] = []

    async def handler(data: Any) -> Any:
        got.append(data)
        return answer

    client.sio.on(event, handler)
    return got


async def test_an_emit_to_a_user_asks_each_socket_for_its_acknowledgement(live_server, names):
    token = await live_server.register(names.alice)
    phone = await live_server.connect(names.alice, token)
    laptop = await live_server.connect(names.alice, token)
    answering(phone, "app:ping", {"from": "phone"})
    got = answering(laptop, "app:ping", ["laptop", 2])

    answer = await emit(live_server, user=names.alice, event="app:ping", data={"n": 1}, ack_timeout_ms=3000)

    assert isinstance(answer, AcksOut)
    assert answer.missing == 0
    assert sorted((ack.socket, str(ack.data)) for ack in answer.acks) == sorted(
        [(phone.sio.get_sid(), "{'from': 'phone'}"), (laptop.sio.get_sid(), "['laptop', 2]")]
    )
    assert got == [{"n": 1}]


async def test_a_socket_that_does_not_answer_in_time_is_missing(live_server, names):
    token = await live_server.register(names.alice)
    quick = await live_server.connect(names.alice, token)
    slow = await live_server.connect(names.alice, token)
    answering(quick, "app:ask", "yes")
    release = asyncio.Event()

    async def never_in_time(_data: Any) -> str:
        await release.wait()
        return "too late"

    slow.sio.on("app:ask", never_in_time)
    try:
        answer = await emit(live_server, user=names.alice, event="app:ask", data=None, ack_timeout_ms=300)
    finally:
        release.set()

    assert isinstance(answer, AcksOut)
    assert [(ack.socket, ack.data) for ack in answer.acks] == [(quick.sio.get_sid(), "yes")]
    assert answer.missing == 1


async def test_an_emit_to_a_user_without_sockets_reaches_nobody(live_server, names):
    await live_server.register(names.alice)

    assert await emit(live_server, user=names.alice, event="app:x", data=1) == EmittedOut(sockets=0)
    answer = await emit(live_server, user=names.alice, event="app:x", data=1, ack_timeout_ms=100)
    assert answer == AcksOut(acks=[], missing=0)


async def test_an_emit_to_a_topic_reaches_its_online_members_and_nobody_else(live_server, names):
    alice = await live_server.user(names.alice)
    bob = await live_server.user(names.bob)
    outsider = await live_server.user(names.carol)
    await live_server.register(names.dave)  # a member with no socket
    await alice.ok("topic:create", {"name": names.topic, "private": True})
    await alice.ok("topic:invite", {"topic": names.topic, "username": names.bob})
    await alice.ok("topic:invite", {"topic": names.topic, "username": names.dave})

    answer = await emit(live_server, topic=names.topic, event="app:board", data=[1, "two", None])

    assert answer == EmittedOut(sockets=2)
    assert await alice.next("app:board") == [1, "two", None]
    assert await bob.next("app:board") == [1, "two", None]
    await emit(live_server, user=names.carol, event="app:later", data="after")
    assert await outsider.next("app:later") == "after"  # later than the topic's emit, on the same node
    assert outsider.pending("app:board") == []


async def test_the_data_arrives_as_one_argument_whatever_json_it_is(live_server, names):
    alice = await live_server.user(names.alice)
    got: list[tuple[Any, ...]] = []

    async def handler(*args: Any) -> None:
        got.append(args)

    alice.sio.on("app:any", handler)
    for data in ("text", 3.5, None, {"$": "not a class"}, [[]]):
        await emit(live_server, user=names.alice, event="app:any", data=data)
    await emit(live_server, user=names.alice, event="app:any", data="end", ack_timeout_ms=3000)

    assert got == [("text",), (3.5,), (None,), ({"$": "not a class"},), ([[]],), ("end",)]


async def test_a_client_may_not_send_an_app_event(live_server, names):
    alice = await live_server.user(names.alice)

    ack = await alice.call("app:ping", {"n": 1})

    assert ack == {
        "ok": False,
        "error": {"code": "invalid", "message": "'app:' events go from the server to clients, never back"},
    }
    assert (await alice.ok("topic:list"))["topics"] is not None  # still connected and served


@pytest.mark.parametrize("dialect", ["topics", "rooms", "messenger"])
async def test_only_socket_io_carries_app_events_the_gateways_dialects_render_none(dialect):
    wire = importlib.import_module(f"server.edge.gateway.dialects.{dialect}.wire")

    assert wire.push(AppEvent("app:x", '{"a": 1}', ToUser(1))) is None
