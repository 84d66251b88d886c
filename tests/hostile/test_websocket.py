"""Hostile input over a plain WebSocket, as raw Engine.IO/Socket.IO frames (PROTOCOL.md 2 and 5a).

Each case is a name, the frames sent, and what the server must answer:
``Refused(code)`` (an error ack, the socket still served), ``Acked``,
``Closed`` (a close frame, nothing answered, counted undecodable or not),
``ConnectRefused(code)``. Every case also checks that bob, connected before,
is still served, that no chat row was written and that no traceback was
logged (``tests/hostile/harness.py``). One ``parley serve`` runs the module.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.hostile.expect import Acked, Closed, ConnectRefused, Expectation, Refused, Served
from tests.hostile.harness import SECRET, WAIT, Server, bystander, parley_serve
from tests.hostile.raw import RawSocket

MALLORY = "<mallory's token>"  # replaced by the real token when the frame is sent
DEEP = 10_000


@dataclass(frozen=True)
class Case:
    id: str
    # A callable builds the frames when the case runs: a token minted at collection expires
    # before a long run reaches it (the suite takes more than its 600 s lifetime on a loaded machine).
    frames: tuple[str | bytes, ...] | Callable[[], tuple[str | bytes, ...]]
    expect: Expectation
    namespace: str | None = "/"  # the namespace joined first; None: no Socket.IO CONNECT at all


def event(name: Any, payload: Any, ack: int = 1, namespace: str = "") -> str:
    prefix = f"{namespace}," if namespace else ""
    return f"42{prefix}{ack}{json.dumps([name, payload])}"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def wrong_types() -> Iterator[Any]:
    """Every event with a payload whose field has the wrong type, or is missing, too long, malformed."""
    fields: dict[str, list[tuple[str, Any]]] = {
        "topic:create": [
            ("name-number", {"name": 5}),
            ("name-null", {"name": None}),
            ("name-space", {"name": "a b"}),
            ("name-65-chars", {"name": "x" * 65}),
            ("private-string", {"name": "fine", "private": "yes"}),
            ("missing-name", {}),
        ],
        "topic:subscribe": [("topic-number", {"topic": 1}), ("topic-list", {"topic": ["lobby"]})],
        "topic:unsubscribe": [("topic-bool", {"topic": True})],
        "topic:invite": [
            ("username-number", {"topic": "lobby", "username": 5}),
            ("topic-object", {"topic": {}, "username": "bob"}),
        ],
        "topic:members": [("topic-null", {"topic": None})],
        "message:send": [
            ("body-number", {"topic": "lobby", "body": 5}),
            ("body-empty", {"topic": "lobby", "body": ""}),
            ("body-blank", {"topic": "lobby", "body": " \t\n"}),
            ("body-4001-chars", {"topic": "lobby", "body": "x" * 4001}),
            ("body-nul", {"topic": "lobby", "body": "a\u0000b"}),
            ("topic-and-to", {"topic": "lobby", "to": "bob", "body": "hi"}),
            ("no-target", {"body": "hi"}),
            ("client-id-65-chars", {"topic": "lobby", "body": "hi", "client_id": "c" * 65}),
            ("client-id-number", {"topic": "lobby", "body": "hi", "client_id": 5}),
        ],
        "message:edit": [
            ("id-string", {"id": "1", "body": "x"}),
            ("id-zero", {"id": 0, "body": "x"}),
            ("id-float", {"id": 1.5, "body": "x"}),
            ("id-bool", {"id": True, "body": "x"}),
            ("body-number", {"id": 1, "body": 5}),
        ],
        "message:delete": [("id-null", {"id": None}), ("id-negative", {"id": -1})],
        "history": [
            ("limit-zero", {"topic": "lobby", "limit": 0}),
            ("limit-201", {"topic": "lobby", "limit": 201}),
            ("limit-string", {"topic": "lobby", "limit": "5"}),
            ("before-seq-negative", {"topic": "lobby", "before_seq": -1}),
            ("topic-and-with", {"topic": "lobby", "with": "bob"}),
        ],
        "typing": [("typing-string", {"topic": "lobby", "typing": "yes"}), ("topic-number", {"topic": 5})],
        "read": [
            ("seq-negative", {"topic": "lobby", "seq": -1}),
            ("seq-string", {"topic": "lobby", "seq": "3"}),
        ],
        "delivered": [("seq-null", {"topic": "lobby", "seq": None}), ("with-number", {"with": 5, "seq": 1})],
    }
    for name, payloads in fields.items():
        for label, payload in payloads:
            yield pytest.param(
                Case(f"{name}-{label}", (event(name, payload),), Refused()), id=f"{name}-{label}"
            )
    for name in [*fields, "topic:list"]:
        case_id = f"{name}-not-an-object"
        yield pytest.param(Case(case_id, (event(name, ["x"]),), Refused()), id=case_id)


def huge_integers() -> Iterator[Any]:
    """Integers a 64-bit column cannot hold: ``invalid``, never a database error."""
    for label, name, payload in [
        ("message:edit-id", "message:edit", {"id": 2**63, "body": "x"}),
        ("message:delete-id", "message:delete", {"id": 2**64}),
        ("history-before-seq", "history", {"topic": "lobby", "before_seq": 2**63}),
        ("read-seq", "read", {"topic": "lobby", "seq": 2**63}),
        ("delivered-seq", "delivered", {"topic": "lobby", "seq": 2**64}),
    ]:
        yield pytest.param(Case(label, (event(name, payload),), Refused()), id=f"2**63-{label}")


FRAMES = [
    # D12: malformed Engine.IO and Socket.IO packets close that connection, with a close frame.
    Case("empty-frame", ("",), Closed()),
    Case("engineio-zz", ("zz",), Closed()),
    Case("engineio-9x", ("9x",), Closed()),
    Case("engineio-nul", ("\x00",), Closed()),
    Case("socketio-empty", ("4",), Closed()),
    Case("truncated-json", ('421["topic:list",{"unterminated":',), Closed()),
    Case("truncated-array", ('421["message:send"',), Closed()),
    Case("lone-surrogate", (event("message:send", {"topic": "lobby", "body": "\ud800"}),), Closed()),
    Case("nesting-10000", (f'421["message:send",{nested(DEEP)}]',), Closed()),
    Case("ack-id-101-digits", ("42" + "1" * 101 + '["topic:list",{}]',), Closed()),
    Case("connect-invalid-json", ("40{bad",), Closed(), namespace=None),
    # D1: Parley has no binary payloads; a binary packet closes the connection before any buffering.
    Case(
        "binary-event-999999999-attachments",
        ('45999999999-1["history",{"_placeholder":true,"num":0}]', b"x" * 1000, b"x" * 1000),
        Closed(),
    ),
    Case("binary-event-bad-num", ('451-["history",{"_placeholder":true,"num":5}]', b"abc"), Closed()),
    Case("binary-ack", ('461-[{"_placeholder":true,"num":0}]', b"abc"), Closed()),
    Case("binary-frame", (b"\x04hello",), Closed()),
    Case("base64-binary-text-frame", ("bBGhlbGxv",), Closed()),
    # Over the transport limit (64 KiB): closed, not undecodable.
    Case("frame-1MB", ("4" + "x" * 1024 * 1024,), Closed(counted=0)),
    Case("frame-16MB", ("4" + "x" * 16_000_000,), Closed(counted=0)),  # under uvicorn's 16 MiB frame cap
    # Event names and ack ids.
    *[
        Case(f"reserved-{name}", (event(name, {}),), Refused())
        for name in ("connect", "disconnect", "connect_error", "disconnecting", "newListener")
    ],
    Case("numeric-event-name", (event(42, {}),), Refused()),
    # Not an EVENT by the Socket.IO protocol (no array starting with a name): closed, as the reference.
    Case("null-event-name", ("421[null]",), Closed()),
    Case("no-event-name", ("421[]",), Closed()),
    Case("event-not-an-array", ('421{"topic":"lobby"}',), Closed()),
    Case("ack-not-an-array", ('431{"ok":true}',), Closed()),
    Case("unknown-event", (event("nope", {}),), Refused()),
    Case("ack-id-100-digits", ("42" + "9" * 100 + '["topic:list",{}]',), Acked(int("9" * 100))),
    # Order and namespaces.
    Case("event-before-connect", (event("topic:list", {}),), Closed(counted=0), namespace=None),
    Case("transport-open-no-connect", (), Closed(counted=0), namespace=None),
    Case("duplicate-connect", ("40" + json.dumps({"token": MALLORY}),), Served()),
    Case("unknown-namespace-connect", ('40/nope,{"token":"x"}',), Served()),
    Case("event-on-unjoined-namespace", (event("echo", 1, namespace="/echo"),), Served()),
    Case("engineio-upgrade-without-probe", ("5",), Served()),
    Case("engineio-ping-from-client", ("2",), Served()),
    # The echo channel (namespace /echo): any JSON comes back as is, within the nesting limit.
    Case("echo-nul", (event("echo", "a\u0000b", namespace="/echo"),), Acked(1, "a\u0000b"), "/echo"),
    Case(
        "echo-nested-128",
        (f'42/echo,1["echo",{nested(128)}]',),
        Acked(1, json.loads(nested(128))),
        "/echo",
    ),
    Case("echo-nested-300", (f'42/echo,1["echo",{nested(300)}]',), Refused(namespace="/echo"), "/echo"),
    Case("echo-nested-10000", (f'42/echo,1["echo",{nested(DEEP)}]',), Closed(), "/echo"),
    Case("echo-lone-surrogate", (event("echo", "\ud800", namespace="/echo"),), Closed(), "/echo"),
    Case(
        "echo-reserved-name",
        (event("disconnect", {}, namespace="/echo"),),
        Refused(namespace="/echo"),
        "/echo",
    ),
]


def token(secret: str = SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    """A token for mallory with ``changes`` to its claims (``None`` removes one)."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "mallory", "iat": now, "exp": now + 600, "ver": 0, **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def refused(case_id: str, auth: Any, code: str = "unauthorized") -> Case:
    """A CONNECT with ``auth`` (or what ``auth()`` makes when the case runs) as its payload, on a
    fresh transport, refused with ``code``."""
    if callable(auth):
        return Case(case_id, lambda: ("40" + json.dumps(auth()),), ConnectRefused(code), namespace=None)
    return Case(case_id, ("40" + json.dumps(auth),), ConnectRefused(code), namespace=None)


