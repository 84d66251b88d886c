"""A logout, disable or new password during a gateway socket's set-up closes it (issue 18).

As ``tests/edge/sio/test_revocation_race.py``, for the plain-WebSocket dialects: the socket is
accepted, its token checked, then its set-up is held at the database (``tests/holds.py``)
while the user's sessions are revoked. It must be closed (4401) and take no frame.
"""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from tests.edge.gateway.wsclient import opened
from tests.edge.sio.test_revocation_race import REVOCATIONS, Revoke
from tests.holds import held_membership_reads
from tests.support import LiveServer

pytestmark = pytest.mark.both_databases
DIALECTS = pytest.mark.parametrize(
    "path", ["/compat/topics/{token}", "/compat/echo/ws/pub?token={token}"], ids=["topics", "public"]
)


@DIALECTS
@REVOCATIONS
async def test_a_revocation_during_set_up_closes_the_gateway_socket(
    live_server: LiveServer, path: str, revoke: Revoke, code: str
) -> None:
    token = await live_server.register("alice")
    actor = await live_server.chat.users.authenticate(token)
    url = path.format(token=token)
    async with held_membership_reads(live_server) as held, opened(live_server, url) as ws:
        await held.wait()  # accepted and authenticated; set-up under way; not registered yet
        await revoke(live_server, token)
        await held.release()
        assert await ws.closed() == (4401, code)
        with pytest.raises(ConnectionClosed):
            await ws.send({"action": "message", "topic_name": "lobby", "content": "still here?"})
    assert live_server.chat.sessions.connections(actor.id) == 0
    assert len(live_server.app.state.gateway.writer) == 0
