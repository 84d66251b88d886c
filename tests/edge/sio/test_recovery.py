"""Connection-state recovery (docs/PROTOCOL.md, "Connection-state recovery"), from the wire.

A raw WebSocket client (``recovery_socket.py``) shows what python-socketio's client hides: the
CONNECT reply's ``pid`` and each event's whole argument list (an offset is a last argument).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from db.models import RecoverySession
from server.chat.connections.recovery import Recovery
from server.edge.sio.tokens import recovery_from
from tests.edge.sio.recovery_socket import RecoverySocket
from tests.support import WAIT, Client, LiveServer, offline_bob, send
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases

MISSED = 150  # per topic, while the member is away
LIVE_AT_LEAST, LIVE_AT_MOST = 40, 2000  # per topic, sent while the member comes back


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Test settings; a test parametrizes ``settings`` indirectly with its recovery overrides."""
    overrides = {"socket_burst": 100_000, "socket_rate": 100_000.0, **getattr(request, "param", {})}
    return settings_for(tmp_path / "data", **overrides)


def exact(**overrides: Any) -> Any:
    """Run the test with these settings (a margin of 0 replays exactly what comes after the offset)."""
    return pytest.mark.parametrize("settings", [overrides], indirect=True, ids=["settings"])


async def recovery_socket(live_server: LiveServer, **auth: Any) -> RecoverySocket:
    socket = await RecoverySocket.connect(live_server.url, auth)
    await socket.next("session")
    return socket


async def bob_away(live_server: LiveServer, received: int = 3) -> tuple[Client, str, RecoverySocket, str]:
    """bob's recovery socket gets ``received`` live messages (general, then a DM), then drops.

    Returns alice, bob's token, the dropped socket and the offset it saw last.
    """
    alice, token = await offline_bob(live_server)
    bob = await recovery_socket(live_server, token=token, recover=True)
    for n in range(received):
        await send(
            alice, {"topic": "general", "body": f"seen {n}"} if n % 2 == 0 else {"to": "bob", "body": "dm"}
        )
    last = (await bob.messages(received))[-1]
    await bob.close()
    return alice, token, bob, last[-1]


async def missed_while_away(alice: Client, per_topic: int) -> list[dict[str, Any]]:
    """alice sends ``per_topic`` to general and to bob; the Messages as bob sees them."""
    sent = []
    for n in range(per_topic):
        sent.append(await send(alice, {"topic": "general", "body": f"missed {n}"}))
        sent.append({**await send(alice, {"to": "bob", "body": f"missed {n}"}), "topic": "@alice"})
    return sent


def per_topic(messages: list[dict[str, Any]]) -> dict[str, list[int]]:
    ids: defaultdict[str, list[int]] = defaultdict(list)
    for message in messages:
        ids[message["topic"]].append(message["id"])
    return dict(ids)


# Who gets a pid and offsets --------------------------------------------------------------


async def test_only_a_socket_that_asks_gets_a_pid_and_only_its_messages_carry_offsets(live_server):
    alice, token = await offline_bob(live_server)
    plain = await recovery_socket(live_server, token=token)
    asking = await recovery_socket(live_server, token=token, recover=True)
    python_client = await live_server.connect("bob", token)
    assert set(plain.reply) == {"sid"}
    assert set(asking.reply) == {"sid", "pid"}
    assert isinstance(asking.pid, str) and len(asking.pid) >= 16

    in_topic = await send(alice, {"topic": "general", "body": "hello"})
    direct = {**await send(alice, {"to": "bob", "body": "psst"}), "topic": "@alice"}
    edited = await alice.ok("message:edit", {"id": in_topic["id"], "body": "hello!"})

    assert await plain.messages(2) == [[in_topic], [direct]]
    assert await asking.messages(2) == [[in_topic, str(in_topic["id"])], [direct, str(direct["id"])]]
    assert (await asking.next("message:edited"))[1] == [edited]  # only `message` carries an offset
    assert await python_client.next("message") == in_topic  # one argument, as ever
    assert await python_client.next("message") == direct


@exact(recovery_window=0)
async def test_no_pid_is_given_when_recovery_is_off(live_server):
    _alice, token = await offline_bob(live_server)
    asking = await recovery_socket(live_server, token=token, recover=True)
    resuming = await recovery_socket(live_server, token=token, pid="some-pid", offset="1")
    assert set(asking.reply) == set(resuming.reply) == {"sid"}


async def test_a_recovery_socket_gets_offsets_for_the_topics_it_joins_and_none_it_left(live_server):
    alice, token = await offline_bob(live_server)
    bob = await recovery_socket(live_server, token=token, recover=True)
    other_tab = await live_server.connect("bob", token)
    await alice.ok("topic:create", {"name": "later"})
    await other_tab.ok("topic:subscribe", {"topic": "later"})
    joined = await send(alice, {"topic": "later", "body": "in later"})
    assert await bob.messages(1) == [[joined, str(joined["id"])]]

    await other_tab.ok("topic:unsubscribe", {"topic": "later"})
    await send(alice, {"topic": "later", "body": "not for bob"})
    marker = await send(alice, {"topic": "general", "body": "marker"})
    assert await bob.messages(1) == [[marker, str(marker["id"])]]


