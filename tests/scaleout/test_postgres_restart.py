"""A PostgreSQL restart, or every backend terminated, costs a few sends an error, never a message.

Two nodes on a PostgreSQL of the test's own and Redis; alice sends on node A every 100 ms, each
send with a ``client_id``; bob listens on node B over websocket and over polling, carol on the
topics dialect. PostgreSQL is stopped for about 3 s and started again, or every backend of the
database is terminated (``pg_terminate_backend``). From the clients' own records and the
database: every send is answered within a bound, an error only as ``internal`` with a plain
message; every acknowledged message is stored once; a send answered with an error is not
stored, or its ``client_id`` resend returns it; every stored message reaches every connected
member live, in ``seq`` order with no gap; sends are acknowledged again within a few seconds of
PostgreSQL's return; and the log has a line per failure class, not one per send
(PROTOCOL.md sections 2 and 4).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import socketio

from db.sends_postgres import STORE_TIMEOUT
from server.chat.conversations.writer import RESOLVE_TIMEOUT
from tests.edge.gateway.wsclient import JsonSocket, opened
from tests.edge.rest.test_bots import refused_connect
from tests.loop_watch import LoopWatch, watching_the_loop
from tests.postgres_instance import OwnPostgres, own_postgres
from tests.receiver import Receiver, receiving
from tests.scaleout.conftest import two_nodes
from tests.scaleout.test_hub_outage import ANSWER_WITHIN, PACE, RECEIVED_WITHIN, Sender, in_order_without_gap
from tests.scaleout.test_node_crash import connect, crashable_nodes, register
from tests.support import Client, LiveServer, bearer, general_with

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.timeout(120)]
DOWN_FOR = 30  # sends (about 3 s at one per 100 ms) while PostgreSQL is stopped
figures = logging.getLogger("tests.figures")
RECOVERED_WITHIN = 5.0  # seconds from PostgreSQL's return to the first acknowledged send
CONNECT_REFUSED_WITHIN = 15.0  # seconds a new socket may wait for its refusal while PostgreSQL hangs
TERMINATIONS = 3  # times every backend is terminated, five sends apart
# While PostgreSQL hangs a send is refused after its resolution's bound and its store's, at worst;
# the margin is a loaded machine's (CI: three test workers and both nodes on two cores), which
# the 0.5 s left by ANSWER_WITHIN was not. A send held until the driver's 30 s or 60 s still fails.
HANG_ANSWER_WITHIN = RESOLVE_TIMEOUT + STORE_TIMEOUT + 2.5
# Sends answered while PostgreSQL hangs. The hang must stay well inside the driver's statement
# timeout (db.engine.COMMAND_TIMEOUT, 30 s): a statement sent as the hang began and still unanswered
# at 30 s fails after the hang when the hang lasts nearly that long (CI: about 29 s with 10 sends and
# the refused connect on a loaded machine), and that failure is rightly logged as a second outage.
HUNG_FOR = 5


class Lines(logging.Handler):
    """Every record the nodes (both run in this process) and their driver log at INFO or above."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def shown(self) -> str:
        return "\n".join(f"{r.levelname} {r.name} {r.getMessage()}" for r in self.records)


@asynccontextmanager
async def logged() -> AsyncIterator[Lines]:
    lines = Lines()
    loggers = [logging.getLogger(name) for name in ("parley", "asyncpg")]
    for logger in loggers:  # the nodes' handlers are set by now: ours goes beside them
        logger.addHandler(lines)
    try:
        yield lines
    finally:
        for logger in loggers:
            logger.removeHandler(lines)


