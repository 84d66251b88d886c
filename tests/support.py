"""Test support: a real uvicorn on 127.0.0.1:0, real Socket.IO clients, and the small client and
database helpers the test modules share."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import certifi
import fastapi.dependencies.models
import httpx
import socketio
import uvicorn
from sqlalchemy import event, func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.models import User
from db.reads import DirectReads
from db.repositories import Repositories
from db.uow import Database
from server.app import create_app
from server.chat.service import Chat
from server.config import Settings
from server.edge.engine.gate import EngineGate
from server.edge.engine.netguard import uvicorn_options
from server.edge.engine.outgoing import close_transport
from server.edge.engine.serving import PromptServer
from tests.databases import fresh_postgres_database, postgres_url

PASSWORD = "password123"
WAIT = 5.0
# An HTTP request to the server under test always completes; on a loaded 2-core machine one
# sign-up (a SQLite commit) took 5.3 s, so WAIT failed a correct run. Still bounded.
REQUEST = 30.0
STARTUP = 30.0  # seconds a test server may take to listen (as REQUEST: a loaded machine, bounded)
JWT_SECRET = "t" * 40
# Every test's HTTP client shares one TLS context: httpx makes a new one per client, and parsing
# the CA bundle into it costs about 60 ms of CPU, once per test server (its ``http``) and more.
TLS = ssl.create_default_context(cafile=certifi.where())
# An idle pooled connection is dropped by the client well before the server's keep-alive timeout
# (Settings.keep_alive_timeout, 5 s) closes it. With both at 5 s a request sent on a connection the
# server was closing at that moment failed with httpx.ReadError (a POST is not retried): a shared
# server's client idles across tests, and one CI run lost a registration that way.
KEEPALIVE = httpx.Limits(keepalive_expiry=2.0)


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Fast, isolated settings: a fresh SQLite file, cheap bcrypt, short timers."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "jwt_secret": JWT_SECRET,
        "bcrypt_rounds": 4,
        "presence_grace": 0.3,
        "typing_ttl": 1.0,
        "cursor_flush_interval": 0.05,
        "redis_url": None,
        "echo_upstream": None,
        "gc_tuning": False,  # one test process hosts hundreds of apps (tests/test_collector.py)
        # Fuzzers and fan-out tests create topics and invite freely; tests/edge/sio/test_abuse_limits.py
        # checks these limits (and their defaults) with small values of its own.
        "topics_per_hour": 100_000,
        "invites_per_hour": 100_000,
        # Bodies with made-up links must not make the server look names up; tests/chat/previews/
        # turn previews on with their own site in the allow list.
        "previews": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Client:
    """A python-socketio AsyncClient that queues every server event by name."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: defaultdict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.sio.on("*", self._record)

    async def _record(self, event: str, *args: Any) -> None:
        await self.events[event].put(args[0] if len(args) == 1 else args)

    async def call(self, event: str, payload: Any = None, namespace: str = "/") -> Any:
        if payload is None:
            return await self.sio.call(event, namespace=namespace, timeout=WAIT)
        return await self.sio.call(event, payload, namespace=namespace, timeout=WAIT)

    async def ok(self, event: str, payload: Any = None) -> Any:
        """Call and insist on success; return ``data``."""
        ack = await self.call(event, payload)
        assert ack["ok"] is True, ack
        return ack["data"]

    async def next(self, event: str, timeout: float = WAIT) -> Any:
        return await asyncio.wait_for(self.events[event].get(), timeout)

    def pending(self, event: str) -> list[Any]:
        """Everything queued for ``event`` right now, without waiting."""
        queue = self.events[event]
        items = []
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


