"""Long-polling POST bodies with many packets (PROTOCOL.md 5a): every packet is handled, up to the byte limit.

python-engineio answers a POST of more than ``Payload.max_decode_packets``
(16) packets with 200 and drops all of them; the server lifts that cap so
that only the byte limit binds.
"""

from __future__ import annotations

import engineio.payload

from tests.edge.sio.polling import RawPolling, acks, event
from tests.support import LiveServer


async def test_a_burst_of_signals_in_one_post_is_all_handled(live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    alice = await live_server.connect("alice", token)
    await alice.ok("message:send", {"topic": "lobby", "body": "to be read"})
    raw = RawPolling(live_server.http)
    await raw.connect({"token": token})
    signals = [
        ("delivered", {"topic": "lobby", "seq": 1}),
        ("read", {"topic": "lobby", "seq": 1}),
        ("typing", {"topic": "lobby", "typing": True}),
    ] * 20

    posted = await raw.post(*[event(i, name, payload) for i, (name, payload) in enumerate(signals, 1)])
    got = acks(await raw.until(lambda packets: len(acks(packets)) == len(signals)))

    assert posted.status_code == 200
    assert got == {i: {"ok": True, "data": {}} for i in range(1, len(signals) + 1)}


async def test_a_body_at_the_byte_limit_of_the_shortest_packets_decodes(live_server: LiveServer) -> None:
    limit = live_server.app.state.settings.max_http_buffer_size
    body = "\x1e".join(["3"] * ((limit + 1) // 2))  # one-character packets and their separators

    assert len(body) in (limit, limit - 1)
    assert len(engineio.payload.Payload(encoded_payload=body).packets) == (limit + 1) // 2


async def test_a_post_declaring_more_than_the_limit_is_refused_413_in_the_error_shape(
    live_server: LiveServer,
) -> None:
    """Refused before it is read, with the error envelope every HTTP answer of Parley has."""
    limit = live_server.app.state.settings.max_http_buffer_size
    raw = RawPolling(live_server.http)
    await raw.open()
    params = {"EIO": "4", "transport": "polling", "sid": raw.sid}
    response = await live_server.http.post("/socket.io/", params=params, content=b"4" * (limit + 1))

    assert response.status_code == 413
    assert response.json() == {"error": {"code": "too_large", "message": f"body over {limit} bytes"}}
