"""``bench/topic_list.py`` measures what it says: a #lobby of the size asked for, everyone online,
lists that keep a crowded topic's counts and lists that count it again."""

from __future__ import annotations

from bench.topic_list import WARM_UP, measure


async def test_the_bench_lists_a_crowded_lobby_kept_and_counted_again() -> None:
    result = await measure(None, members=600, share=1.0, requests=4)

    assert (result["members"], result["online"]) == (600, 600)
    # one count when the lobby was first listed (the kept lists and the joins count nothing), then
    # one per list that counts it again: a warm-up and one timed list
    assert result["crowded topics counted"] == 1 + WARM_UP + 1
    for timing in ("topic:list", "topic:subscribe + topic:unsubscribe"):
        assert 0 < result[timing]["p50_ms"] <= result[timing]["longest_ms"]
    (searched,) = [value for key, value in result.items() if key.startswith("topic:members of #lobby with")]
    assert searched["members"] == 1  # member123 alone among 600
    assert 0 < searched["p50_ms"] <= searched["longest_ms"]
