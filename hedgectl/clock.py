"""The one place that reads time. Tests substitute a fake clock."""

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


def utc_from_ms(ms: int | str) -> datetime:
    """A tz-aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def ms_from_utc(at: datetime) -> int:
    """Epoch milliseconds of a tz-aware datetime."""
    return int(at.timestamp() * 1000)


SYSTEM_CLOCK = SystemClock()
