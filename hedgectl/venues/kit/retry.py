"""Retrying reads, keyed on the error taxonomy: the error's `action` decides, not a list of classes.

`Action.RETRY` (Unavailable: the request certainly did not take effect) is retried with exponential backoff
and full jitter; `Action.BACK_OFF` (RateLimited) the same with twice the pause; every other action (stop,
reject, reconcile) is raised at once, as is anything that is not a HedgectlError. Writes never come here:
an order whose outcome is unknown is reconciled by client order id (`kit.placement`), never resent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hedgectl.errors import Action, HedgectlError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

RETRIED = frozenset({Action.RETRY, Action.BACK_OFF})


def retry_delay_s(action: Action, attempt: int, base_delay_s: float, max_delay_s: float) -> float:
    """The longest pause after failed attempt number `attempt` (1-based); BACK_OFF waits twice as long."""
    cap: float = min(max_delay_s, base_delay_s * 2.0 ** (attempt - 1))
    if action is Action.BACK_OFF:
        cap = min(max_delay_s * 2, cap * 2)
    return cap


async def retry_read(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay_s: float = 0.2,
    max_delay_s: float = 3.0,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run an idempotent read up to `attempts` times while its error's action is RETRY or BACK_OFF."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    rand = rng or random.Random()  # noqa: S311 - jitter, not security
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except HedgectlError as exc:
            if exc.action not in RETRIED or attempt == attempts:
                raise
            cap = retry_delay_s(exc.action, attempt, base_delay_s, max_delay_s)
            await sleep(rand.uniform(cap / 2, cap))
    raise AssertionError("unreachable")  # pragma: no cover
