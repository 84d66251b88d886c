"""The echo channel's bounds (PROTOCOL.md sections 2 and 5, issue 18 item 8).

``/echo`` sockets count in the one per-user socket limit (with the chat namespace and the
gateways); ``GET /api/echo/history`` (and the echo dialect's ``/compat/echo/history``) pages
newest first, at most 20 transcripts a page (``?limit=``, ``?before=``), and a page of large
transcripts is rendered without holding the loop or a copy of every line as Python objects.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import socketio
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from server.chat.service import Chat
from tests.support import WAIT, Client, LiveServer, bearer, running
from tests.support import test_settings as settings_with

ECHO = "/echo"
HISTORY = "/api/echo/history"
DIALECT = "/compat/echo/history"


async def refused_echo_connect(live: LiveServer, token: str) -> dict[str, Any] | None:
    """The refusal of a new ``/echo`` connect, or None when it was accepted (then closed)."""
    sio = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    sio.on("connect_error", refusals.append, namespace=ECHO)
    try:
        await sio.connect(live.url, namespaces=[ECHO], auth={"token": token}, wait_timeout=WAIT)
    except socketio.exceptions.ConnectionError:
        [refusal] = refusals
        return dict(refusal)
    await sio.disconnect()
    return None


async def test_echo_sockets_count_in_the_one_per_user_socket_limit(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    clients: list[Client] = []
    for _ in range(25):  # 25 chat + 25 echo sockets: the default 50
        clients.append(await live_server.connect("alice", token, namespaces=["/", ECHO]))

    refusal = await refused_echo_connect(live_server, token)
    assert refusal is not None, "a 51st socket (on /echo) was accepted"
    assert refusal["message"] == "rate_limited" and refusal["data"]["code"] == "rate_limited", refusal
    chat = await live_server.http.get("/api/users/me", headers=bearer(token))  # REST is no socket
    assert chat.status_code == 200
    url = live_server.url.replace("http://", "ws://") + f"/compat/echo/ws/echo?token={token}"
    async with ws_connect(url) as ws:  # the gateway's echo socket shares the count
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429, closed.value

    await clients.pop().close()  # frees one chat and one echo socket
    deadline = asyncio.get_running_loop().time() + WAIT
    while (refusal := await refused_echo_connect(live_server, token)) is not None:
        assert asyncio.get_running_loop().time() < deadline, f"still refused after a close: {refusal}"
    async with ws_connect(url) as ws:
        await ws.send("still here")
        assert await asyncio.wait_for(ws.recv(), WAIT) == "still here"


async def store_transcripts(live: LiveServer, token: str, count: int, echoes: int = 1, pad: int = 0) -> None:
    """``count`` transcripts of ``echoes`` echoes each, stored through the server's own EchoService."""
    chat: Chat = live.app.state.chat
    actor = await chat.users.authenticate(token)
    for visit in range(count):
        session = await chat.echo.open(actor)
        for n in range(echoes):
            payload = {"visit": visit, "n": n, "pad": "x" * pad} if pad else {"visit": visit, "n": n}
            await session.echo(payload)
        await chat.echo.close(session)


def visits(page: dict[str, Any]) -> list[int]:
    return [t["lines"][0]["payload"]["visit"] for t in page["transcripts"]]


@pytest.mark.both_databases
@pytest.mark.parametrize("route", [HISTORY, DIALECT])
async def test_history_pages_newest_first_twenty_at_most(live_server: LiveServer, route: str) -> None:
    token = await live_server.register("alice")
    await store_transcripts(live_server, token, 45)
    bob = await live_server.register("bob")
    await store_transcripts(live_server, bob, 2)

    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        response = await live_server.http.get(route, params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if len(page["transcripts"]) < 20:
            break
        params = {"before": page["transcripts"][-1]["id"]}
        assert len(pages) < 5, "paging did not end"

    assert [len(page["transcripts"]) for page in pages] == [20, 20, 5]
    assert [v for page in pages for v in visits(page)] == list(range(44, -1, -1))
    assert all(set(t) == {"id", "started_at", "ended_at", "lines"} for p in pages for t in p["transcripts"])
    seven = await live_server.http.get(route, params={"limit": 7, "before": 10**9}, headers=bearer(token))
    assert visits(seven.json()) == list(range(44, 37, -1))
    ids = [t["id"] for t in pages[0]["transcripts"]]
    after = await live_server.http.get(route, params={"limit": 3, "before": ids[4]}, headers=bearer(token))
    assert [t["id"] for t in after.json()["transcripts"]] == ids[5:8]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 21}, {"limit": "x"}, {"before": 0}, {"before": -3}, {"before": "y"}]
)
async def test_bad_paging_params_are_refused(live_server: LiveServer, params: dict[str, Any]) -> None:
    token = await live_server.register("alice")
    api = await live_server.http.get(HISTORY, params=params, headers=bearer(token))
    assert (api.status_code, api.json()["error"]["code"]) == (422, "invalid"), api.text  # section 6
    dialect = await live_server.http.get(DIALECT, params=params, headers=bearer(token))
    assert dialect.status_code == 422 and set(dialect.json()) == {"detail"}, dialect.text


def kib(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert found
    return int(found.group(1))


def peak_reset() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def test_large_pages_render_off_the_loop_and_in_bounded_memory(tmp_path: Path) -> None:
    """Twenty transcripts at the cap, made of thousands of tiny lines (the costly shape as
    Python objects): ten pages at once and a health probe all answer, and the server (this
    process) does not grow by a copy of every line per request."""
    async with running(settings_with(tmp_path / "data")) as live:
        token = await live.register("alice")
        await store_transcripts(live, token, 20, echoes=2000)
        if not peak_reset():
            pytest.skip("this kernel does not let a process reset its peak RSS")
        before = kib("VmRSS")

        async def page() -> int:
            response = await live.http.get(HISTORY, headers=bearer(token))
            assert response.status_code == 200
            return len(response.content)

        async def probe() -> int:
            response = await live.http.get("/healthz")
            return response.status_code

        answers = asyncio.gather(probe(), *(page() for _ in range(10)), probe())
        sizes = await asyncio.wait_for(answers, 6 * WAIT)
        grown = kib("VmHWM") - before
    assert sizes[0] == sizes[-1] == 200
    assert all(size > 2 * 1024 * 1024 for size in sizes[1:-1]), sizes  # megabytes a page
    assert grown < 160 * 1024, f"ten pages grew the server by {grown // 1024} MiB"
