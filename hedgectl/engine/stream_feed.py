"""A FillFeed fed by private order streams: the maker/taker loop learns of a maker fill when the venue pushes it.

One background pump per (venue, symbol) reads the venue's supervised `order_events` (which reconnects,
reconciles by REST and polls while its socket is down) and routes each event to whoever is watching that
order. The pump remembers the latest event of recent orders, so a fill pushed between the order's
placement and the call to `updates()` is not lost. Venues without a stream (and a stream that fails for
good) go through the fallback feed, normally a PollingFeed.

Use: `feed = StreamFeed(interrupts.stop, fallback=PollingFeed(...))`, `feed.warm(maker, symbol)` before the
first order (so the first fill is pushed rather than reconciled), pass it as `run_loop(..., feed=feed)`,
and `await feed.aclose()` when the loop is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from hedgectl.domain.types import Order
from hedgectl.engine.maker_taker_feed import FillFeed, OrderUpdate
from hedgectl.venues.base import Venue
from hedgectl.venues.streams import OrderEvent, StreamingVenue

REMEMBERED_ORDERS = 1024


class _Pump:
    """Reads one supervised stream and routes its events by order id."""

    def __init__(self, events: AsyncIterator[OrderEvent], remember: int) -> None:
        self._remember = remember
        self.latest: OrderedDict[str, OrderEvent] = OrderedDict()
        self.failure: BaseException | None = None
        self._watchers: dict[str, set[asyncio.Queue[OrderEvent | None]]] = {}
        self.task = asyncio.create_task(self._run(events), name="hedgectl-stream-feed")

    async def _run(self, events: AsyncIterator[OrderEvent]) -> None:
        try:
            async for event in events:
                order_id = event.order.order_id
                self.latest[order_id] = event
                self.latest.move_to_end(order_id)
                while len(self.latest) > self._remember:
                    self.latest.popitem(last=False)
                for queue in self._watchers.get(order_id, ()):
                    queue.put_nowait(event)
        except Exception as exc:  # noqa: BLE001 - reported to every watcher, which falls back to polling
            self.failure = exc
            for queues in self._watchers.values():
                for queue in queues:
                    queue.put_nowait(None)

    def watch(self, order_id: str) -> asyncio.Queue[OrderEvent | None]:
        """A queue of `order_id`'s events, starting with the latest one already seen (None: stream failed)."""
        queue: asyncio.Queue[OrderEvent | None] = asyncio.Queue()
        if order_id in self.latest:
            queue.put_nowait(self.latest[order_id])
        if self.failure is not None:
            queue.put_nowait(None)
        self._watchers.setdefault(order_id, set()).add(queue)
        return queue

    def unwatch(self, order_id: str, queue: asyncio.Queue[OrderEvent | None]) -> None:
        watchers = self._watchers.get(order_id)
        if watchers is not None:
            watchers.discard(queue)
            if not watchers:
                del self._watchers[order_id]

    async def aclose(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class StreamFeed:
    """FillFeed over venues' supervised order streams, with a fallback feed for venues without one."""

    def __init__(
        self,
        stop: asyncio.Event,
        *,
        fallback: FillFeed,
        on_error: Callable[[str], None] | None = None,
        remember: int = REMEMBERED_ORDERS,
    ) -> None:
        self._stop = stop
        self._fallback = fallback
        self._on_error = on_error or (lambda _text: None)
        self._remember = remember
        self._pumps: dict[tuple[str, str], _Pump] = {}

    def warm(self, venue: Venue, symbol: str) -> bool:
        """Open `venue`'s order stream for `symbol` now; False when the venue has no stream."""
        return self._pump(venue, symbol) is not None

    def _pump(self, venue: Venue, symbol: str) -> _Pump | None:
        if not isinstance(venue, StreamingVenue):
            return None
        key = (venue.name, symbol.upper())
        pump = self._pumps.get(key)
        if pump is None:
            pump = self._pumps[key] = _Pump(venue.order_events(symbol), self._remember)
        return pump

    async def updates(self, venue: Venue, order: Order, *, until: float) -> AsyncGenerator[OrderUpdate, None]:
        """Yield `order` afresh whenever its filled quantity grows or it turns final; stop at `until`."""
        pump = self._pump(venue, order.symbol)
        if pump is None:
            async for update in self._fallback.updates(venue, order, until=until):
                yield update
            return
        seen = order.filled_qty
        latest = order
        queue = pump.watch(order.order_id)
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
            pump.unwatch(order.order_id, queue)
            stopping.cancel()

    async def aclose(self) -> None:
        """Close every stream this feed opened."""
        pumps, self._pumps = list(self._pumps.values()), {}
        for pump in pumps:
            await pump.aclose()
