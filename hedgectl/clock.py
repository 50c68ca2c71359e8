"""The one place that reads time. Tests substitute a fake clock.

Engine and venue code never call `time.*` or `asyncio.sleep` themselves (tests/test_architecture.py checks):
waits, deadlines and timestamps go through a `Clock` a component is handed (`clock: Clock = SYSTEM_CLOCK`),
or through SYSTEM_CLOCK where nothing is injected yet. `time_ns`/`time` are wall-clock stamps (latency
figures, signed timestamps); they are SystemClock's, outside the Clock protocol that waits depend on.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall clock (tz-aware UTC), monotonic clock and asyncio sleep."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def time(self) -> float:
        """Wall clock, seconds since the epoch (a signed request's timestamp, a file's age)."""
        return time.time()

    def time_ns(self) -> int:
        """Wall clock, nanoseconds since the epoch (when an event reached this process)."""
        return time.time_ns()


def utc_from_ms(ms: int | str) -> datetime:
    """A tz-aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def ms_from_utc(at: datetime) -> int:
    """Epoch milliseconds of a tz-aware datetime."""
    return int(at.timestamp() * 1000)


SYSTEM_CLOCK = SystemClock()