class Recorder:
    """The ``message`` events of one Socket.IO client, gathered as they come."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.got: list[dict[str, Any]] = []

    async def until(self, ids: set[int]) -> list[dict[str, Any]]:
        async with asyncio.timeout(RECEIVED_WITHIN):
            while not ids <= {m["id"] for m in self.got}:
                self.got.append(await self.client.next("message", timeout=RECEIVED_WITHIN))
        return self.got


class Recorded(Sender):
    """A ``Sender`` that also keeps when each answer came and each refused send's payload."""

    def __init__(self, client: Client, topic: str, answer_within: float = ANSWER_WITHIN) -> None:
        self.answer_within = answer_within
        super().__init__(client, topic)
        self.answers: list[tuple[float, bool]] = []
        self.errors: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.loop = LoopWatch()  # what held the test's loop (the nodes' too) while it sent

    def why_slowest(self) -> str:
        """For a failed bound: the slowest answer, and whatever held the whole loop meanwhile."""
        return f"slowest answer {self.slowest:.1f} s; {self.loop.report() or 'the loop was never held'}"

    async def _run(self) -> None:
        while True:
            payload = {"topic": self.topic, "body": f"m{self.count}", "client_id": uuid.uuid4().hex}
            started = time.monotonic()
            try:
                ack = await asyncio.wait_for(self.client.call("message:send", payload), self.answer_within)
            except TimeoutError:
                ack = {"ok": False, "error": {"code": "none", "message": "no answer within the bound"}}
            now = time.monotonic()
            self.slowest = max(self.slowest, now - started)
            self.answers.append((now, bool(ack.get("ok"))))
            if ack.get("ok"):
                self.acked.append(ack["data"])
            else:
                self.failed.append(ack["error"])
                self.errors.append((payload, ack["error"]))
            self.answered.set()
            await asyncio.sleep(PACE)


Fault = Callable[[OwnPostgres, Recorded, LiveServer], Awaitable[float]]
"""Makes the fault under the stream of sends (node B given); returns when (monotonic) PostgreSQL
was back."""


async def restart_under_sends(
    tmp_path: Path, fault: Fault, answer_within: float = ANSWER_WITHIN
) -> tuple[Recorded, Lines, float]:
    # A short lease: a worker whose statement outlived COMMAND_TIMEOUT (30 s) during a long hang may
    # have sent the COMMIT of the rows it leased; PostgreSQL commits it when it resumes, and those
    # rows are delivered when their lease ends (at least once, PROTOCOL.md section 12), not within
    # this test's RECEIVED_WITHIN after a default 60 s one (CI: one delivery missing after 20 s).
    hooks = {
        "webhook_allow_hosts": ["127.0.0.1"],
        "webhook_retry_base": 0.05,
        "webhook_timeout": 2.0,
        "webhook_lease": 3.0,
    }
    async with (
        own_postgres() as pg,
        receiving() as hooked,
        two_nodes(tmp_path, database=pg.url, default_topics=[], **hooks) as (a, b),
    ):
        alice_token = await a.register("alice")
        alice = await a.connect("alice", alice_token)
        bob_token = await b.register("bob")
        on_ws = await b.connect("bob", bob_token, transports=["websocket"])
        on_polling = await b.connect("bob", bob_token, transports=["polling"])
        carol_token = await b.register("carol")
        await general_with(alice, on_ws)
        body = {"url": hooked.url, "events": ["message"], "secret": "restart"}
        response = await a.http.post("/api/topics/general/webhooks", json=body, headers=bearer(alice_token))
        assert response.status_code == 201, response.text
        async with (
            opened(b, f"/compat/topics/{carol_token}") as carol,
            logged() as lines,
            watching_the_loop() as watch,
        ):
            await carol.until({"action": "connected"})
            await carol.send({"action": "suscribe", "topic_name": "general"})
            await carol.until({"action": "suscribe"})
            receivers = [Recorder(on_ws), Recorder(on_polling)]
            sender = Recorded(alice, "general", answer_within)
            sender.loop = watch
            try:
                await sender.more(5)
                back = await fault(pg, sender, b)
                await sender.more(20)
            finally:
                await sender.stop()
            recovery = first_ack_after(sender, back)
            await stored_once_and_received(pg, sender, alice, receivers, carol)
            await delivered(hooked, sender)
            await still_serving(a, b)
        return sender, lines, recovery


