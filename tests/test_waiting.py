"""The waiting helpers themselves: a condition's value comes back, a bound is a bound, a fake clock moves."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.waiting import FakeClock, eventually, eventually_async, loop_turns


def test_eventually_returns_the_first_truthy_value() -> None:
    answers = iter([None, 0, "", "port 4242"])
    assert eventually(lambda: next(answers), timeout=5, interval=0.001) == "port 4242"


def test_eventually_fails_after_its_bound_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"the sim's reply not met within 0\.05 s"):
        eventually(lambda: False, timeout=0.05, interval=0.001, what="the sim's reply")


def test_an_error_in_the_condition_ends_the_wait_at_once() -> None:
    def exited() -> bool:
        raise AssertionError("the command exited (2) before placing 2 orders")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="exited"):
        eventually(exited, timeout=60)
    assert time.monotonic() - started < 30  # not the 60 s bound


async def test_eventually_async_awaits_a_coroutine_condition() -> None:
    calls = []

    async def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    assert await eventually_async(third_time, timeout=5, interval=0.001) is True
    assert len(calls) == 3
    with pytest.raises(AssertionError, match="within"):
        await eventually_async(lambda: False, timeout=0.05, interval=0.001)


async def test_loop_turns_let_a_ready_task_run_without_time_passing() -> None:
    ran: list[str] = []

    async def step() -> None:
        ran.append("step")

    task = asyncio.create_task(step())
    assert not ran
    await loop_turns()
    assert ran == ["step"]
    assert task.done()


async def test_the_fake_clock_moves_only_when_slept_on_and_records_each_sleep() -> None:
    clock = FakeClock()
    before_now, before_mono = clock.now(), clock.monotonic()
    assert (clock.now(), clock.monotonic()) == (before_now, before_mono)
    await clock.sleep(30)
    await clock.sleep(0)
    assert clock.monotonic() - before_mono == 30
    assert (clock.now() - before_now).total_seconds() == 30
    assert clock.sleeps == [30, 0]
    clock.advance(5)
    assert clock.monotonic() - before_mono == 35


async def test_the_fake_clock_always_moves_forward_on_a_tiny_positive_sleep() -> None:
    clock = FakeClock(monotonic=1e6)
    before = clock.monotonic()
    await clock.sleep(1e-15)  # lost in a float of that size: a real sleep still takes time
    assert clock.monotonic() > before
