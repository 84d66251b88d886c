"""The set-up gate: at most ``limit`` turns at once, the rest first come first served, urgent
waiters before the others, and no turn lost to a waiter that was cancelled."""

from __future__ import annotations

import asyncio

import pytest

from server.chat.kernel.gate import Gate

WAIT = 5.0


class Holder:
    """A task that takes a turn, says so, and keeps it until told to leave."""

    def __init__(self, gate: Gate, name: str, order: list[str], urgent: bool = False) -> None:
        self.inside = asyncio.Event()
        self.leave = asyncio.Event()
        self.task = asyncio.ensure_future(self._run(gate, name, order, urgent))

    async def _run(self, gate: Gate, name: str, order: list[str], urgent: bool) -> None:
        async with gate.turn(urgent=urgent):
            order.append(name)
            self.inside.set()
            await self.leave.wait()

    async def done(self) -> None:
        self.leave.set()
        await asyncio.wait_for(self.task, WAIT)


async def queued(gate: Gate, count: int) -> None:
    """Until ``count`` waiters are in the gate's lanes (bounded)."""
    async with asyncio.timeout(WAIT):
        while gate.waiting != count:
            await asyncio.sleep(0)


async def test_at_most_limit_hold_a_turn_and_the_rest_enter_in_arrival_order():
    gate, order = Gate(2), []
    holders = [Holder(gate, f"h{i}", order, urgent=False) for i in range(5)]
    await asyncio.wait_for(holders[1].inside.wait(), WAIT)
    await queued(gate, 3)
    assert order == ["h0", "h1"] and gate.running == 2
    for i in range(5):
        await holders[i].done()
        if i + 2 < 5:
            await asyncio.wait_for(holders[i + 2].inside.wait(), WAIT)
            assert gate.running == 2
    assert order == [f"h{i}" for i in range(5)]
    assert (gate.running, gate.waiting) == (0, 0)


async def test_an_urgent_waiter_goes_before_the_others_already_waiting():
    gate, order = Gate(1), []
    first = Holder(gate, "first", order)
    await asyncio.wait_for(first.inside.wait(), WAIT)
    opens = [Holder(gate, f"open{i}", order) for i in range(2)]
    await queued(gate, 2)
    backlog = Holder(gate, "backlog", order, urgent=True)
    await queued(gate, 3)
    await first.done()
    await asyncio.wait_for(backlog.inside.wait(), WAIT)
    await backlog.done()
    for holder in opens:
        await holder.done()
    assert order == ["first", "backlog", "open0", "open1"]
    assert (gate.running, gate.waiting) == (0, 0)


async def test_a_waiter_cancelled_in_the_queue_takes_no_turn_and_leaves_no_count():
    gate, order = Gate(1), []
    first = Holder(gate, "first", order)
    await asyncio.wait_for(first.inside.wait(), WAIT)
    gone, after = Holder(gate, "gone", order), Holder(gate, "after", order)
    await queued(gate, 2)
    gone.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone.task
    assert gate.waiting == 1
    await first.done()
    await asyncio.wait_for(after.inside.wait(), WAIT)
    await after.done()
    assert order == ["first", "after"]
    assert (gate.running, gate.waiting) == (0, 0)


async def test_a_waiter_cancelled_as_its_turn_came_passes_the_turn_on():
    gate, order = Gate(1), []
    async with gate.turn():
        unlucky, next_one = Holder(gate, "unlucky", order), Holder(gate, "next", order)
        await queued(gate, 2)
    # The block's end handed the turn to ``unlucky`` without yielding: it is cancelled before it
    # resumes, holding a turn it never used.
    unlucky.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await unlucky.task
    await asyncio.wait_for(next_one.inside.wait(), WAIT)
    assert gate.running == 1
    await next_one.done()
    assert order == ["next"]
    assert (gate.running, gate.waiting) == (0, 0)


async def test_a_turn_is_given_back_when_its_block_raises():
    gate = Gate(1)
    with pytest.raises(RuntimeError):
        async with gate.turn():
            raise RuntimeError("set-up failed")
    assert gate.running == 0
    async with asyncio.timeout(WAIT), gate.turn():
        assert gate.running == 1


def test_a_gate_lets_at_least_one_through():
    with pytest.raises(ValueError, match="at least one"):
        Gate(0)
