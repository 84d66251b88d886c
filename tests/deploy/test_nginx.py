"""deploy/nginx.conf in front of two real ``parley serve`` processes sharing Redis and PostgreSQL.

The shipped config runs as is; only its ``listen`` port and the two upstream ``server``
addresses are replaced (free loopback ports). nginx runs as the current user under a
temporary prefix; every process is stopped by its PID.

Affinity is by client address (``hash $remote_addr consistent``), so the clients here bind
distinct loopback source addresses (127.0.0.0/8), which is how distinct clients look to nginx.
Which node a client lands on is learned, not assumed: each node logs ``connect`` with the user
(a JSON line), and ``/metrics`` on each node counts the events that node handled.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import orjson
import pytest
import socketio
from playwright.async_api import expect
from websockets.asyncio.client import connect

from server.config import Settings
from tests.cli.runner import COMMAND, PASSWORD
from tests.databases import postgres_url
from tests.ports import free_port
from tests.scaleout.conftest import redis_url
from tests.web.chat_page import ChatPage
from tests.web.conftest import ARTIFACTS, DESKTOP

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.nginx]

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG = ROOT / "deploy" / "nginx.conf"
UPSTREAMS = ("parley-a:8000", "parley-b:8000")  # as in deploy/compose.yaml
STARTUP = 20.0  # seconds a process has to start answering
WAIT = 5.0
SOURCES = [f"127.0.0.{i}" for i in range(2, 255)]  # loopback client addresses
ADMIN_PASSWORD = "tangerine-kettle-49"


def render(config: str, listen_port: int, servers: dict[str, str]) -> str:
    """The shipped config with only the listen port and the upstream addresses replaced.

    ``servers`` maps upstream names (``parley-a:8000``) to addresses; a name it leaves out has
    its line deleted, as docs/deploy.md's ``sed -e '/parley-b:8000/d'`` pins nginx to one node.
    """
    rendered, count = re.subn(
        r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{listen_port};", config, flags=re.M
    )
    assert count == 1, "deploy/nginx.conf should have one `listen 80;`"
    for name in UPSTREAMS:
        line = rf"^(\s*server ){re.escape(name)}( [^\n]*)?;\n"
        address = servers.get(name)
        replacement = rf"\g<1>{address}\g<2>;\n" if address else ""
        rendered, count = re.subn(line, replacement, rendered, flags=re.M)
        assert count == 1, f"deploy/nginx.conf should name the upstream server {name} once"
    return rendered


def test_nginx_drops_an_idle_upstream_connection_before_parley_closes_it():
    """A request nginx sends on a kept-alive connection the node closes at that instant fails, and
    a POST is not retried; so nginx's idle bound must be the shorter one."""
    found = re.search(r"^\s*keepalive_timeout (\d+)s;$", CONFIG.read_text(), flags=re.M)
    assert found, "deploy/nginx.conf should bound idle upstream connections (keepalive_timeout)"
    assert int(found.group(1)) < Settings.model_fields["keep_alive_timeout"].default


@dataclass
class Node:
    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def connects(self, username: str) -> int:
        """How many Socket.IO connections of ``username`` this node accepted (its JSON log)."""
        count = 0
        for line in self.log.read_text().splitlines():
            if not line.startswith("{"):
                continue
            record = orjson.loads(line)
            count += record.get("message") == "connect" and record.get("user") == username
        return count

    def handled(self, event: str) -> float:
        """``parley_socket_events_total{event=EVENT, outcome="ok"}`` on this node, read directly."""
        text = httpx.get(f"{self.url}/metrics", timeout=WAIT).text
        pattern = rf'^parley_socket_events_total\{{event="{re.escape(event)}",outcome="ok"\}} (\S+)$'
        found = re.search(pattern, text, re.M)
        return float(found.group(1)) if found else 0.0


@dataclass
class Stack:
    balancer: str
    nodes: list[Node]
    nginx_log: Path
    pinned: list[str]  # per node: the URL of an nginx in front of that node only (docs/deploy.md)
    landed: dict[str, Node] = field(default_factory=dict)  # source address -> the node it hashes to


