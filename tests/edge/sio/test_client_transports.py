"""The python-socketio client runs one whole chat session on each transport (issue 12's client matrix).

Subscribe, send and receive, acknowledge delivery, typing, disconnect and reconnect to an empty
backlog: the same script over long-polling only and over WebSocket only.
"""

from __future__ import annotations

import pytest

from tests.support import LiveServer, send


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_a_whole_session_on_one_transport(live_server: LiveServer, transport: str) -> None:
    options = {"transports": [transport]}
    alice = await live_server.user("alice", **options)
    bob_token = await live_server.register("bob")
    bob = await live_server.connect("bob", bob_token, **options)
    assert alice.sio.transport() == bob.sio.transport() == transport

    await alice.ok("topic:create", {"name": "plaza"})
    subscribed = await bob.ok("topic:subscribe", {"topic": "plaza"})
    assert subscribed["topic"]["subscribed"] is True

    sent = await send(alice, {"topic": "plaza", "body": f"over {transport}"})
    heard = await bob.next("message")
    assert heard == sent
    await bob.ok("delivered", {"topic": "plaza", "seq": heard["seq"]})

    await alice.ok("typing", {"topic": "plaza", "typing": True})
    assert await bob.next("typing") == {"topic": "plaza", "username": "alice", "typing": True}

    await bob.close()
    await live_server.chat.delivery.flush()
    bob = await live_server.connect("bob", bob_token, **options)
    marker = await send(alice, {"topic": "plaza", "body": "marker"})
    assert (await bob.next("message"))["id"] == marker["id"]  # nothing acknowledged came again
