"""The Socket.IO Admin UI's server side (the /admin namespace): off unless enabled, only for the
configured credentials, read-only by default, and it changes nothing for the chat sockets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import defaultdict
from typing import Any

import pytest
import socketio
from pydantic import ValidationError

from server.config import Settings
from server.edge.engine.admin import FAILURE_WINDOW, FAILURES_PER_ADDRESS
from server.settings.admin_ui import weak_password
from tests.edge.sio.logs import captured
from tests.support import WAIT, general_with, running, send
from tests.support import test_settings as make_settings

ADMIN_PASSWORD = "tangerine-kettle-49"
ADMIN = {"username": "admin", "password": ADMIN_PASSWORD}


def admin_settings(tmp_path: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "admin_ui": True,
        "admin_password": ADMIN_PASSWORD,
        "admin_stats_interval": 0.05,
        **overrides,
    }
    return make_settings(tmp_path / "data", **values)


class Admin:
    """A python-socketio client on /admin that queues what the server reports, by event."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: defaultdict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.sio.on("*", self._record, namespace="/admin")

    async def _record(self, event: str, *args: Any) -> None:
        await self.events[event].put(args[0] if len(args) == 1 else args)

    async def connect(self, url: str, auth: Any = ADMIN) -> None:
        await self.sio.connect(url, namespaces=["/admin"], auth=auth, wait_timeout=WAIT)

    async def next(self, event: str) -> Any:
        return await asyncio.wait_for(self.events[event].get(), WAIT)

    async def until(self, event: str, matches: Any) -> Any:
        """The first ``event`` whose arguments satisfy ``matches`` (others are skipped)."""
        while True:
            args = await self.next(event)
            if matches(args):
                return args


