"""The account's own fee tier, as every adapter reads it: a sanity bound and a per-session cache.

A venue's fee rate is a fraction of notional (0.0005 is 0.05 %). Venues write it differently (Binance
and Aster a fraction, OKX a negated fraction, Backpack basis points); each parser converts, then passes
the result through `check_fee_rate`, which refuses a figure no venue charges (beyond ±1 %): that is a
unit read wrong, and pricing a scan with it would be worse than the published default.

The tier changes at most daily (30-day volume), so an adapter reads it once per session and key
(`FeeCache`): a `scan` of forty symbols asks each venue once per symbol (Binance, Aster), per instrument
family (OKX) or once (Backpack, one account-wide rate), and concurrent asks share one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

from hedgectl.errors import BadResponse

MAX_FEE_RATE = Decimal("0.01")  # 1 % of notional: no perp venue's tier is anywhere near


def check_fee_rate(venue: str, rate: Decimal, what: str) -> Decimal:
    """`rate` if it is a plausible fee fraction (|rate| <= 1 %); BadResponse naming the venue otherwise."""
    if abs(rate) > MAX_FEE_RATE:
        raise BadResponse(venue, f"{what}: fee rate {rate} is beyond ±{MAX_FEE_RATE} (a unit read wrong?)")
    return rate


class FeeCache:
    """Fee rates by key, each read once per session; a failed read is not cached (the next ask retries)."""

    def __init__(self) -> None:
        self._rates: dict[str, Decimal] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, read: Callable[[], Awaitable[Decimal]]) -> Decimal:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._rates:
                self._rates[key] = await read()
            return self._rates[key]
