"""A FillFeed fed by private order streams: the maker/taker loop learns of a maker fill when the venue pushes it.

One background pump per (venue, symbol) (hedgectl.engine.order_streams, shared with the bootstrap cycle)
reads the venue's supervised `order_events` (which reconnects, reconciles by REST and polls while its socket
is down) and routes each event to whoever is watching that order. The pump remembers the latest event of
recent orders, so a fill pushed between the order's placement and the call to `updates()` is not lost.
Venues without a stream (and a stream that fails for good) go through the fallback feed, normally a
PollingFeed.

Use: `feed = StreamFeed(interrupts.stop, fallback=PollingFeed(...))`, `feed.warm(maker, symbol)` before the
first order (so the first fill is pushed rather than reconciled), pass it as `run_loop(..., feed=feed)`,
and `await feed.aclose()` when the loop is over.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable

from hedgectl.domain.types import Order
from hedgectl.engine.maker_taker_feed import FillFeed, OrderUpdate
from hedgectl.engine.order_streams import REMEMBERED_ORDERS, OrderStreams
from hedgectl.venues.base import Venue
from hedgectl.venues.streams import OrderEvent


class StreamFeed:
    """FillFeed over venues' supervised order streams, with a fallback feed for venues without one."""

    def __init__(
        self,
        stop: asyncio.Event,
        *,
        fallback: FillFeed,
        on_error: Callable[[str], None] | None = None,
        remember: int = REMEMBERED_ORDERS,
        streams: OrderStreams | None = None,
    ) -> None:
        """`streams`: order streams already open (bootstrap's), used as they are and left open by `aclose`."""
        self._stop = stop
        self._fallback = fallback
        self._on_error = on_error or (lambda _text: None)
        self._owned = streams is None
        self._streams = OrderStreams(remember=remember) if streams is None else streams

    def warm(self, venue: Venue, symbol: str) -> bool:
        """Open `venue`'s order stream for `symbol` now; False when the venue has no stream."""
        if self._streams.warm(venue, symbol):
            return True
        if venue.name in self._streams.unavailable:
            self._on_error(f"{venue.name}: no order stream ({self._streams.unavailable[venue.name]}); polling")
        return False

    async def updates(self, venue: Venue, order: Order, *, until: float) -> AsyncGenerator[OrderUpdate, None]:
        """Yield `order` afresh whenever its filled quantity grows or it turns final; stop at `until`."""
        pump = self._streams.pump(venue, order.symbol)
        if pump is None:
            async for update in self._fallback.updates(venue, order, until=until):
                yield update
            return
        seen = order.filled_qty
        latest = order
        # A queue of the order's events, starting with the latest one already seen (None: the stream failed).
        queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        known = pump.seen.get(order.order_id)
        if known is not None:
            queue.put_nowait(known.latest)
        if pump.failure is not None:
            queue.put_nowait(None)
        unlisten = pump.listen(order.order_id, queue.put_nowait)
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            while not self._stop.is_set():
                left = until - time.monotonic()
                if left <= 0:
                    return
                if queue.empty():
                    getting = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getting, stopping}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                    if getting not in done:
                        getting.cancel()
                        continue
                    event = getting.result()
                else:
                    event = queue.get_nowait()
                if event is None:
                    self._on_error(f"{venue.name}: order stream failed ({pump.failure}); polling instead")
                    async for update in self._fallback.updates(venue, latest, until=until):
                        yield update
                    return
                fresh = event.order
                if fresh.filled_qty > seen or fresh.status.is_final:
                    seen = max(seen, fresh.filled_qty)
                    latest = fresh
                    yield OrderUpdate(order=fresh, seen_ns=event.received_ns)
                    if fresh.status.is_final:
                        return
        finally:
            unlisten()
            stopping.cancel()

    async def aclose(self) -> None:
        """Close every stream this feed opened."""
        if self._owned:
            await self._streams.aclose()
