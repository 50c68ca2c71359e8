"""The one order tracker: what became of an order we sent, pushed by the venue's stream or read by REST.

One OrderTracker per run, opened with the run's Dispatcher, stop event and clock, serves bootstrap (its market
legs and the maker-first entry), the maker/taker loop (its resting maker order and its hedges), flatten (its
closes) and the carry (its legs, and `on_any`, the wake-up on any order event of the account):

    tracker = OrderTracker(dispatcher, stop=interrupts.stop, clock=clock, streams=True)
    tracker.warm(venue, symbol)                 # well before the first order: the stream connects meanwhile
    await tracker.wait_up(timeout_s)            # the venues whose stream is not up yet (polling covers them)
    async for update in tracker.updates(venue, order, until=deadline): ...   # each progress, until final
    order = await tracker.final(venue, order, deadline=deadline)             # the one "wait until final"
    fills = await tracker.pushed_fills(venue, order)                         # a done order's pushed fills
    await tracker.aclose()                      # however the run ends

Sources. The stream side is one pump per (venue, symbol) that `warm` opened (`pumps`), over the venue's
supervised stream, which itself reconnects, reconciles by REST and polls while its socket is down. The tracker
polls REST only in `_follow`, the one polling loop: for a venue without a stream (or `streams=False`, or a
stream that could not be set up or failed for good), at `first_s` doubling to `max_s` (read errors back off to
MAX_BACKOFF_S where the caller absorbs them); with a stream, only as a safety net (`final`: every UP_POLL_S
while it is up, at the polling pace while it is down; `updates`: not at all, the supervisor polls while the
socket is down).

Why not a polling-only supervised source for venues without a stream: the supervisor polls a whole account
(open orders, then fills since a time) to find orders it does not know of, where the tracker reads the one
order it follows, by id; for a venue whose stream is missing the per-order read is both cheaper and what the
venue certainly supports (fetch_order is in every adapter; a stream source is not).

One dedupe rule: a state is taken only if it `brings_progress` over the last one taken (a final state always
ends the wait). Every state taken is journaled through the Dispatcher: a pushed one with `journal_state`, a
polled one by `Dispatcher.refresh` (which journals what it read); pushed fills with `journal_fills` where they
are used (`pushed_fills`), the others by `Dispatcher.fills_of` when the caller accounts the order. Every wait
is bounded (`until` / `deadline`), every sleep goes through the injected clock, and `updates` ends as soon as
the stop event is set (`final` does not: a sent order must be known, within its deadline).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from hedgectl.aio import stop_tasks
from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.domain.types import Fill, Order
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.pumps import REMEMBERED_ORDERS, OrderPump, OrderWatch
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue
from hedgectl.venues.streams import StreamingVenue
from hedgectl.venues.streams.ledger import brings_progress

POLL_S = 0.2  # a resting order's re-read period where no stream pushes its changes (the loop's default)
FINAL_FIRST_S, FINAL_MAX_S = 0.01, 0.1  # "until final": re-read after 10, 20, 40, 80, 100, 100... ms
UP_POLL_S = 0.1  # with the stream up, `final` polls only as a safety net: at most every 100 ms
PUSHED_FILLS_GRACE_S = 0.05  # once an order is known done, how long the stream may take to bring its fills
MAX_BACKOFF_S = 5.0  # the longest wait between reads that fail (where the caller absorbs read errors)

Read = Callable[[Order], Awaitable[Order]]


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    order: Order  # cumulative: status and filled quantity as of this update
    seen_ns: int  # SYSTEM_CLOCK.time_ns() when this process learned it (the start of the hedge reaction time)


class OrderTracker:
    """The orders of one run as their venues report them (see the module docstring)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        stop: asyncio.Event | None = None,
        clock: Clock = SYSTEM_CLOCK,
        streams: bool = True,
        poll_s: float = POLL_S,
        on_error: Callable[[str], None] | None = None,
        remember: int = REMEMBERED_ORDERS,
    ) -> None:
        """`streams`: follow the venues' private order streams where they have one (False: REST only).
        `poll_s`: the re-read period of `updates` without a stream. `on_error`: told of read errors it absorbs
        and of a stream that failed for good (one line each)."""
        self.dispatcher = dispatcher
        self.streams = streams
        self.poll_s = poll_s
        self._stop = stop
        self.clock = clock  # the deadlines given to `updates` and `final` are its monotonic() times
        self._on_error = on_error or (lambda _text: None)
        self._remember = remember
        self._pumps: dict[tuple[str, str], OrderPump] = {}
        self.unavailable: dict[str, str] = {}  # venue -> why its stream could not even be set up

    # -- the streams ---------------------------------------------------------------------------------------
    def pump(self, venue: Venue, symbol: str) -> OrderPump | None:
        """`venue`'s pump for `symbol`, opening its stream now; None when the venue has no stream (or it cannot
        be set up: no credentials for it, no stream in this mode - see `unavailable`; REST still serves)."""
        if not self.streams or not isinstance(venue, StreamingVenue) or venue.name in self.unavailable:
            return None
        key = (venue.name, symbol.upper())
        pump = self._pumps.get(key)
        if pump is None:
            try:
                pump = self._pumps[key] = OrderPump(venue, symbol, self._remember)
            except HedgectlError as exc:
                self.unavailable[venue.name] = str(exc)
                return None
        return pump

    def _opened(self, venue: Venue, symbol: str) -> OrderPump | None:
        """The pump `warm` opened for `venue` and `symbol`, if any (following an order never opens a stream)."""
        return self._pumps.get((venue.name, symbol.upper()))

    def warm(self, venue: Venue, symbol: str) -> bool:
        """Open `venue`'s order stream for `symbol` now; False when the venue has none (REST serves)."""
        return self.pump(venue, symbol) is not None

    def on_any(self, venue: Venue, symbol: str, notify: Callable[[], None]) -> bool:
        """Call `notify` on every order event of `venue` (any order: a manual trade, an ADL); False without a
        stream. The undo is closing the tracker."""
        pump = self.pump(venue, symbol)
        if pump is not None:
            pump.on_any(notify)
        return pump is not None

    async def wait_up(self, timeout_s: float) -> list[str]:
        """Wait (together, up to `timeout_s`) for every stream to be up; the venues whose stream is not."""
        pumps = list(self._pumps.values())
        deadline = self.clock.monotonic() + timeout_s
        ups = await asyncio.gather(*(p.wait_up(deadline - self.clock.monotonic()) for p in pumps))
        return [p.venue_name for p, up in zip(pumps, ups, strict=True) if not up]

    async def aclose(self) -> None:
        """Close every stream (cancelling its pump, which closes the supervised stream and its socket)."""
        pumps, self._pumps = list(self._pumps.values()), {}
        await stop_tasks([p.task for p in pumps], what="order pump")

    # -- following one order -------------------------------------------------------------------------------
    async def updates(self, venue: Venue, order: Order, *, until: float) -> AsyncGenerator[OrderUpdate, None]:
        """Yield `order` afresh whenever it brings progress (more filled, or a later status); end after a final
        state, at `until` (a `clock.monotonic()` deadline) or on a stop. Read errors are absorbed (reported to
        `on_error`, backing off), never raised: the cancel that follows settles the order."""
        async for update in self._follow(
            venue, order, until=until, first_s=self.poll_s, max_s=self.poll_s, up_poll_s=None, read=None, absorb=True
        ):
            yield update

    async def final(
        self,
        venue: Venue,
        order: Order,
        *,
        deadline: float,
        first_s: float = FINAL_FIRST_S,
        max_s: float = FINAL_MAX_S,
        read: Read | None = None,
    ) -> Order:
        """The one "wait until final" of a sent order: the stream's push or a poll, whichever first, until the
        order is final or the `clock.monotonic()` deadline; never sleeps past it. Polls re-read with `read`
        (default `Dispatcher.refresh`; a caller may wrap it in retries) from `first_s` doubling to `max_s`,
        while the stream is up only every UP_POLL_S. A read error is raised. Returns the last state known
        (still open at the deadline: the caller decides - cancel it, or report it unfilled)."""
        latest = order
        async for update in self._follow(
            venue, order, until=deadline, first_s=first_s, max_s=max_s, up_poll_s=UP_POLL_S, read=read, absorb=False
        ):
            latest = update.order
        return latest

    async def pushed_fills(
        self, venue: Venue, order: Order, *, grace_s: float = PUSHED_FILLS_GRACE_S
    ) -> list[Fill] | None:
        """The stream's fills of a done `order` if they add up to its filled quantity (waiting up to `grace_s`
        for them while the stream is up), journaled; None otherwise (no stream: read them by REST)."""
        pump = self._opened(venue, order.symbol)
        if pump is None:
            return None
        watch = OrderWatch(pump, order.order_id)
        try:
            grace_end = self.clock.monotonic() + grace_s
            fills = watch.fills_for(order)
            while fills is None and watch.up and (left := grace_end - self.clock.monotonic()) > 0:
                await self._nap(left, watch.changed_event, stoppable=False)
                fills = watch.fills_for(order)
        finally:
            watch.close()
        if fills is not None:
            self.dispatcher.journal_fills(fills)
        return fills

    async def _follow(
        self,
        venue: Venue,
        order: Order,
        *,
        until: float,
        first_s: float,
        max_s: float,
        up_poll_s: float | None,
        read: Read | None,
        absorb: bool,
    ) -> AsyncGenerator[OrderUpdate, None]:
        """The one polling loop, raced against the stream: yield each state that brings progress over the last
        one yielded (journaling it), until a final state or `until`. Polls through `read` (None:
        Dispatcher.refresh). `absorb` is `updates`' mode: read errors absorbed, the stop honoured, no poll while
        a stream serves (up, or down with the supervisor polling)."""
        reader: Read = read or (lambda current: self.dispatcher.refresh(venue, current))
        pump = self._opened(venue, order.symbol)
        watch = OrderWatch(pump, order.order_id) if pump is not None else None
        latest, delay, told_failure = order, first_s, False
        last_poll = self.clock.monotonic()
        try:
            while True:
                while watch is not None and watch.events:
                    event = watch.events.popleft()
                    if brings_progress(event.order, latest):
                        latest = event.order
                        try:
                            yield OrderUpdate(order=latest, seen_ns=event.received_ns)
                        finally:  # journaled once the caller took it: a hedge does not wait for this write
                            self.dispatcher.journal_state(order.client_order_id, event.order)
                if latest.status.is_final or (absorb and self._stopping):
                    return
                now = self.clock.monotonic()
                due = last_poll + delay
                if watch is not None and watch.failure is None:
                    if watch.up:
                        due = math.inf if up_poll_s is None else last_poll + max(delay, up_poll_s)
                    elif absorb:
                        due = math.inf  # the supervisor polls while the socket is down
                elif watch is not None and not told_failure:
                    told_failure = True
                    self._on_error(f"{venue.name}: order stream failed ({watch.failure}); polling instead")
                if now >= until and (due == math.inf or last_poll >= until):
                    return  # no poll is due (a stream serves), or the last one was made at the deadline
                due = min(due, until)  # a poll due past the deadline is made at it
                if now < due:
                    await self._nap(due - now, None if watch is None else watch.changed_event, absorb)
                    continue
                try:
                    fresh = await reader(latest)
                except HedgectlError as exc:
                    if not absorb:
                        raise
                    # Includes a 404 the adapter could not resolve through history yet: the cancel that
                    # follows settles it. Anything persistent surfaces there too.
                    self._on_error(f"reading order {order.order_id} on {venue.name}: {exc}")
                    delay, last_poll = min(MAX_BACKOFF_S, max(delay * 2, first_s)), self.clock.monotonic()
                    continue
                last_poll, delay = self.clock.monotonic(), min(delay * 2, max_s)
                if brings_progress(fresh, latest):
                    latest = fresh
                    yield OrderUpdate(order=fresh, seen_ns=SYSTEM_CLOCK.time_ns())
        finally:
            if watch is not None:
                watch.close()

    @property
    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _nap(self, seconds: float, wake: asyncio.Event | None, stoppable: bool) -> None:
        """Sleep `seconds` on the clock, ended early by `wake` (cleared on return) or, if `stoppable`, a stop."""
        events = [e for e in (wake, self._stop if stoppable else None) if e is not None]
        if any(e.is_set() for e in events):
            if wake is not None:
                wake.clear()
            return
        sleeping = asyncio.ensure_future(self.clock.sleep(max(0.0, seconds)))
        if not events:
            await sleeping
            return
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait([sleeping, *waiters], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeping, *waiters):
                task.cancel()
        if wake is not None:
            wake.clear()
