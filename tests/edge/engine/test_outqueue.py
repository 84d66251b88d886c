"""The engine.io socket's outgoing queue (server/edge/engine/outqueue.py): what engine.io uses of an
asyncio.Queue, plus its byte count, whether its reader waits on it empty, and its bound's watch."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from engineio import packet

from server.edge.engine.outqueue import OutgoingQueue, held


def message(text: str) -> packet.Packet:
    return packet.Packet(packet.MESSAGE, text)


class Recorded:
    """A watch that records each queue it is told of."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.told: list[int] = []

    def past_limit(self, queue: OutgoingQueue) -> None:
        self.told.append(queue.bytes)


def test_it_is_first_in_first_out_and_counts_the_bytes_held():
    queue = OutgoingQueue()
    packets = [message("a"), message("é" * 10), None, packet.Packet(packet.MESSAGE, b"xyz")]
    for pkt in packets:
        queue.put_nowait(pkt)
    assert queue.bytes == sum(held(p) for p in packets)
    assert queue.waiting() == packets
    assert [queue.get_nowait() for _ in packets] == packets
    assert queue.bytes == 0 and queue.empty()
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_its_reader_is_idle_only_while_it_waits_on_an_empty_queue():
    queue = OutgoingQueue()
    assert not queue.idle_reader
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert queue.idle_reader
    first = message("first")
    queue.put_nowait(first)
    assert not queue.idle_reader  # the packet waits for the reader: a frame written now would overtake it
    assert await reader is first
    assert not queue.idle_reader


async def test_a_cancelled_reader_leaves_nothing_waiting():
    queue = OutgoingQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert not queue.idle_reader
    queue.put_nowait(message("kept"))
    assert queue.get_nowait().data == "kept"


async def test_join_waits_until_every_packet_is_done():
    queue = OutgoingQueue()
    await queue.join()  # nothing put: returns at once
    queue.put_nowait(message("one"))
    joined = asyncio.ensure_future(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()
    queue.get_nowait()
    queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        queue.task_done()


def test_its_watch_hears_of_every_put_past_the_limit_and_of_none_below():
    body = message("x" * 100)
    watch = Recorded(limit=2 * held(body))
    queue = OutgoingQueue(watch)
    queue.put_nowait(body)
    queue.put_nowait(body)
    assert watch.told == []
    queue.put_nowait(body)
    queue.put_nowait(None)  # a close: no bytes
    queue.put_nowait(body)
    assert watch.told == [3 * held(body), 4 * held(body)]


def test_an_empty_queue_holds_no_block_of_items():
    """Memory per socket: an idle socket's queue is empty for good, and a deque's first block is
    760 bytes; a queue that held packets lets its block go once they are taken."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        queues = [OutgoingQueue() for _ in range(1000)]
        for queue in queues:
            queue.put_nowait(message("a"))
            assert queue.get_nowait() is not None
        per_queue = (tracemalloc.get_traced_memory()[0] - before) / len(queues)
    finally:
        tracemalloc.stop()
    assert per_queue < 400, per_queue
    queues[0].put_nowait(message("b"))  # and it queues again as before
    assert [p.data for p in queues[0].waiting()] == ["b"] and queues[1].empty()
