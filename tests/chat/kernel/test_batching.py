"""``Batched``: keys asked for together share one read; each caller gets its own key's answer."""

from __future__ import annotations

import asyncio

import pytest

from server.chat.kernel.batching import Batched


class Reads:
    """A read that records the keys of each call and answers ``key * 10`` (none for odd keys)."""

    def __init__(self, fail: set[int] | None = None) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail or set()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, keys: list[int]) -> dict[int, int]:
        self.calls.append(keys)
        await self.release.wait()
        if self.fail & set(keys):
            raise RuntimeError(f"failed {keys}")
        return {key: key * 10 for key in keys if key % 2 == 0}


async def test_keys_asked_for_at_once_are_one_read_and_a_key_it_lacks_gets_the_default():
    reads = Reads()
    batched = Batched(reads, lambda: -1)

    answers = await asyncio.gather(*(batched.get(key) for key in (2, 3, 4, 2)))

    assert answers == [20, -1, 40, 20]
    assert reads.calls == [[2, 3, 4]]


async def test_keys_asked_for_while_a_read_runs_gather_for_the_next_read():
    reads = Reads()
    reads.release.clear()
    batched = Batched(reads, lambda: -1)
    first = asyncio.ensure_future(batched.get(2))
    while not reads.calls:  # the first read has started and waits
        await asyncio.sleep(0)
    later = [asyncio.ensure_future(batched.get(key)) for key in (4, 6)]
    await asyncio.sleep(0)
    reads.release.set()

    assert [await first, *[await f for f in later]] == [20, 40, 60]
    assert reads.calls == [[2], [4, 6]]


async def test_a_batch_holds_at_most_the_limit():
    reads = Reads()
    batched = Batched(reads, lambda: -1, limit=2)

    assert await asyncio.gather(*(batched.get(key) for key in (2, 4, 6))) == [20, 40, 60]
    assert reads.calls == [[2, 4], [6]]


async def test_a_failed_read_fails_its_callers_only_and_a_cancelled_caller_leaves_the_others():
    reads = Reads(fail={3})
    batched = Batched(reads, lambda: -1, limit=2)
    cancelled = asyncio.ensure_future(batched.get(8))
    others = [asyncio.ensure_future(batched.get(key)) for key in (3, 4, 6)]
    await asyncio.sleep(0)
    cancelled.cancel()

    results = await asyncio.gather(*others, return_exceptions=True)

    assert [type(r) for r in results[:1]] == [RuntimeError] and results[1:] == [40, 60]
    assert reads.calls == [[8, 3], [4, 6]]
    with pytest.raises(asyncio.CancelledError):
        await cancelled
