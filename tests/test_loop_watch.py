"""The loop watchdog names the code that held the loop, and nothing when the loop only waited."""

from __future__ import annotations

import asyncio
import time

from tests.loop_watch import STALL, watching_the_loop


def a_synchronous_wait() -> None:
    time.sleep(STALL + 0.5)  # what a node must never do: the loop is held, not waiting


async def test_a_held_loop_is_recorded_with_the_code_that_held_it():
    async with watching_the_loop() as watch:
        await asyncio.sleep(0.2)  # the ticker has ticked
        a_synchronous_wait()
        await asyncio.sleep(0.2)  # it ticks again: the stall has ended

    assert len(watch.stalls) == 1
    assert STALL <= watch.longest < STALL + 1.5
    assert "a_synchronous_wait" in watch.stalls[0].stack
    assert "the loop was held" in watch.report()


async def test_a_loop_that_only_awaits_records_nothing():
    async with watching_the_loop() as watch:
        await asyncio.sleep(STALL + 0.5)

    assert watch.stalls == []
    assert watch.report() == ""
