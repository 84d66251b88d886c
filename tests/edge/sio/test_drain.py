"""A server's stop waits for the event handlers still running before it closes the database.

python-socketio runs each event's handler as a task that nothing awaits; a stop that closed the
database under one left its pooled connection unclosed (a ResourceWarning in a later test, CI).
``ChatNamespace.drain`` (the lifespan's first step of the stop) now waits for them, up to a bound.
Here an event of the test's own holds its handler until the test lets it go.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import EmptyIn
from server.edge.routes import Route
from server.edge.sio.chat_namespace import NAMESPACE, ChatNamespace
from tests.support import WAIT, LiveServer

HELD = "test:held"


def held_event(server: LiveServer) -> tuple[ChatNamespace, asyncio.Event, asyncio.Event]:
    """Register ``HELD``: its handler says it started, then waits to be let go; (the namespace,
    started, let go)."""
    namespace: ChatNamespace = server.app.state.chat_namespace
    started, let_go = asyncio.Event(), asyncio.Event()

    async def hold(_actor: Actor, _data: EmptyIn) -> dict[str, Any]:
        started.set()
        await let_go.wait()
        return {"held": True}

    namespace.sio.on(HELD, namespace.envelope.handler(HELD, Route(EmptyIn, hold)), namespace=NAMESPACE)
    return namespace, started, let_go


async def test_the_stop_waits_for_a_handler_still_running_and_its_ack_is_sent(live_server: LiveServer):
    namespace, started, let_go = held_event(live_server)
    alice = await live_server.user("alice")
    ack = asyncio.ensure_future(alice.sio.call(HELD, {}, timeout=WAIT))
    await asyncio.wait_for(started.wait(), WAIT)

    draining = asyncio.ensure_future(namespace.drain())
    await asyncio.sleep(0)  # (a turn: drain is waiting now, not finished)
    assert not draining.done()
    let_go.set()
    await asyncio.wait_for(draining, WAIT)

    assert namespace.envelope.running == set()
    assert await ack == {"ok": True, "data": {"held": True}}


async def test_a_handler_that_never_ends_holds_the_stop_only_up_to_the_bound(live_server: LiveServer):
    namespace, started, let_go = held_event(live_server)
    alice = await live_server.user("alice")
    ack = asyncio.ensure_future(alice.sio.call(HELD, {}, timeout=WAIT))
    await asyncio.wait_for(started.wait(), WAIT)

    began = time.monotonic()
    await namespace.drain(within=0.2)
    took = time.monotonic() - began

    assert 0.2 <= took < WAIT
    assert len(namespace.envelope.running) == 1  # left running, as before the bound
    let_go.set()
    assert (await ack)["ok"] is True
