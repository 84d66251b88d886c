"""``parley conformance-server`` in a subprocess: the protocol test suites' app, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.cli.runner import Place, parley, place_in, serving_process

WAIT = 5.0
READY = "/engine.io/?EIO=4&transport=polling"


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return place_in(tmp_path)


async def test_it_serves_socket_io_and_engine_io_with_the_suites_heartbeat(place, unused_tcp_port):
    async with serving_process(place, unused_tcp_port, "conformance-server", ready=READY) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            answer = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
            chat = await http.get("/api/topics")
        async with connect(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket") as ws:
            await ws.recv()
            await ws.send('40/custom,{"token":"abc"}')
            reply, auth = await ws.recv(), await ws.recv()

    opened = json.loads(answer.text[1:])
    assert (opened["pingInterval"], opened["pingTimeout"], opened["maxPayload"]) == (300, 200, 1_000_000)
    assert str(reply).startswith("40/custom,{")
    assert auth == '42/custom,["auth",{"token":"abc"}]'
    assert chat.status_code == 404  # no chat here
    assert not place.database.exists()


async def test_its_help_names_the_suites(place):
    helped = await parley(place, "conformance-server", "--help")

    assert helped.code == 0
    assert "socket.io-protocol" in helped.out and "--port" in helped.out