def _wait_until(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Start-up only: poll ``url`` until it answers 200 (bounded)."""
    deadline = time.monotonic() + STARTUP
    while True:
        if process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {STARTUP}s:\n{log.read_text()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """By PID: SIGTERM (nginx: fast shutdown; parley: graceful), SIGKILL after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _database(admin_url: str, sql: str) -> None:
    admin = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    redis, admin = redis_url(), postgres_url()
    base = tmp_path_factory.mktemp("deploy")
    name = f"parley_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_database(admin, f'CREATE DATABASE "{name}"'))
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PARLEY_")}
    env.update(
        PARLEY_DATABASE_URL=f"{admin.rpartition('/')[0]}/{name}",
        PARLEY_REDIS_URL=redis,
        PARLEY_REDIS_CHANNEL=f"parley-test-{uuid.uuid4().hex[:8]}",
        PARLEY_JWT_SECRET=secrets.token_urlsafe(48),  # every node must verify every node's tokens
        PARLEY_DEFAULT_TOPICS="",
        PARLEY_BCRYPT_ROUNDS="4",
        PARLEY_LOG_JSON="1",
        PARLEY_LOG_LEVEL="INFO",
        PARLEY_ADMIN_UI="1",
        PARLEY_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        # As in deploy/compose.yaml: migrations once, before any node starts.
        migrated = subprocess.run(
            [*COMMAND, "migrate"],
            cwd=base,
            env={**env, "PARLEY_DATA_DIR": str(base / "migrate")},
            capture_output=True,
            timeout=60,
        )
        assert migrated.returncode == 0, migrated.stderr.decode()
        nodes = []
        for label in ("a", "b"):
            port, log = free_port(), base / f"node-{label}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=base,
                    env={**env, "PARLEY_DATA_DIR": str(base / f"data-{label}")},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.append(process)
            nodes.append(Node(label, f"http://127.0.0.1:{port}", log, process))
        for node in nodes:
            _wait_until(f"{node.url}/readyz", node.process, node.log)

        addresses = [n.url.removeprefix("http://") for n in nodes]
        balancer, lb, nginx_log = _nginx(nginx, base / "nginx", dict(zip(UPSTREAMS, addresses, strict=True)))
        processes.append(lb)
        pinned = []
        for upstream, address in zip(UPSTREAMS, addresses, strict=True):
            url, process, _log = _nginx(nginx, base / f"nginx-{upstream[:-5]}", {upstream: address})
            processes.append(process)
            pinned.append(url)
        yield Stack(balancer, nodes, nginx_log, pinned)
    finally:
        for process in reversed(processes):
            _stop(process)
        asyncio.run(_database(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _nginx(nginx: str, prefix: Path, servers: dict[str, str]) -> tuple[str, subprocess.Popen[bytes], Path]:
    """nginx running the shipped config (rendered) on a free port; its URL, process and log."""
    prefix.mkdir()
    listen = free_port()
    config = prefix / "nginx.conf"
    config.write_text(render(CONFIG.read_text(), listen, servers))
    directives = f"daemon off; pid {prefix}/nginx.pid;"
    if os.geteuid() == 0:
        directives += " user root;"  # the current user, not nginx's default worker user
    log = prefix / "nginx.log"  # error log (stderr) and access log (stdout)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(config), "-g", directives],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{listen}"
    try:
        _wait_until(f"{url}/healthz", process, log)
    except BaseException:
        _stop(process)
        raise
    return url, process, log


def rest(stack: Stack, source: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=stack.balancer, transport=transport, timeout=WAIT)


async def register(stack: Stack, username: str) -> str:
    async with rest(stack) as http:
        response = await http.post("/api/users", json={"username": username, "password": PASSWORD})
        assert response.status_code == 201, response.text
        return str(response.json()["token"])


class Peer:
    """A python-socketio client reaching the balancer from one loopback source address."""

    def __init__(self, source: str, transports: list[str] | None) -> None:
        self.source = source
        self.transports = transports
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.session = asyncio.Event()
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.closed = asyncio.Event()
        self.client.on("message", self.messages.put)
        self.client.on("session", lambda _data: self.session.set())
        self.client.on("disconnect", lambda *_args: self.closed.set())

    async def open(self, url: str, token: str) -> None:
        try:
            await self.client.connect(
                url, auth={"token": token}, transports=self.transports, wait_timeout=WAIT
            )
            await asyncio.wait_for(self.session.wait(), WAIT)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        await self.client.disconnect()
        await self.http.close()

    async def ok(self, event: str, data: dict[str, Any]) -> Any:
        ack = await self.client.call(event, data, timeout=WAIT)
        assert ack["ok"] is True, ack
        return ack["data"]

    async def next_message(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.messages.get(), WAIT)


async def connect_on(
    stack: Stack, node: Node, username: str, token: str, transports: list[str] | None
) -> Peer:
    """A connected client of ``username`` whose sessions nginx sends to ``node``.

    Tries source addresses (those already known to land on ``node`` first); each attempt is a
    real connection, and the node that logged it is where that address hashes to.
    """
    known = [s for s in SOURCES if stack.landed.get(s) is node]
    unknown = [s for s in SOURCES if s not in stack.landed]
    for source in [*known, *unknown][:64]:
        before = [n.connects(username) for n in stack.nodes]
        peer = Peer(source, transports)
        await peer.open(stack.balancer, token)
        grew = [n for n, count in zip(stack.nodes, before, strict=True) if n.connects(username) == count + 1]
        assert len(grew) == 1, f"one connection from {source}, logged by {[n.name for n in grew]}"
        stack.landed[source] = grew[0]
        if grew[0] is node:
            return peer
        await peer.close()
    pytest.fail(f"no source address reached node {node.name}; see {stack.nginx_log}")


async def test_liveness_and_readiness_are_served_through_the_balancer_and_metrics_are_not(stack):
    async with rest(stack) as http:
        health = await http.get("/healthz")
        ready = await http.get("/readyz")
        metrics = await http.get("/metrics")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "database": "ok", "redis": "ok"},
    )
    assert metrics.status_code == 404  # per node: scraped from each node, not through nginx
    for node in stack.nodes:
        assert httpx.get(f"{node.url}/metrics", timeout=WAIT).status_code == 200


@pytest.mark.parametrize(
    "transports", [["polling"], ["websocket"], None], ids=["polling", "websocket", "upgrade"]
)
async def test_users_on_different_nodes_talk_through_nginx(stack, transports):
    node_a, node_b = stack.nodes
    tag = uuid.uuid4().hex[:6]
    alice_name, bob_name, topic = f"alice_{tag}", f"bob_{tag}", f"general_{tag}"
    alice = await connect_on(stack, node_a, alice_name, await register(stack, alice_name), transports)
    bob = await connect_on(stack, node_b, bob_name, await register(stack, bob_name), transports)
    try:
        expected = transports[0] if transports else "websocket"  # the upgrade reached the same node
        assert (alice.client.transport(), bob.client.transport()) == (expected, expected)
        sends = [node.handled("message:send") for node in stack.nodes]

        await alice.ok("topic:create", {"name": topic})
        await bob.ok("topic:subscribe", {"topic": topic})
        sent = await alice.ok("message:send", {"topic": topic, "body": "across nodes"})
        got = await bob.next_message()
        assert (got["id"], got["topic"], got["sender"], got["body"]) == (
            sent["id"],
            topic,
            alice_name,
            "across nodes",
        )
        assert (await alice.next_message())["id"] == sent["id"]

        direct = await alice.ok("message:send", {"to": bob_name, "body": "psst"})
        got = await bob.next_message()
        assert (got["id"], got["topic"], got["body"]) == (direct["id"], f"@{alice_name}", "psst")
        assert (await alice.next_message())["id"] == direct["id"]

        reply = await bob.ok("message:send", {"to": alice_name, "body": "got it"})
        got = await alice.next_message()
        assert (got["id"], got["topic"], got["body"]) == (reply["id"], f"@{bob_name}", "got it")

        # Each node handled its own client's sends: alice's two on a, bob's one on b.
        after = [node.handled("message:send") for node in stack.nodes]
        assert [after[0] - sends[0], after[1] - sends[1]] == [2, 1]
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.parametrize(
    "transports", [["polling"], ["websocket"], None], ids=["polling", "websocket", "upgrade"]
)
async def test_an_invite_and_a_logout_on_one_node_reach_the_socket_on_the_other_through_nginx(
    stack, transports
):
    node_a, node_b = stack.nodes
    tag = uuid.uuid4().hex[:6]
    alice_name, bob_name, topic = f"alice_{tag}", f"bob_{tag}", f"secret_{tag}"
    alice = await connect_on(stack, node_a, alice_name, await register(stack, alice_name), transports)
    bob_token = await register(stack, bob_name)
    bob = await connect_on(stack, node_b, bob_name, bob_token, transports)
    try:
        await alice.ok("topic:create", {"name": topic, "private": True})
        await alice.ok("topic:invite", {"topic": topic, "username": bob_name})
        sent = await alice.ok("message:send", {"topic": topic, "body": "welcome"})
        assert (await bob.next_message())["id"] == sent["id"]  # no reconnect: node b moved his socket

        async with rest(stack, alice.source) as http:  # from an address nginx sends to node a
            response = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {bob_token}"})
        assert response.status_code == 204
        await asyncio.wait_for(bob.closed.wait(), 1.0)
    finally:
        await alice.close()
        await bob.close()


async def test_tokens_in_paths_and_query_strings_never_reach_the_access_log(stack):
    """A live JWT in ``/compat/topics/<JWT>`` or in ``?token=``, and a webhook's secret in
    ``/hooks/<secret>``, are logged as ``[redacted]``."""
    token = await register(stack, f"logged_{uuid.uuid4().hex[:6]}")
    marker = uuid.uuid4().hex  # finds this test's lines in the log
    paths = [
        f"/compat/topics/{token}?m={marker}",
        f"/compat//Topics/{token}/x?m={marker}",
        f"/compat/echo/ws/pub?m={marker}&token={token}",
        f"/compat/echo/ws/echo?token={token}&m={marker}",
        f"/socket.io/?EIO=4&transport=polling&m={marker}&token={token}",
        f"/compat/%74opics/{token}?m={marker}",  # the node decodes the path before routing it
        f"/hooks/{token}?m={marker}",  # an incoming webhook's secret (PROTOCOL.md section 12)
        f"/%68ooks/{token}?m={marker}",
        # A second token, or a name the node decodes into `token`: the whole query goes.
        f"/api/{marker}?token={token}&x=1&token={token}",
        f"/socket.io/{marker}?EIO=4&%74oken={token}",
    ]
    async with rest(stack) as http:
        for path in paths:
            await http.get(path)
    log = stack.nginx_log.read_text()
    lines = [line for line in log.splitlines() if marker in line]
    assert len(lines) == len(paths), log[-4000:]
    for line in lines:
        assert token not in line and token.split(".")[2] not in line, line
        assert "[redacted]" in line, line
    assert token not in log


# Browsers through nginx on a port that is not 80: the page's Origin (http://host:port) must be
# the Host the node sees, or the node refuses the Socket.IO connection.


@pytest.mark.browser
async def test_two_browsers_on_two_nodes_talk_through_nginx_as_the_deploy_doc_says(stack, browser):
    """docs/deploy.md: one nginx pinned to each node (8081 -> a, 8082 -> b); a page on each."""
    tag = uuid.uuid4().hex[:6]
    alice_name, bob_name, topic = f"alice_{tag}", f"bob_{tag}", f"general_{tag}"
    pages: list[ChatPage] = []
    try:
        for name, url in zip((alice_name, bob_name), stack.pinned, strict=True):
            context = await browser.new_context(viewport=DESKTOP)
            context.set_default_timeout(10_000)
            page = ChatPage(await context.new_page(), url, name, ARTIFACTS / name)
            await page.open()
            pages.append(page)
        alice, bob = pages
        await alice.register(alice_name)
        await alice.create_topic(topic)
        await bob.register(bob_name)
        await bob.join(topic)
        await alice.send("hello from node a")
        await expect(bob.message("hello from node a")).to_have_attribute("data-sender", alice_name)
        await bob.send("hello from node b")
        await expect(alice.message("hello from node b")).to_be_visible()
        node_a, node_b = stack.nodes
        assert (node_a.connects(alice_name), node_b.connects(alice_name)) == (1, 0)
        assert (node_a.connects(bob_name), node_b.connects(bob_name)) == (0, 1)
        assert [e for p in pages for e in p.page_errors] == []
    finally:
        for page in pages:
            await page.page.context.close()


@pytest.mark.browser
async def test_the_admin_ui_connects_through_the_balancer_on_a_port_that_is_not_80(stack, browser):
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = await context.new_page()
        response = await page.goto(f"{stack.balancer}/admin/")
        assert response is not None and response.status == 200
        await expect(page.get_by_label("Server URL")).to_have_value(stack.balancer)
        await page.get_by_label("Username").fill("admin")
        await page.get_by_label("Password").fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="Connect").click()
        await expect(page.get_by_text("connected", exact=True).first).to_be_visible()
    finally:
        await context.close()


async def test_the_echo_dialects_channel_links_keep_nginxs_port(stack):
    token = await register(stack, f"echo_{uuid.uuid4().hex[:6]}")
    async with rest(stack) as http:
        response = await http.get("/compat/echo/pub_ws", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    link = response.json()["url"]
    assert link.startswith(stack.balancer.replace("http://", "ws://", 1) + "/compat/echo/ws/pub?"), link
    async with connect(link, open_timeout=WAIT, close_timeout=WAIT) as ws:  # the link works as given
        assert ws.protocol.state.name == "OPEN"