# Recovery ---------------------------------------------------------------------------------


@exact(recovery_margin=0)
async def test_a_resumed_session_gets_exactly_what_it_missed_per_topic_in_order_then_live(live_server):
    alice, token, dropped, offset = await bob_away(live_server)
    missed = await missed_while_away(alice, 5)

    back = await recovery_socket(live_server, token=token, pid=dropped.pid, offset=offset)
    assert back.reply["pid"] == dropped.pid  # the JS client's `socket.recovered`
    replayed = await back.messages(len(missed))
    assert all(len(args) == 1 for args in replayed), "replayed messages carry no offset"
    assert per_topic([args[0] for args in replayed]) == per_topic(missed)  # not the backlog: no "seen"
    topics = [topic for topic, _ in itertools.groupby(args[0]["topic"] for args in replayed)]
    assert len(topics) == len(set(topics)) == 2, "one topic after the other"
    live = await send(alice, {"topic": "general", "body": "live"})
    assert await back.messages(1) == [[live, str(live["id"])]]
    await asyncio.sleep(0)
    assert [event for event in back.pending() if event[0] == "message"] == []


async def test_the_replay_also_covers_the_margin_before_the_offset(live_server):
    alice, token, dropped, offset = await bob_away(live_server, received=4)
    missed = await missed_while_away(alice, 2)
    back = await recovery_socket(live_server, token=token, pid=dropped.pid, offset=offset)
    assert back.pid == dropped.pid
    replayed = [args[0] for args in await back.messages(4 + len(missed))]
    assert {m["id"] for m in missed} <= {m["id"] for m in replayed}
    assert {m["body"] for m in replayed} >= {"seen 0", "seen 2", "dm"}  # sent within the margin


@exact(recovery_margin=0)
async def test_live_messages_sent_during_the_replay_follow_it_gapless(live_server):
    alice, token, dropped, offset = await bob_away(live_server)
    missed = await missed_while_away(alice, MISSED)
    back_again = asyncio.Event()
    last: dict[str, int] = {}

    async def keep_sending(target: dict[str, str], shown_to_bob: str) -> None:
        for n in range(LIVE_AT_MOST):
            if n >= LIVE_AT_LEAST and back_again.is_set():
                return
            last[shown_to_bob] = (await send(alice, {**target, "body": f"live {n}"}))["seq"]

    senders = asyncio.gather(
        keep_sending({"topic": "general"}, "general"), keep_sending({"to": "bob"}, "@alice")
    )
    back = await RecoverySocket.connect(
        live_server.url, {"token": token, "pid": dropped.pid, "offset": offset}
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
    carol = await recovery_socket(live_server, token=await live_server.register("carol"), recover=True)
    await carol.close()
    assert carol.pid is not None
    return carol.pid


@pytest.mark.parametrize("case", ["unknown pid", "another user's pid", "no offset", "offset not a number"])
async def test_a_session_that_cannot_be_resumed_is_a_new_one_with_the_backlog(live_server, case):
    alice, token, dropped, offset = await bob_away(live_server)
    missed = await missed_while_away(alice, 2)
    asked = {
        "unknown pid": {"pid": "no-such-pid", "offset": offset},
        "another user's pid": {"pid": await carol_pid(live_server), "offset": offset},
        "no offset": {"pid": dropped.pid},
        "offset not a number": {"pid": dropped.pid, "offset": "12abc"},
    }[case]
    await new_session_with_the_backlog(live_server, token, asked, 3 + len(missed))


async def new_session_with_the_backlog(
    live_server: LiveServer, token: str, asked: dict[str, Any], unacknowledged: int
) -> None:
    back = await recovery_socket(live_server, token=token, **asked)
    assert back.pid is not None and back.pid != asked["pid"]
    backlog = await back.messages(unacknowledged)  # everything bob never acknowledged
    assert all(len(args) == 1 for args in backlog)
    assert {args[0]["body"] for args in backlog} >= {"seen 0", "dm", "missed 0", "missed 1"}


@exact(recovery_window=1.0)
async def test_a_session_is_not_resumed_once_its_window_has_passed(live_server):
    alice, token, dropped, offset = await bob_away(live_server)
    missed = await missed_while_away(alice, 2)
    chat = live_server.chat
    async with chat.db.read() as repos:
        bob = await repos.users.by_name("bob")
    assert bob is not None and bob.id is not None
    async with asyncio.timeout(WAIT):
        while chat.sessions.connections(bob.id):  # the server has seen the socket close
            await asyncio.sleep(0.01)
    async with chat.db.read() as repos:
        row = await repos.session.get(RecoverySession, dropped.pid)
    assert row is not None
    seen_at = row.seen_at if row.seen_at.tzinfo else row.seen_at.replace(tzinfo=UTC)
    await asyncio.sleep(max(0.0, (seen_at + timedelta(seconds=1.1) - datetime.now(UTC)).total_seconds()))

    await new_session_with_the_backlog(
        live_server, token, {"pid": dropped.pid, "offset": offset}, 3 + len(missed)
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
