"""Validation errors read as the reason alone: pydantic's "Value error, " prefix never reaches a client.

A reason we raise from a validator (``ValueError("must not be empty ...")``) is formatted by pydantic
as "Value error, must not ...". Every transport formats validation errors through one function that
drops the prefix; this checks one refusal per transport.
"""

from __future__ import annotations

from tests.edge.gateway.wsclient import opened
from tests.support import LiveServer


def assert_reason(message: str, reason: str) -> None:
    assert "Value error" not in message, message
    assert reason in message, message


async def test_socketio_acks_carry_the_reason_without_the_prefix(live_server: LiveServer):
    alice = await live_server.user("alice")
    ack = await alice.call("message:send", {"topic": "lobby", "body": "   "})
    assert ack["ok"] is False
    assert ack["error"]["message"] == "body: must not be empty or only whitespace or invisible characters"


async def test_rest_errors_carry_the_reason_without_the_prefix(live_server: LiveServer):
    response = await live_server.http.post("/api/users", json={"username": "alice", "password": "short"})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "password: must be 8 to 72 bytes (UTF-8)"


async def test_gateway_errors_carry_the_reason_without_the_prefix(live_server: LiveServer):
    weak = {"username": "alice", "password": "short"}
    echo = await live_server.http.post("/compat/echo/register", json=weak)
    assert_reason(echo.json()["detail"], "must be 8 to 72 bytes")
    messenger = await live_server.http.post(
        "/compat/messenger/user", json={"Username": "alice", "Password": "short"}
    )
    assert_reason(messenger.json()["Message"], "must be 8 to 72 bytes")

    token = await live_server.register("bob")
    async with opened(live_server, f"/compat/topics/{token}") as socket:
        await socket.recv()  # connected
        await socket.send({"action": "message", "topic_name": "lobby", "content": " "})
        answer = await socket.until({"action": "message", "ok": False})
        assert (
            answer["error"]["message"]
            == "content: must not be empty or only whitespace or invisible characters"
        )
