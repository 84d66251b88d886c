"""A background round through the database's outage: the loop lives on, backs off, and logs the
outage once per failure class and once when it ends; another failure once per type, with its
traceback, until a round succeeds (``server.chat.kernel.periodic``, ``server.chat.kernel.outage``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from server.chat.kernel.outage import Backoff
from server.chat.kernel.periodic import DueWakeups, IdlePoll, Periodic, QueueLoop

ROUNDS_WITHIN = 10.0


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def recorded() -> Iterator[Records]:
    records = Records()
    parley = logging.getLogger("parley")
    level = parley.level
    parley.addHandler(records)
    parley.setLevel(logging.INFO)
    try:
        yield records
    finally:
        parley.removeHandler(records)
        parley.setLevel(level)


class Job:
    """Raises the given exceptions one round each, then succeeds; counts its rounds."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.rounds = 0
        self.succeeded = asyncio.Event()

    async def __call__(self) -> None:
        self.rounds += 1
        if self.failures:
            raise self.failures.pop(0)
        self.succeeded.set()


async def run_until_success(job: Job) -> None:
    periodic = Periodic(job, 0.01, "the test round")
    periodic.start()
    try:
        async with asyncio.timeout(ROUNDS_WITHIN):
            await job.succeeded.wait()
    finally:
        await periodic.stop()


async def test_an_outage_is_logged_once_per_class_and_once_when_it_ends():
    refused = [ConnectionRefusedError(111, "Connect call failed") for _ in range(2)]
    job = Job(*refused, ConnectionResetError(104, "reset"), *refused)  # about 3 s of backing off
    with recorded() as records:
        await run_until_success(job)

    assert job.rounds == 6  # the loop lived through every failed round
    lines = [(r.name, r.getMessage()) for r in records.records]
    assert [r for r in records.records if r.exc_info] == []
    assert len(lines) == 3, lines
    assert "ConnectionRefusedError" in lines[0][1] and "ConnectionResetError" in lines[1][1]
    assert "answers again" in lines[2][1]


async def test_another_failure_keeps_its_traceback_but_once_per_type_until_a_round_succeeds():
    job = Job(*(ValueError("a bug") for _ in range(3)), KeyError("another"))
    with recorded() as records:
        await run_until_success(job)

    assert job.rounds == 5
    assert [type(r.exc_info[1]).__name__ for r in records.records if r.exc_info] == ["ValueError", "KeyError"]


def test_the_backoff_doubles_up_to_its_ceiling_and_resets():
    backoff = Backoff(0.05, ceiling=2.0)
    assert (backoff.delay, backoff.failing) == (0.05, False)
    delays = []
    for _ in range(8):
        backoff.failed()
        delays.append(backoff.delay)
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    backoff.succeeded()
    assert (backoff.delay, backoff.failing) == (0.05, False)


async def test_a_queue_loop_runs_on_while_rounds_are_full_and_waits_for_its_bell_otherwise():
    """``QueueLoop``: a whole claim (``full``) means more may be due, so the next round runs at
    once; fewer, and it sleeps until rung (the poll's wait here is far longer than the test)."""
    answers = [2, 2, 1, 0]
    rounds: list[int] = []
    idle = asyncio.Event()

    async def round_() -> int:
        taken = answers[len(rounds)] if len(rounds) < len(answers) else 0
        rounds.append(taken)
        if len(rounds) in (3, 4):
            idle.set()
        return taken

    loop = QueueLoop(round_, IdlePoll(600.0, 600.0), "taking test jobs", full=2)
    loop.start()
    try:
        async with asyncio.timeout(ROUNDS_WITHIN):
            await idle.wait()
        assert rounds == [2, 2, 1]  # two full claims, then one that was not: it waits
        idle.clear()
        loop.ring()
        async with asyncio.timeout(ROUNDS_WITHIN):
            await idle.wait()
        assert rounds == [2, 2, 1, 0]
    finally:
        await loop.stop()


async def test_a_queue_loops_preparation_is_retried_until_it_succeeds_then_never_again():
    """``prepare`` (voiding a killed process's leases) fails like a round, is retried, and once it
    succeeded the rounds run without it; a failing round does not end the loop."""
    prepared: list[bool] = []
    rounds: list[int] = []
    done = asyncio.Event()

    async def prepare() -> None:
        prepared.append(len(prepared) > 0)
        if len(prepared) == 1:
            raise RuntimeError("the first preparation fails")

    async def round_() -> int:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the first round fails")
        if len(rounds) == 3:
            done.set()
        return 1  # full: the next round at once

    with recorded() as records:
        loop = QueueLoop(round_, IdlePoll(0.01, 0.01), "taking test jobs", prepare=prepare)
        loop.start()
        try:
            async with asyncio.timeout(ROUNDS_WITHIN):
                await done.wait()
        finally:
            await loop.stop()
    assert prepared == [False, True]  # failed once, succeeded, then never called again
    assert rounds[:3] == [0, 1, 2]
    failures = [r.getMessage() for r in records.records if r.levelno >= logging.ERROR]
    assert failures[:2] == ["taking test jobs failed; trying again"] * 2


