"""Connection-state recovery (docs/PROTOCOL.md, "Connection-state recovery"), from the wire.

A raw WebSocket client (``recovery_socket.py``) shows what python-socketio's client hides: the
CONNECT reply's ``pid`` and each event's whole argument list (an offset is a last argument).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from db.models import RecoverySession
from server.chat.connections.recovery import Recovery
from server.edge.sio.tokens import recovery_from
from tests.edge.sio.recovery_socket import RecoverySocket
from tests.support import WAIT, Client, LiveServer, running, running_on, send
from tests.support import test_settings as settings_for

# Two servers a database serve the tests with the default settings (each test its own users and
# topic): one with the default replay margin, one with none (a replay of exactly what comes after
# the offset). A test of other settings (recovery off, a short window) starts its own.
SHARED = pytest.mark.asyncio(loop_scope="module")  # a test on a module's server runs on its loop
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

MISSED = 150  # per topic, while the member is away
LIVE_AT_LEAST, LIVE_AT_MOST = 40, 2000  # per topic, sent while the member comes back


def settings(data_dir: Path, **overrides: Any) -> Any:
    return settings_for(data_dir, socket_burst=100_000, socket_rate=100_000.0, **overrides)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """The default settings: a replay reaches ``recovery_margin`` (5 s) back before the offset."""
    async with running_on(settings(tmp_path_factory.mktemp("recovery") / "data"), request.param) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def exact_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """A margin of 0: a replay is exactly what comes after the offset."""
    data_dir = tmp_path_factory.mktemp("recovery-exact") / "data"
    async with running_on(settings(data_dir, recovery_margin=0), request.param) as server:
        yield server


@dataclass
class Away:
    """alice (online) and bob (offline), both in ``general``; names of the test's own."""

    alice: Client
    bob: str
    token: str  # bob's
    general: str

    @property
    def direct(self) -> str:
        """The topic of alice's direct messages as bob sees them."""
        return f"@{self.alice.username}"


async def offline_bob(live_server: LiveServer) -> Away:
    """alice online in ``general``; bob subscribed to it, then gone (as tests.support.offline_bob)."""
    suffix = uuid.uuid4().hex[:8]
    alice = await live_server.user(f"alice-{suffix}")
    bob = f"bob-{suffix}"
    token = await live_server.register(bob)
    socket = await live_server.connect(bob, token)
    general = f"general-{suffix}"
    await alice.ok("topic:create", {"name": general})
    await socket.ok("topic:subscribe", {"topic": general})
    await socket.close()
    return Away(alice, bob, token, general)


async def recovery_socket(live_server: LiveServer, **auth: Any) -> RecoverySocket:
    socket = await RecoverySocket.connect(live_server.url, auth)
    await socket.next("session")
    return socket


async def bob_away(live_server: LiveServer, received: int = 3) -> tuple[Away, RecoverySocket, str]:
    """bob's recovery socket gets ``received`` live messages (general, then a DM), then drops.

    Returns the pair, the dropped socket and the offset it saw last.
    """
    away = await offline_bob(live_server)
    bob = await recovery_socket(live_server, token=away.token, recover=True)
    for n in range(received):
        await send(
            away.alice,
            {"topic": away.general, "body": f"seen {n}"} if n % 2 == 0 else {"to": away.bob, "body": "dm"},
        )
    last = (await bob.messages(received))[-1]
    await bob.close()
    return away, bob, last[-1]


async def missed_while_away(away: Away, per_topic: int) -> list[dict[str, Any]]:
    """alice sends ``per_topic`` to general and to bob; the Messages as bob sees them."""
    sent = []
    for n in range(per_topic):
        sent.append(await send(away.alice, {"topic": away.general, "body": f"missed {n}"}))
        sent.append({**await send(away.alice, {"to": away.bob, "body": f"missed {n}"}), "topic": away.direct})
    return sent


def per_topic(messages: list[dict[str, Any]]) -> dict[str, list[int]]:
    ids: defaultdict[str, list[int]] = defaultdict(list)
    for message in messages:
        ids[message["topic"]].append(message["id"])
    return dict(ids)


# Who gets a pid and offsets --------------------------------------------------------------


