"""Retrying reads with exponential backoff and full jitter. Order placement never goes through here."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hedgectl.errors import RateLimited, Unavailable

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


async def retry_read(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay_s: float = 0.2,
    max_delay_s: float = 3.0,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run an idempotent read, retrying Unavailable and RateLimited with backoff (rate limits wait longer)."""
    rand = rng or random.Random()  # noqa: S311 - jitter, not security
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (Unavailable, RateLimited) as exc:
            if attempt == attempts:
                raise
            cap = min(max_delay_s, base_delay_s * 2 ** (attempt - 1))
            if isinstance(exc, RateLimited):
                cap = min(max_delay_s * 2, cap * 2)
            await sleep(rand.uniform(cap / 2, cap))
    raise AssertionError("unreachable")  # pragma: no cover
