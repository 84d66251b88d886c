"""The deadlines of many sockets on one loop timer per tick (server/edge/engine/ticks.py): never early,
at most a tick late, one timer for all the keys of a tick, cancelled keys skipped, a failing
callback not skipping the others, one ``Ticks`` per loop."""

from __future__ import annotations

import asyncio

from server.edge.engine.ticks import TICK, Ticks, ticks
from tests.support import WAIT


async def test_a_deadline_is_never_early_and_at_most_a_tick_late() -> None:
    loop = asyncio.get_running_loop()
    clock = Ticks()
    fired: dict[str, float] = {}
    done = asyncio.Event()

    def note(key: str) -> None:
        fired[key] = loop.time()
        if len(fired) == 2:
            done.set()

    start = loop.time()
    due = {"a": start + 0.03, "b": start + 0.11}
    for key, when in due.items():
        clock.at(when, key, note)
    await asyncio.wait_for(done.wait(), WAIT)
    for key, when in due.items():
        assert fired[key] >= when - 0.001, "not before its deadline (the loop's clock resolution aside)"
    assert fired["a"] < fired["b"]


async def test_keys_of_one_tick_share_one_loop_timer_and_a_cancelled_key_is_skipped() -> None:
    loop = asyncio.get_running_loop()
    clock = Ticks()
    called: list[int] = []
    done = asyncio.Event()
    when = (int(loop.time() / TICK) + 2) * TICK  # every key below in the same tick
    scheduled = len(loop._scheduled)  # type: ignore[attr-defined]  # the loop's timer heap (a test's look)
    slots = {clock.at(when, key, called.append) for key in range(100)}
    assert len(slots) == 1 and len(clock) == 100
    assert len(loop._scheduled) == scheduled + 1, "one loop timer for the hundred"  # type: ignore[attr-defined]
    slot = slots.pop()
    clock.cancel(slot, 7)
    clock.at(when, 100, lambda _key: done.set())
    await asyncio.wait_for(done.wait(), WAIT)
    assert called == [key for key in range(100) if key != 7]
    assert len(clock) == 0
    clock.cancel(slot, 8)  # after its tick: nothing happens


async def test_a_failing_callback_does_not_skip_the_others(caplog) -> None:
    clock = Ticks()
    done = asyncio.Event()

    def fail(_key: object) -> None:
        raise RuntimeError("boom")

    when = asyncio.get_running_loop().time()
    clock.at(when, "first", fail)
    clock.at(when, "second", lambda _key: done.set())
    await asyncio.wait_for(done.wait(), WAIT)
    assert "a deadline's callback failed" in caplog.text


def test_each_loop_has_its_own_ticks() -> None:
    async def mine() -> Ticks:
        return ticks() if ticks() is ticks() else Ticks()

    first = asyncio.run(mine())
    second = asyncio.run(mine())
    assert first is not second
