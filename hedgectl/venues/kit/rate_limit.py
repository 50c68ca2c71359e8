"""A token-bucket limiter that costs nothing while the caller stays under the venue's limit.

Unlike ccxt's default throttler (what the Binance and OKX adapters ran on before they were native), which adds
a full `rateLimit` wait to every call after the first.
"""

from __future__ import annotations

import asyncio

from hedgectl.clock import SYSTEM_CLOCK


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated = SYSTEM_CLOCK.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = SYSTEM_CLOCK.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    async def acquire(self, cost: float = 1.0) -> None:
        """Take `cost` tokens, waiting only when the bucket is empty."""
        self._refill()
        if self._tokens >= cost:
            self._tokens -= cost
            return
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= cost:
                    self._tokens -= cost
                    return
                await SYSTEM_CLOCK.sleep((cost - self._tokens) / self._rate)
