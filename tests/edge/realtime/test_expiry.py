"""The token clocks of the realtime runtime without a transport: the notice, then the close at the
expiry; a new token starts the clock anew; a connection gone or without an expiry has none.

Real asyncio timers over fractions of a second; each step is awaited (bounded) as the recording
writer sees it, and the order of the steps is what is checked, not the time taken.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from server.edge.realtime.connection import EXPIRED, Connection
from server.edge.realtime.expiry import Expiry
from server.edge.realtime.registry import Registry
from tests.edge.realtime.runtime import ALICE, BOB, Recorder
from tests.support import WAIT


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def next_step(writer: Recorder) -> tuple[str, str]:
    return await asyncio.wait_for(writer.happened.get(), WAIT)


async def test_the_notice_comes_before_the_expiry_then_the_connection_is_closed() -> None:
    writer = Recorder()
    registry = Registry(Expiry(notice=0.2))
    expires_at = in_seconds(0.5)
    connection = Connection("sid1", ALICE, writer, expires_at=expires_at)
    registry.add(connection)
    assert await next_step(writer) == ("expiring", "sid1")
    assert time.time() < expires_at.timestamp(), "told before the expiry"
    assert await next_step(writer) == ("close", "sid1")
    assert time.time() >= expires_at.timestamp() - 0.05, "closed at the expiry, not before"
    assert writer.closed == [("sid1", EXPIRED)] and connection.closing
    assert len(registry.expiry or ()) == 0


async def test_a_new_token_moves_the_expiry_and_a_new_notice_comes_for_it() -> None:
    writer = Recorder()
    expiry = Expiry(notice=0.2)
    registry = Registry(expiry)
    first = in_seconds(0.4)
    connection = Connection("sid1", ALICE, writer, expires_at=first)
    control = Connection("sid2", BOB, writer, expires_at=first)  # the same token lifetime, unrefreshed
    registry.add(connection)
    registry.add(control)
    assert sorted([await next_step(writer), await next_step(writer)]) == [
        ("expiring", "sid1"),
        ("expiring", "sid2"),
    ]
    assert expiry.extend(connection, in_seconds(0.8))
    assert await next_step(writer) == ("close", "sid2"), "the unrefreshed one goes at the first expiry"
    assert not connection.closing
    assert await next_step(writer) == ("expiring", "sid1"), "told again, for the new token"
    assert await next_step(writer) == ("close", "sid1")
    assert writer.closed == [("sid2", EXPIRED), ("sid1", EXPIRED)]


async def test_a_token_with_less_left_than_the_notice_is_told_at_once() -> None:
    writer = Recorder()
    registry = Registry(Expiry(notice=60))
    registry.add(Connection("sid1", ALICE, writer, expires_at=in_seconds(30)))
    assert await next_step(writer) == ("expiring", "sid1")
    assert writer.closed == []


async def test_a_removed_connection_is_neither_told_nor_closed_and_cannot_be_extended() -> None:
    writer = Recorder()
    expiry = Expiry(notice=0.1)
    registry = Registry(expiry)
    gone = Connection("sid1", ALICE, writer, expires_at=in_seconds(0.3))
    stays = Connection("sid2", BOB, writer, expires_at=in_seconds(0.4))
    registry.add(gone)
    registry.add(stays)
    assert registry.remove(gone) and len(expiry) == 1
    assert not expiry.extend(gone, in_seconds(60)), "no clock for a connection that is gone"
    assert await next_step(writer) == ("expiring", "sid2")
    assert await next_step(writer) == ("close", "sid2")
    assert writer.notices == ["sid2"] and writer.closed == [("sid2", EXPIRED)]
    assert not expiry.extend(stays, in_seconds(60)), "closed as expired: too late for a new token"


async def test_a_connection_whose_token_does_not_expire_has_no_clock() -> None:
    expiry = Expiry(notice=1)
    registry = Registry(expiry)
    connection = Connection("sid1", ALICE, Recorder())
    registry.add(connection)
    assert len(expiry) == 0
    assert not expiry.extend(connection, in_seconds(60))