@SHARED
async def test_only_a_socket_that_asks_gets_a_pid_and_only_its_messages_carry_offsets(live_server):
    away = await offline_bob(live_server)
    alice, token = away.alice, away.token
    plain = await recovery_socket(live_server, token=token)
    asking = await recovery_socket(live_server, token=token, recover=True)
    python_client = await live_server.connect(away.bob, token)
    assert set(plain.reply) == {"sid"}
    assert set(asking.reply) == {"sid", "pid"}
    assert isinstance(asking.pid, str) and len(asking.pid) >= 16

    in_topic = await send(alice, {"topic": away.general, "body": "hello"})
    direct = {**await send(alice, {"to": away.bob, "body": "psst"}), "topic": away.direct}
    edited = await alice.ok("message:edit", {"id": in_topic["id"], "body": "hello!"})

    assert await plain.messages(2) == [[in_topic], [direct]]
    assert await asking.messages(2) == [[in_topic, str(in_topic["id"])], [direct, str(direct["id"])]]
    assert (await asking.next("message:edited"))[1] == [edited]  # only `message` carries an offset
    assert await python_client.next("message") == in_topic  # one argument, as ever
    assert await python_client.next("message") == direct


async def test_no_pid_is_given_when_recovery_is_off(tmp_path):
    async with running(settings(tmp_path / "data", recovery_window=0)) as server:
        away = await offline_bob(server)
        asking = await recovery_socket(server, token=away.token, recover=True)
        resuming = await recovery_socket(server, token=away.token, pid="some-pid", offset="1")
        assert set(asking.reply) == set(resuming.reply) == {"sid"}


@SHARED
async def test_a_recovery_socket_gets_offsets_for_the_topics_it_joins_and_none_it_left(live_server):
    away = await offline_bob(live_server)
    alice, token = away.alice, away.token
    bob = await recovery_socket(live_server, token=token, recover=True)
    other_tab = await live_server.connect(away.bob, token)
    later = f"later-{uuid.uuid4().hex[:8]}"
    await alice.ok("topic:create", {"name": later})
    await other_tab.ok("topic:subscribe", {"topic": later})
    joined = await send(alice, {"topic": later, "body": "in later"})
    assert await bob.messages(1) == [[joined, str(joined["id"])]]

    await other_tab.ok("topic:unsubscribe", {"topic": later})
    await send(alice, {"topic": later, "body": "not for bob"})
    marker = await send(alice, {"topic": away.general, "body": "marker"})
    assert await bob.messages(1) == [[marker, str(marker["id"])]]


# Recovery ---------------------------------------------------------------------------------


@SHARED
async def test_a_resumed_session_gets_exactly_what_it_missed_per_topic_in_order_then_live(exact_server):
    away, dropped, offset = await bob_away(exact_server)
    missed = await missed_while_away(away, 5)

    back = await recovery_socket(exact_server, token=away.token, pid=dropped.pid, offset=offset)
    assert back.reply["pid"] == dropped.pid  # the JS client's `socket.recovered`
    replayed = await back.messages(len(missed))
    assert all(len(args) == 1 for args in replayed), "replayed messages carry no offset"
    assert per_topic([args[0] for args in replayed]) == per_topic(missed)  # not the backlog: no "seen"
    topics = [topic for topic, _ in itertools.groupby(args[0]["topic"] for args in replayed)]
    assert len(topics) == len(set(topics)) == 2, "one topic after the other"
    live = await send(away.alice, {"topic": away.general, "body": "live"})
    assert await back.messages(1) == [[live, str(live["id"])]]
    await asyncio.sleep(0)
    assert [event for event in back.pending() if event[0] == "message"] == []


@SHARED
async def test_the_replay_also_covers_the_margin_before_the_offset(live_server):
    away, dropped, offset = await bob_away(live_server, received=4)
    missed = await missed_while_away(away, 2)
    back = await recovery_socket(live_server, token=away.token, pid=dropped.pid, offset=offset)
    assert back.pid == dropped.pid
    replayed = [args[0] for args in await back.messages(4 + len(missed))]
    assert {m["id"] for m in missed} <= {m["id"] for m in replayed}
    assert {m["body"] for m in replayed} >= {"seen 0", "seen 2", "dm"}  # sent within the margin


@SHARED
async def test_live_messages_sent_during_the_replay_follow_it_gapless(exact_server):
    away, dropped, offset = await bob_away(exact_server)
    missed = await missed_while_away(away, MISSED)
    back_again = asyncio.Event()
    last: dict[str, int] = {}

    async def keep_sending(target: dict[str, str], shown_to_bob: str) -> None:
        for n in range(LIVE_AT_MOST):
            if n >= LIVE_AT_LEAST and back_again.is_set():
                return
            last[shown_to_bob] = (await send(away.alice, {**target, "body": f"live {n}"}))["seq"]

    senders = asyncio.gather(
        keep_sending({"topic": away.general}, away.general), keep_sending({"to": away.bob}, away.direct)
    )
    back = await RecoverySocket.connect(
        exact_server.url, {"token": away.token, "pid": dropped.pid, "offset": offset}
    )
    back_again.set()
    await senders
    assert back.pid == dropped.pid

    received: list[list[Any]] = []
    seen: dict[str, int] = {}
    while any(seen.get(topic, 0) < seq for topic, seq in last.items()):
        args = (await back.next("message"))[1]
        received.append(args)
        seen[args[0]["topic"]] = args[0]["seq"]
    offsets = [len(args) == 2 for args in received]
    assert offsets == sorted(offsets), "no live message (with an offset) before the end of the replay"
    assert all(args[1] == str(args[0]["id"]) for args in received if len(args) == 2)
    seqs = defaultdict(list)
    for args in received:
        seqs[args[0]["topic"]].append(args[0]["seq"])
    first = {m["topic"]: m["seq"] for m in reversed(missed)}
    for topic, numbers in seqs.items():
        assert numbers[0] == first[topic]
        assert all(b == a + 1 for a, b in itertools.pairwise(numbers)), topic