def first_ack_after(sender: Recorded, back: float) -> float:
    """Seconds from PostgreSQL's return to the first send acknowledged after it."""
    acked_at = [at for at, ok in sender.answers if ok and at >= back]
    assert acked_at, "no send was acknowledged after PostgreSQL came back"
    return acked_at[0] - back


async def stored_once_and_received(
    pg: OwnPostgres, sender: Recorded, alice: Client, receivers: list[Recorder], carol: JsonSocket
) -> None:
    connection = await asyncpg.connect(pg.dsn)
    try:
        rows = await connection.fetch(
            "SELECT m.id, m.seq, m.client_id FROM messages m JOIN topics t ON t.id = m.topic_id"
            " WHERE t.name = 'general' AND m.client_id IS NOT NULL ORDER BY m.seq"
        )
    finally:
        await connection.close()
    copies = Counter(row["client_id"] for row in rows)
    assert [key for key, n in copies.items() if n > 1] == []  # no duplicate stored
    stored = {row["client_id"]: row["id"] for row in rows}
    for message in sender.acked:  # every acknowledged message stored, as acknowledged
        assert stored.get(message["client_id"]) == message["id"]
    for payload, error in sender.errors:
        assert error["code"] == "internal", error
        assert "Traceback" not in error["message"] and "asyncpg" not in error["message"], error
        if payload["client_id"] in stored:  # stored after all: its resend must return it
            again = await alice.ok("message:send", payload)
            assert again["id"] == stored[payload["client_id"]]
    everything = [row["id"] for row in rows]
    for receiver in receivers:
        got = [m for m in await receiver.until(set(everything)) if m["topic"] == "general"]
        assert receiver.client.connected  # live, not from a backlog after a reconnection
        in_order_without_gap(got)
        assert [m["id"] for m in got if m.get("client_id")] == everything
    pushed = [
        await carol.until({"action": "message", "topic_name": "general"}, timeout=RECEIVED_WITHIN)
        for _ in everything
    ]
    assert [p["id"] for p in pushed] == everything


async def delivered(hooked: Receiver, sender: Recorded) -> None:
    """The outbox workers resumed: every acknowledged message was POSTed to the webhook."""
    wanted = {message["id"] for message in sender.acked}
    seen = {r.data["message"]["id"] for r in hooked.received}
    async with asyncio.timeout(RECEIVED_WITHIN):
        while not wanted <= seen:
            seen.add((await hooked.next()).data["message"]["id"])


async def still_serving(a: LiveServer, b: LiveServer) -> None:
    """New connections (the hot reads' pools) and REST reads work on both nodes after the fault."""
    for node, name in ((a, "dave"), (b, "erin")):
        client = await node.user(name)
        subscribed = await client.ok("topic:subscribe", {"topic": "general"})
        assert subscribed["history"]


def measured(fault: str, sender: Recorded, recovery: float) -> None:
    """The figures, for ``pytest --log-cli-level=INFO`` (the issue asks for them)."""
    figures.info(
        "%s: %d sends acknowledged, %d answered with an error, first ack %.2f s after the return,"
        " slowest answer %.2f s",
        fault,
        len(sender.acked),
        len(sender.failed),
        recovery,
        sender.slowest,
    )


def one_line_per_class(lines: Lines, failed: int, outages: int = 1) -> None:
    """The nodes logged a few lines about each outage (a line per failure class, then one when
    the database answers again), none with a traceback, not one per send (the access log's line
    per refused event, ``parley.sio`` at INFO, is not about the outage)."""
    assert [r for r in lines.records if r.exc_info] == [], lines.shown()
    about = [r for r in lines.records if r.levelno >= logging.WARNING or r.name == "parley.database"]
    assert len(about) <= 6 * outages, lines.shown()
    said: set[tuple[str, str]] = set()
    for record in about:
        line = (record.name, record.getMessage())
        assert line not in said, lines.shown()  # once per failure class until it answers again
        said = set() if "answers again" in line[1] else said | {line}
    if failed:
        assert "answers again" in about[-1].getMessage(), lines.shown()


