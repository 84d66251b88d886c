"""The seq gate: each topic's messages leave in seq order, whichever node they came from."""

from __future__ import annotations

import asyncio

import pytest

from server.adapters.cluster.order import SeqGate
from server.chat.kernel import events as ev
from server.chat.kernel.schemas import MessageOut

pytestmark = pytest.mark.asyncio


def created(topic: int, seq: int, side: int = 1) -> ev.MessageCreated:
    message = MessageOut(
        id=topic * 1000 + seq,
        topic=f"t{topic}",
        kind="public",
        seq=seq,
        sender="alice",
        body=f"m{seq}",
        created_at="2026-11-22T10:00:00Z",
        edited_at=None,
        client_id=None,
    )
    return ev.MessageCreated(message, ev.ToUser(side), topic)


class Out:
    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []
        self.changed = asyncio.Event()

    async def deliver(self, event: ev.Event) -> None:
        if isinstance(event, ev.MessageCreated):
            self.seen.append((event.topic_id, event.message.seq))
        else:
            self.seen.append((0, 0))
        self.changed.set()

    async def until(self, count: int) -> list[tuple[int, int]]:
        while len(self.seen) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)
        return self.seen


async def known(gate: SeqGate, out: Out, topic: int, seq: int) -> None:
    """Let the gate learn the topic (its first message waits ``first_sight``, unless it is seq 1)."""
    before = len(out.seen)
    await gate.put(created(topic, seq))
    await out.until(before + 1)


async def test_a_later_seq_waits_for_the_one_before_it():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=0)
    await known(gate, out, 1, 4)

    await gate.put(created(1, 6))
    assert out.seen == [(1, 4)]
    await gate.put(created(1, 5))

    assert out.seen == [(1, 4), (1, 5), (1, 6)]
    await gate.close()


async def test_topics_do_not_wait_for_each_other_and_other_events_pass_at_once():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=0)
    await known(gate, out, 1, 1)
    await known(gate, out, 2, 1)

    await gate.put(created(1, 3))  # waits for 2
    await gate.put(created(2, 2))
    await gate.put(ev.SessionsRevoked(9))

    assert out.seen == [(1, 1), (2, 1), (2, 2), (0, 0)]
    await gate.close()


async def test_the_second_side_of_a_direct_message_follows_the_first():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=0)
    await known(gate, out, 3, 1)

    await gate.put(created(3, 2, side=1))
    await gate.put(created(3, 2, side=2))

    assert out.seen == [(3, 1), (3, 2), (3, 2)]
    await gate.close()


async def test_the_first_message_of_a_topic_waits_briefly_for_one_still_on_its_way():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=0.2)

    await gate.put(created(5, 8))
    await gate.put(created(5, 7))  # arrives within the first-sight window

    assert await out.until(2) == [(5, 7), (5, 8)]
    await gate.close()


async def test_a_gap_that_never_fills_is_given_up_after_the_patience():
    out = Out()
    gate = SeqGate(out.deliver, patience=0.1, first_sight=0)
    await known(gate, out, 1, 1)

    await gate.put(created(1, 4))  # 2 and 3 never come (their node died before publishing)
    await gate.put(created(1, 3))

    assert await out.until(3) == [(1, 1), (1, 3), (1, 4)]
    assert gate.gaps_given_up == 1
    await gate.put(created(1, 5))
    assert out.seen[-1] == (1, 5)
    await gate.close()


async def test_a_gap_that_never_fills_on_the_hub_is_read_from_the_database():
    out = Out()
    asked: list[tuple[int, int, int]] = []

    async def from_database(topic: int, first: int, last: int) -> list[ev.MessageCreated]:
        asked.append((topic, first, last))
        return [created(topic, seq) for seq in range(first, last + 1)]

    gate = SeqGate(out.deliver, patience=0.1, first_sight=0, fill=from_database)
    await known(gate, out, 1, 1)

    await gate.put(created(1, 4))  # 2 and 3 were stored, but their news was lost

    assert await out.until(4) == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert asked == [(1, 2, 3)]
    await gate.close()


