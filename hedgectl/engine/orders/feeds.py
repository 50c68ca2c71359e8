"""Where the loop learns that a resting maker order filled: a feed of "this order changed" updates.

The leg logic only consumes `FillFeed.updates(...)`: an async iterator of `OrderUpdate`s (the order's
cumulative state and when we learned it), one each time the order's filled quantity grows or it reaches a
final state, until a deadline or a stop. Polling (`PollingFeed`) is the source today; a private WebSocket
order stream (hedgectl.venues.streams: its OrderEvent carries the same order and its received_ns) can
replace it behind the same protocol without touching the leg logic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Protocol

from hedgectl.aio import wait_event
from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Order
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    order: Order  # cumulative: status and filled quantity as of this update
    seen_ns: int  # SYSTEM_CLOCK.time_ns() when this process learned it (the start of the hedge reaction time)


class FillFeed(Protocol):
    def updates(self, venue: Venue, order: Order, *, until: float) -> AsyncGenerator[OrderUpdate, None]:
        """Yield `order` afresh whenever its filled quantity grows or it turns final; stop at `until`.

        `until` is a `SYSTEM_CLOCK.monotonic()` deadline. The iterator also ends when the loop is asked to stop,
        after a final state has been yielded, or never yields at all if nothing changes. Transient read
        errors are absorbed (and reported), never raised.
        """
        ...


class PollingFeed:
    """Re-read the order every `interval_s` (backing off on errors) and yield what changed."""

    def __init__(
        self,
        stop: asyncio.Event,
        *,
        interval_s: float,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._stop = stop
        self._interval_s = interval_s
        self._on_error = on_error or (lambda _text: None)

    async def updates(self, venue: Venue, order: Order, *, until: float) -> AsyncGenerator[OrderUpdate, None]:
        seen = order.filled_qty
        delay = self._interval_s
        while not self._stop.is_set():
            left = until - SYSTEM_CLOCK.monotonic()
            if left <= 0:
                return
            if await self._wait(min(delay, left)):
                return
            try:
                fresh = await venue.fetch_order(order.symbol, order_id=order.order_id)
            except HedgectlError as exc:
                # Includes a 404 the adapter could not resolve through history yet: the cancel that follows
                # settles it. Anything persistent surfaces there too.
                delay = min(MAX_BACKOFF_S, max(delay * 2, self._interval_s))
                self._on_error(f"reading maker order {order.order_id}: {exc}")
                continue
            delay = self._interval_s
            if fresh.filled_qty > seen or fresh.status.is_final:
                seen = max(seen, fresh.filled_qty)
                yield OrderUpdate(order=fresh, seen_ns=SYSTEM_CLOCK.time_ns())
                if fresh.status.is_final:
                    return

    async def _wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True if a stop was requested meanwhile."""
        return await wait_event(self._stop, seconds)