@pytest.mark.parametrize("mode", ["fast", "immediate"])  # a clean shutdown, and a crash
async def test_a_postgres_restart_fails_a_few_sends_cleanly_and_loses_no_message(tmp_path: Path, mode: str):
    async def restart(pg: OwnPostgres, sender: Recorded, _b: LiveServer) -> float:
        await asyncio.to_thread(pg.stop, mode)
        await sender.more(DOWN_FOR)
        await asyncio.to_thread(pg.start)
        return time.monotonic()

    sender, lines, recovery = await restart_under_sends(tmp_path, restart)

    measured(f"restart ({mode})", sender, recovery)
    assert sender.slowest < ANSWER_WITHIN, sender.why_slowest()
    assert recovery < RECOVERED_WITHIN
    one_line_per_class(lines, len(sender.failed))


async def test_terminated_backends_fail_a_few_sends_cleanly_and_lose_no_message(tmp_path: Path):
    async def terminate(pg: OwnPostgres, sender: Recorded, _b: LiveServer) -> float:
        for _ in range(TERMINATIONS):
            assert await pg.terminate_backends() > 0
            await sender.more(5)
        return time.monotonic()

    sender, lines, recovery = await restart_under_sends(tmp_path, terminate)

    measured("terminate", sender, recovery)
    assert sender.slowest < ANSWER_WITHIN, sender.why_slowest()
    assert recovery < RECOVERED_WITHIN
    one_line_per_class(lines, len(sender.failed), outages=TERMINATIONS)


async def test_a_user_who_left_while_postgres_was_down_is_shown_offline_once_it_is_back_and_rest_says_why(
    tmp_path: Path,
):
    async with own_postgres() as pg, two_nodes(tmp_path, database=pg.url, default_topics=[]) as (a, b):
        bob_token, erin_token = await b.register("bob"), await b.register("erin")
        bob, frank = await b.connect("bob", bob_token), await a.user("frank")
        await frank.ok("message:send", {"to": "bob", "body": "hi"})  # partners: presence between them
        await bob.next("message")
        async with logged() as lines:
            await asyncio.to_thread(pg.stop, "fast")
            await frank.close()  # goes offline after the grace, while nothing can be read or stored
            async with asyncio.timeout(RECEIVED_WITHIN):  # the transition met the outage
                while not any(r.name == "parley.database" for r in lines.records):
                    await asyncio.sleep(0.02)  # state of a task in the node: nothing to await
            sent = {"to": "frank", "body": "over REST", "client_id": "rest-1"}
            refused = await b.http.post("/api/messages", json=sent, headers=bearer(bob_token))
            connect_error = await refused_connect(b, erin_token)
            restarting_at = time.time()
            await asyncio.to_thread(pg.start)

            presence = await bob.next("presence", timeout=RECEIVED_WITHIN)
        # Nothing succeeded against the database while it was down: no "answers again" before the
        # restart (the writer said so after a batch whose every send had failed to resolve).
        early = [r for r in lines.records if "answers again" in r.getMessage() and r.created < restarting_at]
        assert early == [], lines.shown()

        assert (presence["username"], presence["online"]) == ("frank", False)
        assert presence["last_seen"] is not None
        assert refused.status_code == 500 and refused.headers["Retry-After"] == "1"
        unavailable = {"code": "internal", "message": "the database is unavailable; try again shortly"}
        assert refused.json()["error"] == unavailable
        assert connect_error == {"message": "internal", "data": unavailable}  # as every refusal
        again = await b.http.post("/api/messages", json=sent, headers=bearer(bob_token))
        assert again.status_code in (200, 201), again.text  # the resend is stored once it is back
        one_line_per_class(lines, failed=1)