# Falling back to a new session ------------------------------------------------------------


async def carol_pid(live_server: LiveServer) -> str:
    token = await live_server.register(f"carol-{uuid.uuid4().hex[:8]}")
    carol = await recovery_socket(live_server, token=token, recover=True)
    await carol.close()
    assert carol.pid is not None
    return carol.pid


@SHARED
@pytest.mark.parametrize("case", ["unknown pid", "another user's pid", "no offset", "offset not a number"])
async def test_a_session_that_cannot_be_resumed_is_a_new_one_with_the_backlog(live_server, case):
    away, dropped, offset = await bob_away(live_server)
    missed = await missed_while_away(away, 2)
    asked = {
        "unknown pid": {"pid": "no-such-pid", "offset": offset},
        "another user's pid": {"pid": await carol_pid(live_server), "offset": offset},
        "no offset": {"pid": dropped.pid},
        "offset not a number": {"pid": dropped.pid, "offset": "12abc"},
    }[case]
    await new_session_with_the_backlog(live_server, away.token, asked, 3 + len(missed))


async def new_session_with_the_backlog(
    live_server: LiveServer, token: str, asked: dict[str, Any], unacknowledged: int
) -> None:
    back = await recovery_socket(live_server, token=token, **asked)
    assert back.pid is not None and back.pid != asked["pid"]
    backlog = await back.messages(unacknowledged)  # everything bob never acknowledged
    assert all(len(args) == 1 for args in backlog)
    assert {args[0]["body"] for args in backlog} >= {"seen 0", "dm", "missed 0", "missed 1"}


async def close_marked(live_server: LiveServer, pid: str | None, closed_before: datetime) -> datetime:
    """The pid's seen_at once the server has stored the socket's close: an earlier mark (the
    connect, a refresh) would start the window early."""
    assert pid is not None
    async with asyncio.timeout(WAIT):
        while live_server.chat.recovery.is_open(pid):
            await asyncio.sleep(0.01)
    async with live_server.chat.db.read() as repos:
        row = await repos.session.get(RecoverySession, pid)
    assert row is not None
    seen_at = row.seen_at if row.seen_at.tzinfo else row.seen_at.replace(tzinfo=UTC)
    assert seen_at >= closed_before  # the close's mark, not the connect's
    return seen_at


@pytest.mark.parametrize("database", DATABASES)
async def test_a_session_is_not_resumed_once_its_window_has_passed(tmp_path, database):
    async with running_on(settings(tmp_path / "data", recovery_window=1.0), database) as server:
        closed_before = datetime.now(UTC)  # bob_away closes the socket after this
        away, dropped, offset = await bob_away(server)
        missed = await missed_while_away(away, 2)
        # The close's mark is written after the connection is released (and after presence and
        # cursors): wait for a seen_at no older than the close, not for the connection to go.
        seen_at = await close_marked(server, dropped.pid, closed_before)
        await asyncio.sleep(max(0.0, (seen_at + timedelta(seconds=1.1) - datetime.now(UTC)).total_seconds()))

        await new_session_with_the_backlog(
            server, away.token, {"pid": dropped.pid, "offset": offset}, 3 + len(missed)
        )


@pytest.mark.parametrize(
    ("auth", "asked"),
    [
        ({"token": "t"}, None),
        ({"token": "t", "recover": "true"}, None),
        ({"token": "t", "recover": False}, None),
        ("not a dict", None),
        (None, None),
        ({"token": "t", "recover": True}, Recovery()),
        ({"token": "t", "recover": True, "pid": "p", "offset": "7"}, Recovery("p", "7")),
        ({"pid": "p"}, Recovery("p", None)),
    ],
)
def test_a_socket_asks_for_recovery_with_recover_true_or_a_pid(auth: Any, asked: Recovery | None):
    assert recovery_from(auth) == asked