class LiveServer:
    def __init__(self, app: Any, url: str) -> None:
        self.app = app
        self.url = url
        self.http = httpx.AsyncClient(base_url=url, timeout=REQUEST, verify=TLS, limits=KEEPALIVE)
        self._clients: list[Client] = []

    @property
    def chat(self) -> Chat:
        chat: Chat = self.app.state.chat
        return chat

    async def register(self, username: str, password: str = PASSWORD) -> str:
        response = await self.http.post("/api/users", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    async def connect(self, username: str, token: str, wait_session: bool = True, **kwargs: Any) -> Client:
        """A connected client; by default after its ``session`` event arrived."""
        client = Client(username)
        kwargs.setdefault("auth", {"token": token})
        await client.sio.connect(self.url, wait_timeout=WAIT, **kwargs)
        self._clients.append(client)
        if wait_session:
            await client.next("session")
        return client

    async def user(self, username: str, **kwargs: Any) -> Client:
        """Register ``username`` and connect one socket for it."""
        return await self.connect(username, await self.register(username), **kwargs)

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        await self.http.aclose()


def forget_apps() -> None:
    """Let the apps of finished tests be freed.

    FastAPI caches whether each endpoint and dependency is a coroutine or a generator in three
    module-level ``lru_cache`` of 4,096 entries keyed by the callable itself; an app's own
    closures (its /docs page, its dependencies) keep the whole app alive through them: its chat
    service, database engine, Socket.IO server and SQLAlchemy caches. Hundreds of apps piled up in
    a run, and pytest spent 27 s (in CI) collecting and freeing them after its summary. One app
    per process, as in production, costs nothing; the caches refill as the next app runs.
    """
    for name in ("_is_gen_callable_cached", "_is_async_gen_callable_cached", "_is_coroutine_callable_cached"):
        cache = getattr(fastapi.dependencies.models, name, None)
        if cache is not None:
            cache.cache_clear()


_TEMPLATE: list[Path] = []  # one migrated SQLite file per test process


async def _migrated_template() -> Path:
    """An empty database at the head revision, made once per process: each server of a test starts
    from a copy of it instead of running every migration again (~0.8 s a start by issue 22)."""
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="parley-template-")) / "parley.db"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


async def _seed_database(settings: Settings) -> None:
    """A fresh SQLite data directory gets the migrated template (start-up still checks the
    revision and migrates whatever is missing); a database already there is left as it is."""
    if settings.database_url is not None:
        return
    target = settings.data_dir / "parley.db"
    if target.exists():
        return
    template = await _migrated_template()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[LiveServer]:
    """Serve ``create_app(settings)`` with uvicorn on a port the OS picks."""
    await _seed_database(settings)
    app = create_app(settings)
    # IPPROTO_TCP explicitly: only then does asyncio set TCP_NODELAY on accepted sockets.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        **settings.proxy_options(),  # as `parley serve` does
        **uvicorn_options(settings),
    )
    async with listening(config, sock, stopping=app.state.exit_signals.release_polls):
        live = LiveServer(app, f"http://127.0.0.1:{port}")
        try:
            yield live
        finally:
            await live.close()


@asynccontextmanager
async def running_on(settings: Settings, database: str) -> AsyncIterator[LiveServer]:
    """``running(settings)`` over a fresh SQLite file, or a fresh PostgreSQL database when
    ``database`` is ``postgres`` (the ``live_server`` fixtures' body)."""
    if database == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            async with running(settings.model_copy(update={"database_url": url})) as server:
                yield server
        return
    async with running(settings) as server:
        yield server


def gated(sio: socketio.AsyncServer) -> EngineGate:
    """``sio`` as an ASGI app behind the gate Parley puts in front of engine.io (each WebSocket's
    kill switch, which the lean reader needs), admitting binary packets as the conformance app."""
    return EngineGate(
        socketio.ASGIApp(sio),
        "/socket.io",
        sio.eio,
        max_bytes=1_000_000,
        close=partial(close_transport, sio),
        on_undecodable=lambda: None,
        binary=True,
    )


