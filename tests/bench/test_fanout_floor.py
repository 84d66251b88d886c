"""``bench.fanout_floor`` times the loop a real fan-out runs: each recipient gets the frame once per
message, written directly (not queued), and the figure is a positive time per delivery."""

from __future__ import annotations

from bench.fanout_floor import FRAME, deliver_once, measure, recipients


async def test_every_recipient_gets_each_message_once_written_directly() -> None:
    fanout, coalescer, sids, sinks = recipients(5)
    deliver_once(fanout, coalescer, sids)
    deliver_once(fanout, coalescer, sids)
    assert sinks == [[FRAME, FRAME]] * 5
    assert (fanout.written_directly, fanout.queued) == (10, 0)


async def test_the_floor_is_a_time_per_delivery() -> None:
    found = await measure(20, 2)
    assert len(found) == 2 and all(0 < us < 1000 for us in found)
