"""Server-time offset: measured once, applied to every signed timestamp (no -1021-style rejections)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


class TimeOffset:
    """Milliseconds to add to the local clock to get the venue's clock."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self.rtt_ms: float | None = None

    async def measure(self, server_time_ms: Callable[[], Awaitable[int]]) -> int:
        """Ask the venue for its time and record offset = server - midpoint of the round trip."""
        t0 = time.time()
        server_ms = await server_time_ms()
        t1 = time.time()
        self.rtt_ms = (t1 - t0) * 1000
        self.offset_ms = int(server_ms - (t0 + t1) / 2 * 1000)
        return self.offset_ms

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def now_us(self) -> int:
        return int(time.time() * 1_000_000) + self.offset_ms * 1000