async def test_a_gap_whose_read_hangs_is_delivered_over_within_the_fill_bound():
    out = Out()
    never = asyncio.Event()

    async def hanging(topic: int, first: int, last: int) -> list[ev.MessageCreated]:
        await never.wait()  # the database hangs: no answer, no error
        return []

    gate = SeqGate(out.deliver, patience=0.1, first_sight=0, fill=hanging, fill_timeout=0.2)
    await known(gate, out, 1, 1)

    await gate.put(created(1, 4))  # held; its gap's read never answers
    assert await out.until(2) == [(1, 1), (1, 4)]  # delivered over the gap, not held with the lock
    await asyncio.wait_for(gate.put(created(1, 5)), 1.0)  # a publish is not held either
    assert out.seen[-1] == (1, 5)
    await gate.close()


async def test_what_is_read_back_goes_out_once_in_order_with_what_was_held():
    out = Out()
    gate = SeqGate(out.deliver, patience=60, first_sight=0)
    await known(gate, out, 1, 1)
    await known(gate, out, 2, 1)
    await gate.put(created(1, 4))  # held: 2 and 3 missing

    # read back: topic 1 from seq 1 (already out) to 5, both sides of a direct message in topic 2
    await gate.refill(
        [*(created(1, seq) for seq in range(1, 6)), created(2, 2, side=1), created(2, 2, side=2)]
    )

    assert await out.until(8) == [(1, 1), (2, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 2), (2, 2)]
    await gate.put(created(1, 4))  # a late copy of one already out passes as a straggler would
    await gate.put(created(1, 6))
    assert out.seen[-1] == (1, 6)
    await gate.close()


async def test_a_topic_opening_holds_its_messages_until_what_was_read_back_is_out_each_once():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=0)
    gate.opening(1)
    await gate.put(created(1, 3))  # live, before the read-back
    assert out.seen == []

    await gate.opened(1, [created(1, 1), created(1, 2), created(1, 3)])
    await gate.put(created(1, 3))  # its news, late, after the read-back had it: not twice
    await gate.put(created(1, 4))

    assert out.seen == [(1, 1), (1, 2), (1, 3), (1, 4)]
    gate.forget(1)  # no longer read: the next message is a first sight again
    await gate.put(created(1, 9))
    assert await out.until(5) == [(1, 1), (1, 2), (1, 3), (1, 4), (1, 9)]
    await gate.close()


async def test_a_topic_opened_with_its_newest_seq_lets_its_next_message_out_at_once():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=30)  # a first sight would wait 30 s
    gate.opening(1)
    await gate.opened(1, [], last_seq=3)  # quiet since the moment read back: 3 stored before

    await gate.put(created(1, 4))
    assert out.seen == [(1, 4)]
    await gate.close()


async def test_news_held_while_opening_of_a_message_the_read_back_missed_goes_out_first_in_order():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=30)
    gate.opening(1)
    await gate.put(created(1, 3))  # stored before the read, but stamped before its moment: not read
    await gate.put(created(1, 2))
    await gate.put(created(1, 5))  # after the read: waits for 4

    await gate.opened(1, [], last_seq=3)
    assert out.seen == [(1, 2), (1, 3)]
    await gate.put(created(1, 4))
    assert out.seen == [(1, 2), (1, 3), (1, 4), (1, 5)]
    await gate.close()


async def test_a_topics_first_message_has_no_predecessor_to_wait_for():
    out = Out()
    gate = SeqGate(out.deliver, patience=30, first_sight=30)
    await gate.put(created(2, 2))  # another topic seen first: its predecessor may be on its way
    await gate.put(created(1, 1))  # a new conversation's first message
    await gate.put(created(1, 2))

    assert out.seen == [(1, 1), (1, 2)]
    await gate.put(created(2, 1))
    assert out.seen == [(1, 1), (1, 2), (2, 1), (2, 2)]
    await gate.close()