@asynccontextmanager
async def listening(
    config: uvicorn.Config, sock: socket.socket, stopping: Callable[[], Awaitable[None]] | None = None
) -> AsyncIterator[None]:
    """Serve ``config`` on ``sock`` for the block: entered once uvicorn listens, left once it has
    stopped; closes ``sock``. A start-up that fails fails the test (uvicorn exits); one that hangs
    fails it after ``STARTUP`` seconds, with a ``TimeoutError`` here.

    ``stopping`` runs as uvicorn is told to exit, as ``parley serve``'s SIGTERM handler runs the
    app's ``ExitSignals.release_polls``: uvicorn waits for every request in flight, and a long-poll
    GET left by a client that went away without its CLOSE (a node script that exits at once) is
    otherwise held until the session's ping or connect timeout (25 s, 10 s), the test's teardown
    with it.

    The server is a ``PromptServer`` (``parley serve``'s): uvicorn's own stop waited 0.15-0.25 s
    of fixed sleeps and 0.1 s polls, once per test server, over a thousand times a run.
    """
    server = PromptServer(config)
    task = asyncio.create_task(_serve(server, sock))
    try:
        async with asyncio.timeout(STARTUP):
            while not server.started:  # uvicorn exposes no event for this
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
    except BaseException:
        sock.close()
        raise
    try:
        yield
    finally:
        server.should_exit = True
        if stopping is not None:
            await stopping()
        await task
        sock.close()


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    """uvicorn's ``serve``, its exit on a failed start-up (``sys.exit(3)``) made an ordinary error.

    A ``SystemExit`` raised in a task is not kept in the task: asyncio lets it out of the event
    loop, which broke the session's loop for every later test of the worker (tests/test_listening.py).
    """
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:
        raise RuntimeError(f"uvicorn exited ({exc.code}): the app's start-up failed") from None


async def two_sockets(live_server: LiveServer, name: str) -> tuple[Client, Client]:
    """Register ``name`` and connect two sockets (two tabs) for it."""
    token = await live_server.register(name)
    return await live_server.connect(name, token), await live_server.connect(name, token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def send(client: Client, payload: dict[str, Any]) -> dict[str, Any]:
    """``message:send`` that must succeed; the stored Message."""
    message: dict[str, Any] = await client.ok("message:send", payload)
    return message


async def general_with(owner: Client, *members: Client) -> None:
    """``owner`` creates the public topic ``general``; ``members`` subscribe."""
    await owner.ok("topic:create", {"name": "general"})
    for member in members:
        await member.ok("topic:subscribe", {"topic": "general"})


def _chat(where: LiveServer | Chat) -> Chat:
    return where.chat if isinstance(where, LiveServer) else where


async def rows_in(repos: Repositories, model: Any) -> int:
    """How many rows ``model`` has, read through ``repos``' session."""
    return int((await repos.session.execute(select(func.count()).select_from(model))).scalar_one())


async def count_rows(where: LiveServer | Chat, *models: Any) -> tuple[int, ...]:
    """How many rows each of ``models`` has, read in one session of the server's database."""
    async with _chat(where).db.read() as repos:
        return tuple([await rows_in(repos, model) for model in models])


async def count(where: LiveServer | Chat, model: Any) -> int:
    """How many rows ``model`` has in the server's database."""
    [rows] = await count_rows(where, model)
    return rows


async def user_count(where: LiveServer | Chat) -> int:
    return await count(where, User)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (observed, nothing replaced)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    if isinstance(db.reads, DirectReads):  # the hot reads bypass SQLAlchemy
        db.reads.on_statement = seen.append
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
        if isinstance(db.reads, DirectReads):
            db.reads.on_statement = None


async def offline_bob(live_server: LiveServer) -> tuple[Client, str]:
    """alice online in ``general``; bob subscribed to it, then gone. Returns (alice, bob's token)."""
    alice = await live_server.user("alice")
    token = await live_server.register("bob")
    bob = await live_server.connect("bob", token)
    await alice.ok("topic:create", {"name": "general"})
    await bob.ok("topic:subscribe", {"topic": "general"})
    await bob.close()
    return alice, token


async def polled(condition: Callable[[], Awaitable[bool]], within: float) -> None:
    """Poll ``condition`` until it holds, for at most ``within`` seconds (``TimeoutError``).

    For state another process or a timer writes (a database row, a broker's key) that nothing
    announces: the test has no event to await, so it looks every 50 ms.
    """
    async with asyncio.timeout(within):
        while not await condition():
            await asyncio.sleep(0.05)