async def test_a_stop_lets_the_round_in_progress_end_and_runs_no_other():
    """A round is never cancelled in the middle (a statement, a transaction) by a stop."""
    began, release = asyncio.Event(), asyncio.Event()
    rounds: list[str] = []

    async def job() -> None:
        rounds.append("began")
        began.set()
        await release.wait()
        rounds.append("ended")

    periodic = Periodic(job, 0.001, "a test's round")
    periodic.start()
    await began.wait()
    stopping = asyncio.create_task(periodic.stop())
    release.set()
    await stopping
    assert rounds == ["began", "ended"]


async def test_a_stop_between_rounds_is_at_once():
    rounds: list[int] = []

    async def job() -> None:
        rounds.append(1)

    periodic = Periodic(job, 3600, "an hourly round")
    periodic.start()
    async with asyncio.timeout(1):
        await periodic.stop()
    assert rounds == []


async def test_a_queue_worker_stopped_at_start_ends_its_first_round_first():
    """A queue's first round runs at start: a server that stops at once (its port taken) lets it
    end rather than cancelling it in the middle of a statement."""
    began, release = asyncio.Event(), asyncio.Event()
    rounds: list[str] = []

    async def round_() -> int:
        rounds.append("began")
        began.set()
        await release.wait()
        rounds.append("ended")
        return 0

    loop = QueueLoop(round_, IdlePoll(0.01, 0.01), "taking test jobs")
    loop.start()
    await began.wait()
    stopping = asyncio.create_task(loop.stop())
    release.set()
    await stopping
    assert rounds == ["began", "ended"]


async def test_due_wakeups_ring_once_for_each_time_never_before_it_earliest_first():
    rang: list[datetime] = []
    done = asyncio.Event()

    def wake() -> None:
        rang.append(datetime.now(UTC))
        if len(rang) == 3:
            done.set()

    wakeups = DueWakeups(wake)
    now = datetime.now(UTC)
    later, soon = now + timedelta(seconds=0.15), now + timedelta(seconds=0.05)
    past = now - timedelta(seconds=1)
    wakeups.at(later, None)  # a delivery with nothing to retry gives None
    wakeups.at(soon, past)
    async with asyncio.timeout(5):
        await done.wait()
    assert rang[0] >= past and rang[1] >= soon and rang[2] >= later  # in order, none early
    assert rang == sorted(rang)


async def test_due_wakeups_cancelled_ring_no_more():
    rang = asyncio.Event()
    wakeups = DueWakeups(rang.set)
    wakeups.at(datetime.now(UTC) + timedelta(seconds=0.05))
    wakeups.cancel()
    last = DueWakeups(lambda: None)  # a later timer of the same loop: once it rang, the first would have
    ended = asyncio.Event()
    last.wake = ended.set
    last.at(datetime.now(UTC) + timedelta(seconds=0.1))
    async with asyncio.timeout(5):
        await ended.wait()
    assert not rang.is_set()


async def test_a_stop_cancels_again_a_task_that_took_its_cancellation_for_something_else() -> None:
    """``cancelled`` (the stop of the previews worker, the activity tracker, the notifier and every
    periodic loop): a task that swallowed one cancellation (a library's, or 3.11's ``wait_for``
    meeting a completion) and waits on is cancelled again, instead of being waited for forever."""
    from server.chat.kernel.periodic import cancelled

    waiting = asyncio.Event()

    async def stubborn() -> None:
        try:
            waiting.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass  # taken for something else
        await asyncio.Event().wait()

    task = asyncio.create_task(stubborn())
    await waiting.wait()

    stop = asyncio.ensure_future(cancelled(task))
    done, _ = await asyncio.wait({stop}, timeout=5)  # not wait_for: its own cancel would end the task

    assert stop in done and task.cancelled()


async def test_a_stop_still_raises_what_a_task_failed_with() -> None:
    from server.chat.kernel.periodic import cancelled

    async def failing() -> None:
        raise LookupError("its round failed")

    task = asyncio.create_task(failing())
    await asyncio.wait({task})

    try:
        await cancelled(task, None)
    except LookupError as exc:
        assert str(exc) == "its round failed"
    else:
        raise AssertionError("the failure was swallowed")
