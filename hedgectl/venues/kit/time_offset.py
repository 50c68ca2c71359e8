"""Server-time offset: measured once, applied to every signed timestamp (no -1021-style rejections)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hedgectl.clock import SYSTEM_CLOCK


class TimeOffset:
    """Milliseconds to add to the local clock to get the venue's clock."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self.rtt_ms: float | None = None

    async def measure(self, server_time_ms: Callable[[], Awaitable[int]]) -> int:
        """Ask the venue for its time and record offset = server - midpoint of the round trip."""
        t0 = SYSTEM_CLOCK.time()
        server_ms = await server_time_ms()
        t1 = SYSTEM_CLOCK.time()
        self.rtt_ms = (t1 - t0) * 1000
        self.offset_ms = int(server_ms - (t0 + t1) / 2 * 1000)
        return self.offset_ms

    def now_ms(self) -> int:
        return int(SYSTEM_CLOCK.time() * 1000) + self.offset_ms

    def now_us(self) -> int:
        return int(SYSTEM_CLOCK.time() * 1_000_000) + self.offset_ms * 1000
