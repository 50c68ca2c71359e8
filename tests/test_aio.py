"""The shared stop/wait helpers: a task that will not stop is abandoned in bounded time, a cancel is never lost."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from hedgectl.aio import stop_tasks, wait_event, within
from tests.waiting import loop_turns


async def test_a_task_that_swallows_its_cancel_is_abandoned_within_the_bound() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    task = asyncio.create_task(stubborn())
    await loop_turns()
    loop = asyncio.get_running_loop()
    started = loop.time()
    abandoned = await stop_tasks([task], timeout_s=0.2)
    assert abandoned == [task]
    assert loop.time() - started < 2.0
    release.set()
    await task


async def test_stopping_lets_the_callers_own_cancel_through() -> None:
    gate, closing = asyncio.Event(), asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            closing.set()
            await gate.wait()  # a close that takes its time

    inner = asyncio.create_task(slow_to_stop())
    await loop_turns()
    outer = asyncio.create_task(stop_tasks([inner], timeout_s=30))
    await asyncio.wait_for(closing.wait(), 5)  # stop_tasks has cancelled it and waits for its close
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    gate.set()
    with contextlib.suppress(asyncio.CancelledError):
        await inner


async def test_a_cancel_that_lands_as_the_awaited_value_arrives_is_not_lost() -> None:
    # asyncio.wait_for on Python 3.11 returns the value here and forgets the cancel (CPython gh-86296).
    for helper in ("within", "wait_event"):
        event = asyncio.Event()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def waiter(
            helper: str = helper, event: asyncio.Event = event, future: asyncio.Future[int] = future
        ) -> None:
            if helper == "within":
                await within(future, 10)
            else:
                await wait_event(event, 10)
            await asyncio.Event().wait()  # a lost cancel would leave the task here for ever

        task = asyncio.create_task(waiter())
        await loop_turns(5)  # the waiter is inside the helper, awaiting the value
        future.set_result(1)
        event.set()
        task.cancel()  # in the same loop iteration as the value
        done, _ = await asyncio.wait({task}, timeout=5)
        assert task in done, helper
        assert task.cancelled(), helper