TOKENS = [
    refused("token-another-secret", lambda: {"token": token("x" * 40)}),
    refused("token-alg-none", lambda: {"token": token(None, "none")}),
    refused("token-hs512", lambda: {"token": token(SECRET * 2, "HS512")}),
    refused("token-expired", lambda: {"token": token(exp=int(time.time()) - 60)}, "token_expired"),
    refused("token-no-exp", lambda: {"token": token(exp=None)}),
    refused("token-string-exp", lambda: {"token": token(exp=str(int(time.time()) + 600))}),
    refused("token-float-huge-exp", lambda: {"token": token(exp=1e20)}),
    refused("token-huge-exp", lambda: {"token": token(exp=10**20)}),  # D14
    refused("token-exp-2**63", lambda: {"token": token(exp=2**63)}),
    refused("token-huge-iat", lambda: {"token": token(iat=10**20)}),
    refused("token-no-version", lambda: {"token": token(ver=None)}),  # D14
    refused("token-string-version", lambda: {"token": token(ver="0")}),
    refused("token-unknown-user", lambda: {"token": token(sub="ghost")}),
    refused("token-garbage", {"token": "garbage"}),
    refused("token-number", {"token": 42}),
    refused("auth-not-an-object", "a-token"),
    Case("no-auth", ("40",), ConnectRefused(), namespace=None),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with parley_serve(Path(tmp_path_factory.mktemp("hostile-ws"))) as running:
        yield running


async def run(server: Server, case: Case) -> None:
    """Send ``case`` as mallory with bob connected; check the answer and what must not have changed."""
    async with bystander(server) as bob:
        watch = server.watch()
        raw = await RawSocket.open(server)
        try:
            if case.namespace is not None:
                await raw.join(case.namespace, server.tokens["mallory"])
            token = server.tokens["mallory"]
            frames = case.frames() if callable(case.frames) else case.frames
            await raw.send(*[f.replace(MALLORY, token) if isinstance(f, str) else f for f in frames])
            await case.expect.check(raw, watch)
        finally:
            await raw.close()
        watch.nothing_stored()
        await watch.others_still_served(bob)


CASES = [
    *wrong_types(),
    *huge_integers(),
    *[pytest.param(c, id=c.id) for c in FRAMES + TOKENS],
]


@pytest.mark.parametrize("case", CASES)
async def test_a_hostile_frame_gets_its_answer_and_harms_no_one(server: Server, case: Case) -> None:
    await run(server, case)


async def test_a_stream_of_binary_attachments_is_refused_at_its_header(server: Server) -> None:
    """D1: 500 x 60 KB attachments after a header announcing 999999999 of them: closed, RSS bounded."""
    async with bystander(server) as bob:
        watch = server.watch()
        raw = await RawSocket.open(server)
        await raw.join("/", server.tokens["mallory"])
        before = server.rss_mb()
        await raw.send('45999999999-1["history",{"_placeholder":true,"num":0}]', *[b"x" * 60_000] * 500)
        await Closed().check(raw, watch)
        assert server.rss_mb() - before < 10
        watch.nothing_stored()
        await watch.others_still_served(bob)


async def test_an_echo_at_the_nesting_limit_is_kept_and_its_transcript_renders(server: Server) -> None:
    raw = await RawSocket.open(server)
    await raw.join("/echo", server.tokens["mallory"])
    await raw.send(f'42/echo,1["echo",{nested(128)}]')
    assert await raw.ack(1) == json.loads(nested(128))
    await raw.close()
    auth = {"Authorization": f"Bearer {server.tokens['mallory']}"}

    def stored() -> bool:
        history = server.http.get("/api/echo/history", headers=auth)
        assert history.status_code == 200, history.text
        return any(len(t["lines"]) == 2 for t in history.json()["transcripts"])

    deadline = time.monotonic() + WAIT  # the transcript is stored as the socket's disconnect is handled
    while not stored():
        assert time.monotonic() < deadline, "the transcript was never stored"


async def test_a_long_echo_session_holds_a_bounded_transcript(server: Server) -> None:
    """D4: 190 x 60 KB echoes on one socket keep RSS flat (the transcript keeps 256 KiB)."""
    raw = await RawSocket.open(server)
    await raw.join("/echo", server.tokens["mallory"])
    payload = "e" * 60_000
    await raw.send('42/echo,1["echo","warm-up"]')
    assert await raw.ack(1) == "warm-up"
    before = server.rss_mb()
    for n in range(2, 192):  # within the socket's burst of 200 events
        await raw.send(f'42/echo,{n}["echo","{payload}"]')
        assert await raw.ack(n) == payload
    grown = server.rss_mb() - before
    await raw.close()
    assert grown < 6, f"{grown:.1f} MB for 11 MB of echoes"