async def refused(url: str, auth: Any, namespace: str = "/admin") -> str:
    """Connect to ``namespace`` expecting a refusal; the reason the server gave."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[Any] = []
    client.on("connect_error", reasons.append, namespace=namespace)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, namespaces=[namespace], auth=auth, wait_timeout=WAIT)
    await client.disconnect()
    reason = reasons[0] if reasons else ""
    return str(reason["message"] if isinstance(reason, dict) else reason)


async def test_disabled_there_is_no_admin_page_and_the_namespace_refuses(live_server) -> None:
    assert live_server.app.state.settings.admin_ui is False  # the default
    assert (await live_server.http.get("/admin/")).status_code == 404
    assert (await live_server.http.get("/admin/js/app.js")).status_code == 404
    unknown = await refused(live_server.url, ADMIN, "/no-such-namespace")
    assert await refused(live_server.url, ADMIN) == unknown  # as if it did not exist
    assert live_server.app.state.admin is None


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {},
        {"username": "admin"},
        {"username": "admin", "password": ADMIN_PASSWORD + "x"},
        {"username": "Admin", "password": ADMIN_PASSWORD},
        {"username": "admin", "password": ADMIN_PASSWORD[:-1]},
        {"username": ["admin"], "password": ADMIN_PASSWORD},
        "admin:" + ADMIN_PASSWORD,
    ],
)
async def test_only_the_configured_credentials_log_in(tmp_path, auth) -> None:
    async with running(admin_settings(tmp_path)) as server:
        with captured() as logs:
            assert await refused(server.url, auth) == "invalid credentials"
        assert logs.tracebacks() == []
        admin = Admin()
        await admin.connect(server.url)
        assert (await admin.next("config")) == {"supportedFeatures": ["AGGREGATED_EVENTS", "ALL_EVENTS"]}
        await admin.sio.disconnect()


async def test_an_address_that_failed_ten_times_is_refused_even_the_right_password_for_a_while(
    tmp_path,
) -> None:
    wrong = {"username": "admin", "password": ADMIN_PASSWORD + "x"}
    async with running(admin_settings(tmp_path)) as server:
        admin = Admin()
        await admin.connect(server.url)  # a success counts for nothing
        await admin.sio.disconnect()
        for _ in range(FAILURES_PER_ADDRESS):
            assert await refused(server.url, wrong) == "invalid credentials"
        limited = await refused(server.url, ADMIN)
        assert limited.startswith("too many failed logins; try again in ")
        wait = int(limited.rsplit(" ", 2)[1])
        assert 60 <= wait <= FAILURE_WINDOW / FAILURES_PER_ADDRESS + 1  # one failure's worth
        chat = await server.user("alice")  # the chat namespace is not affected
        assert (await chat.ok("topic:list", {})) is not None


async def test_an_admin_sees_the_sockets_their_users_and_topic_rooms_without_credentials(tmp_path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        await general_with(alice, bob)
        admin = Admin()
        await admin.connect(server.url)
        await admin.next("config")
        sockets = {s["id"]: s for s in await admin.next("all_sockets")}
        topic_rooms: list[set[str]] = []
        for client in (alice, bob):
            sid = client.sio.get_sid("/")
            shown = sockets[sid]
            assert shown["nsp"] == "/"
            assert shown["data"] == {"user": client.username}
            rooms = set(shown["rooms"]) - {sid}
            assert len([room for room in rooms if room.startswith("user:")]) == 1
            topic_rooms.append({room for room in rooms if room.startswith("topic:")})
            assert shown["handshake"]["query"] == {}  # no token or anything else from the URL
            assert set(shown["handshake"]["headers"]) <= {"host", "origin", "user-agent", "accept-language"}
        assert topic_rooms[0] == topic_rooms[1] and len(topic_rooms[0]) == 2  # the lobby and general
        stats = await admin.next("server_stats")
        counts = {n["name"]: n["socketsCount"] for n in stats["namespaces"]}
        assert counts["/"] == 2
        assert counts["/admin"] == 1


async def test_connections_rooms_and_disconnections_are_reported_live(tmp_path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        alice = await server.user("alice")
        await alice.ok("topic:create", {"name": "general"})
        admin = Admin()
        await admin.connect(server.url)
        await admin.next("all_sockets")
        carol = await server.user("carol")
        sid = carol.sio.get_sid("/")
        shown, _at = await admin.until("socket_connected", lambda args: args[0]["id"] == sid)
        assert shown["data"] == {"user": "carol"}
        await carol.ok("topic:subscribe", {"topic": "general"})
        await admin.until("room_joined", lambda args: args[1].startswith("topic:") and args[2] == sid)
        await carol.close()
        namespace, _gone, _reason, _at = await admin.until("socket_disconnected", lambda args: args[1] == sid)
        assert namespace == "/"


async def test_a_refused_chat_connection_is_never_shown(tmp_path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        admin = Admin()
        await admin.connect(server.url)
        await admin.next("all_sockets")
        intruder = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await intruder.connect(server.url, auth={"token": "forged"}, wait_timeout=WAIT)
        alice = await server.user("alice")
        # The first chat socket reported is alice's (the admin's own connection is reported too).
        shown, _at = await admin.until("socket_connected", lambda args: args[0]["nsp"] == "/")
        assert shown["id"] == alice.sio.get_sid("/")


async def test_fan_out_is_unchanged_and_no_message_reaches_the_admin(tmp_path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        alice, bob = await server.user("alice"), await server.user("bobby")
        await general_with(alice, bob)
        admin = Admin()
        await admin.connect(server.url)
        await admin.next("all_sockets")
        manager = server.app.state.admin.sio.manager
        direct_before = manager.written_directly
        sent = await send(alice, {"topic": "general", "body": "for members only", "client_id": "c1"})
        assert (await bob.next("message"))["id"] == sent["id"]
        assert manager.written_directly > direct_before  # still the lean path, no task per recipient
        await admin.next("server_stats")  # a full tick after the message
        for event in ("event_sent", "event_received"):
            assert admin.events[event].empty()


async def test_read_only_offers_no_action_and_ignores_one(tmp_path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        sio = server.app.state.admin.sio
        assert "_disconnect" not in sio.handlers["/admin"]


async def test_writable_an_admin_may_disconnect_a_socket(tmp_path) -> None:
    async with running(admin_settings(tmp_path, admin_read_only=False)) as server:
        alice = await server.user("alice")
        admin = Admin()
        await admin.connect(server.url)
        features = (await admin.next("config"))["supportedFeatures"]
        assert set(features) == {
            "AGGREGATED_EVENTS",
            "ALL_EVENTS",
            "DISCONNECT",
            "MDISCONNECT",
        }  # no join, leave, emit
        sid = alice.sio.get_sid("/")
        await admin.sio.emit("_disconnect", ("/", False, sid), namespace="/admin")
        await admin.until("socket_disconnected", lambda args: args[1] == sid)


@pytest.mark.parametrize(
    "password",
    [
        None,
        "",
        "short-pw",
        "aaaaaaaaaaaaaaaa",
        "121212121212",
        "Admin123456!",
        "password1234",
        "changeme-2024",
        "my-admin-account",
    ],
)
def test_a_weak_admin_password_is_refused_with_a_message(tmp_path, password) -> None:
    with pytest.raises(ValidationError) as caught:
        admin_settings(tmp_path, admin_password=password)
    assert "PARLEY_ADMIN_PASSWORD" in str(caught.value)  # the CLI prints it without the value


def test_a_strong_admin_password_is_accepted_and_a_weak_one_is_ignored_while_disabled(tmp_path) -> None:
    assert weak_password("admin", ADMIN_PASSWORD) is None
    assert admin_settings(tmp_path).admin_password is not None
    assert admin_settings(tmp_path, admin_ui=False, admin_password="admin").admin_ui is False


def test_parley_serve_refuses_to_start_with_a_weak_admin_password(tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_ADMIN_UI": "1",
        "PARLEY_ADMIN_PASSWORD": "hunter2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode != 0
    assert "PARLEY_ADMIN_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr
    assert "fewer than 12 characters" in done.stderr
    assert "hunter2" not in done.stderr


async def test_rooms_are_shown_by_name_and_a_disconnect_by_room_name_works(tmp_path) -> None:
    async with running(admin_settings(tmp_path, admin_read_only=False)) as server:
        alice = await server.user("alice")
        await alice.ok("topic:create", {"name": "general"})
        admin = Admin()
        await admin.connect(server.url)
        await admin.next("config")
        sockets = {s["id"]: s for s in await admin.next("all_sockets")}
        sid = alice.sio.get_sid("/")
        assert set(sockets[sid]["rooms"]) - {sid} == {"user:alice", "topic:lobby", "topic:general"}
        carol = await server.user("carol")
        carol_sid = carol.sio.get_sid("/")
        shown, _at = await admin.until("socket_connected", lambda args: args[0]["id"] == carol_sid)
        assert set(shown["rooms"]) - {carol_sid} == {"user:carol", "topic:lobby"}
        await carol.ok("topic:subscribe", {"topic": "general"})
        await admin.until("room_joined", lambda args: args[1:3] == ("topic:general", carol_sid))
        await carol.ok("topic:unsubscribe", {"topic": "general"})
        await admin.until("room_left", lambda args: args[1:3] == ("topic:general", carol_sid))
        await admin.sio.emit("_disconnect", ("/", False, "topic:general"), namespace="/admin")
        await asyncio.wait_for(alice.sio.wait(), WAIT)  # in general: disconnected
        assert carol.connected  # no longer in general: kept
        await admin.sio.disconnect()


async def test_admin_logins_are_logged_with_the_address_and_never_the_password(tmp_path) -> None:
    wrong = {"username": "admin", "password": "not-" + ADMIN_PASSWORD}
    async with running(admin_settings(tmp_path)) as server:
        with captured("parley") as logs:
            assert await refused(server.url, wrong) == "invalid credentials"
            admin = Admin()
            await admin.connect(server.url)
            await admin.next("config")
            await admin.sio.disconnect()
        logins = [r for r in logs.records if r.getMessage().startswith("admin login")]
        assert [(r.getMessage(), r.levelname) for r in logins] == [
            ("admin login refused", "WARNING"),
            ("admin login", "INFO"),
        ]
        assert all(getattr(r, "address", None) == "127.0.0.1" for r in logins)
        text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in logs.records)
        assert ADMIN_PASSWORD not in text


async def test_a_deleted_topics_room_leaves_under_the_name_it_was_shown_by(tmp_path) -> None:
    async with running(admin_settings(tmp_path)) as server:
        alice = await server.user("alice")
        await alice.ok("topic:create", {"name": "ops"})
        admin = Admin()
        await admin.connect(server.url)
        sid = alice.sio.get_sid("/")
        shown = {s["id"]: s for s in await admin.next("all_sockets")}[sid]
        assert "topic:ops" in shown["rooms"]
        await admin.next("server_stats")  # a tick: the labels are looked up again after it
        await server.chat.topic_admin.delete("ops")
        await admin.until("room_left", lambda args: args[1:3] == ("topic:ops", sid))
        await admin.sio.disconnect()