async def test_a_hanging_postgres_holds_no_send_past_the_bound_and_loses_no_message(tmp_path: Path):
    refused_after: list[float] = []

    async def hang(pg: OwnPostgres, sender: Recorded, b: LiveServer) -> float:
        gina = await b.register("gina")
        pg.pause()
        try:
            await sender.more(HUNG_FOR)  # while PostgreSQL hangs
            started = time.monotonic()
            with pytest.raises(socketio.exceptions.ConnectionError):  # a new socket: refused, not held
                await Client("gina").sio.connect(b.url, auth={"token": gina}, wait_timeout=30)
            refused_after.append(time.monotonic() - started)
        finally:
            pg.resume()
        return time.monotonic()

    sender, lines, recovery = await restart_under_sends(tmp_path, hang, HANG_ANSWER_WITHIN)

    measured("hang", sender, recovery)
    assert refused_after[0] < CONNECT_REFUSED_WITHIN, refused_after
    assert sender.slowest < HANG_ANSWER_WITHIN, sender.why_slowest()
    assert recovery < RECOVERED_WITHIN
    one_line_per_class(lines, len(sender.failed))


async def test_the_users_of_a_node_that_died_while_postgres_was_down_go_offline_once_it_is_back(
    tmp_path: Path,
):
    async with own_postgres() as pg:
        async with crashable_nodes(tmp_path, pg.url, PARLEY_PRESENCE_GRACE="0.2") as (
            node_one,
            url_one,
            url_two,
            survivor_log,
        ):
            alice_token, bob_token = await register(url_one, "alice"), await register(url_two, "bob")
            bob = await connect(url_two, "bob", bob_token)
            alice = await connect(url_one, "alice", alice_token)
            await alice.ok("message:send", {"to": "bob", "body": "hello"})  # now partners
            await bob.next("message")
            try:
                await asyncio.to_thread(pg.stop, "fast")
                node_one.send_signal(signal.SIGKILL)  # its users are taken over while nothing is read
                async with asyncio.timeout(RECEIVED_WITHIN):  # node two takes over during the outage
                    while "stopped beating" not in survivor_log.read_text():
                        await asyncio.sleep(0.05)  # another process's log: nothing to await
                await asyncio.to_thread(pg.start)

                gone = await bob.next("presence", timeout=RECEIVED_WITHIN)

                assert (gone["username"], gone["online"]) == ("alice", False)
            finally:
                await asyncio.gather(bob.close(), alice.close())


async def test_a_send_that_must_read_while_postgres_hangs_is_answered_within_the_bound(tmp_path: Path):
    """A send usually resolves from memory; one that must read (here a direct message to people
    node A never looked up, once from a pooled connection and once from a new one) is refused
    within the bound like a send whose store hangs, instead of holding every send queued behind it
    until PostgreSQL answers or the driver's own 60 s connect timeout ends."""
    unavailable = {"code": "internal", "message": "the database is unavailable; try again shortly"}
    async with own_postgres() as pg, two_nodes(tmp_path, database=pg.url, default_topics=[]) as (a, b):
        alice = await a.user("alice")
        for name in ("gina", "hugo"):
            await b.register(name)
        pg.pause()
        try:
            took, answers = [], []
            for name in ("gina", "hugo"):
                started = time.monotonic()
                payload = {"to": name, "body": "hello", "client_id": f"to-{name}"}
                answers.append(await alice.sio.call("message:send", payload, timeout=3 * ANSWER_WITHIN))
                took.append(time.monotonic() - started)
        finally:
            pg.resume()

        assert answers == [{"ok": False, "error": unavailable}] * 2
        figures.info("a send that must read while PostgreSQL hangs: answered after %s s", took)
        assert max(took) < HANG_ANSWER_WITHIN, took
        again = await alice.ok("message:send", {"to": "gina", "body": "hello", "client_id": "to-gina"})
        assert again["body"] == "hello"  # stored once PostgreSQL answers again
