"""Connects beyond ``PARLEY_CONNECT_CONCURRENCY`` wait their turn (server/chat/kernel/gate.py).

With one turn, held here as a set-up in progress would hold it: a CONNECT (or a gateway
dialect's socket) queues instead of failing, and is let in once the turn is free. One whose
client leaves while it waits is never let in and keeps nothing (no socket counted for its user,
no connection registered, not online, no turn).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from bench.client import SioClient
from tests.edge.gateway.wsclient import opened
from tests.support import WAIT, LiveServer, running
from tests.support import test_settings as make_settings


@pytest.fixture
async def one_turn(tmp_path) -> AsyncIterator[LiveServer]:  # type: ignore[no-untyped-def]
    async with running(make_settings(tmp_path / "data", connect_concurrency=1)) as server:
        yield server


async def until(condition: Callable[[], bool]) -> None:
    """Poll state of the server under test (nothing to await on it), bounded by ``WAIT``."""
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_connect_past_the_limit_waits_for_a_turn_and_then_gets_its_session(one_turn):
    token = await one_turn.register("alice")
    gate = one_turn.chat.sessions.setups
    async with aiohttp.ClientSession() as http:
        client = SioClient(http, one_turn.url, token)
        async with gate.turn():
            connecting = asyncio.ensure_future(client.connect(WAIT))
            await until(lambda: gate.waiting == 1)
            assert not connecting.done()  # queued, not refused
        await asyncio.wait_for(connecting, WAIT)
        assert (await client.wait_session(WAIT))["user"]["username"] == "alice"
        await client.close()
    assert (gate.running, gate.waiting) == (0, 0)


async def test_a_connect_whose_client_left_while_it_waited_is_never_let_in_and_keeps_nothing(
    one_turn, caplog
):
    token = await one_turn.register("alice")
    alice_id = (await one_turn.chat.users.authenticate(token)).id
    gate, namespace = one_turn.chat.sessions.setups, one_turn.app.state.chat_namespace
    caplog.set_level(logging.INFO, logger="parley.sio")
    async with aiohttp.ClientSession() as http:
        leaving = SioClient(http, one_turn.url, token)
        async with gate.turn():
            connecting = asyncio.ensure_future(leaving.connect(WAIT))
            await until(lambda: gate.waiting == 1)
            await leaving.close()  # its WebSocket's closing handshake is done
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(connecting, WAIT)
        await until(lambda: gate.running == 0 and not namespace.sio.eio.sockets)
        assert [r for r in caplog.records if r.name == "parley.sio" and r.getMessage() == "connect"] == []
        assert one_turn.chat.sessions.connections(alice_id) == 0
        assert namespace.registry.of_user(alice_id) == []
        assert not await one_turn.chat.presence.is_online(alice_id)
        # and the next socket is served as usual
        staying = SioClient(http, one_turn.url, token)
        await staying.connect(WAIT)
        await staying.wait_session(WAIT)
        assert one_turn.chat.sessions.connections(alice_id) == 1
        await staying.close()


async def test_a_gateway_socket_waits_for_a_turn_too(one_turn):
    token = await one_turn.register("alice")
    gate = one_turn.chat.sessions.setups
    async with contextlib.AsyncExitStack() as stack:
        async with gate.turn():
            socket = await stack.enter_async_context(opened(one_turn, f"/compat/topics/{token}"))
            await until(lambda: gate.waiting == 1)  # accepted; its session waits behind the held turn
        assert await socket.recv() == {"action": "connected", "ok": True, "data": {"username": "alice"}}
    await until(lambda: gate.running == 0)
    assert gate.waiting == 0
