"""The collector tuning a server applies once started (``server/collector.py``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from server.collector import MIDDLE, OLD, YOUNG, hold_collector, tune_collector
from server.config import Settings
from tests.support import running
from tests.support import test_settings as settings_for


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """This test process hosts many apps: put the collector back as it was."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


def test_a_server_tunes_the_collector_by_default() -> None:
    assert Settings(_env_file=None).gc_tuning is True  # type: ignore[call-arg]


async def test_a_started_server_froze_its_start_up_objects_and_collects_less_often(
    tmp_path, restored_collector
) -> None:
    async with running(settings_for(tmp_path / "data", gc_tuning=True)) as server:
        assert gc.get_threshold() == (YOUNG, MIDDLE, OLD)
        assert gc.get_freeze_count() > 10_000  # modules, the app, its services
        assert (await server.http.get("/healthz")).status_code == 200


def test_tuning_freezes_the_heap_without_walking_it_first(restored_collector) -> None:
    """A full collection here would walk every object start-up made, on a restart's way to its
    first answer; freezing takes them out of every later scan without one."""
    hold_collector()
    full_collections = gc.get_stats()[2]["collections"]
    tune_collector()
    assert gc.get_stats()[2]["collections"] == full_collections
    assert gc.get_freeze_count() > 10_000


def test_cyclic_garbage_is_still_collected_in_larger_batches(restored_collector) -> None:
    tune_collector()

    class Node:
        partner: object = None

    first, second = Node(), Node()
    first.partner, second.partner = second, first  # a cycle: reference counting never frees it
    alive = weakref.ref(first)
    del first, second
    held = []
    for _ in range(YOUNG // 2):
        held.append([])  # fewer new containers than YOUNG: no collection yet
    assert alive() is not None
    for _ in range(YOUNG):
        held.append([])  # past YOUNG: the young generation is collected on its own
    assert alive() is None


@pytest.mark.parametrize("tuning", [True, False])
async def test_a_collector_held_off_for_the_start_up_is_on_again_once_the_server_has_started(
    tmp_path, restored_collector, tuning
) -> None:
    hold_collector()  # as `parley serve` does before uvicorn imports and builds the app
    assert not gc.isenabled()
    async with running(settings_for(tmp_path / "data", gc_tuning=tuning)) as server:
        assert gc.isenabled()
        assert (await server.http.get("/healthz")).status_code == 200
