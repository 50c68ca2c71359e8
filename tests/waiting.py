"""How tests wait: for a condition, with a bound; never for a fixed time.

This is the one module under tests/ that sleeps (tests/test_test_shape.py fails on a bare `time.sleep` or
`asyncio.sleep` anywhere else). Pick, in this order:

- an `asyncio.Event` / future the code under test sets, awaited with `asyncio.wait_for` (no polling at all);
- `eventually(cond)` / `await eventually_async(cond)`: poll a condition until it holds, fail after `timeout`;
- `FakeClock` for code that takes a `clock` (hedgectl.clock.Clock): its `sleep` moves time forward at once,
  so a 30 s backoff or a deadline is crossed without waiting;
- `await loop_turns(n)`: let other tasks run `n` event-loop turns (asyncio.sleep(0)), for code that is
  ready after a known number of hand-offs and offers nothing to wait on.

An *absence* ("nothing was sent") is checked at a later marker (the command's own exit, the next event it
reports), or by moving a fake clock past the moment it would have happened, not by sleeping for a while.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")


def eventually(cond: Callable[[], T], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `cond` until it returns something truthy and return that; AssertionError after `timeout` s.

    An exception from `cond` ends the wait at once (a command that exited early says so from there).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = cond()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout:g} s")
        time.sleep(interval)


async def eventually_async(
    cond: Callable[[], T | Awaitable[T]], timeout: float = 5.0, interval: float = 0.005, what: str = ""
) -> T:
    """`eventually` without blocking the event loop; `cond` may be a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        result = cond()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout:g} s")
        await asyncio.sleep(interval)


async def loop_turns(n: int = 1) -> None:
    """Let the other ready tasks run for `n` event-loop turns (no time passes)."""
    for _ in range(n):
        await asyncio.sleep(0)


class FakeClock:
    """A `hedgectl.clock.Clock` whose time moves only when someone sleeps on it (or the test calls `advance`).

    `sleep` records the requested duration, moves time forward by it and yields one loop turn, so code that
    backs off or waits out a deadline runs through at once and in order.
    """

    def __init__(self, start: datetime = datetime(2026, 12, 7, 12, 0, tzinfo=UTC), monotonic: float = 1000.0):
        self.start = start
        self.t = monotonic
        self._t0 = monotonic
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - self._t0)

    def monotonic(self) -> float:
        return self.t

    def time(self) -> float:
        return self.now().timestamp()

    def time_ns(self) -> int:
        return int(self.time() * 1_000_000_000)

    def advance(self, seconds: float) -> None:
        self.t += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            # At least a microsecond, as a real sleep takes: a wait computed from a float remainder (1e-15 s)
            # would otherwise leave a large `t` unchanged and the caller sleeping for ever.
            self.t += max(seconds, 1e-6)
        await asyncio.sleep(0)
