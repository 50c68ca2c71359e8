"""Settling one sent market order of the hedge cycle: wait until it is known filled (or final), then its fills.

Two sources race: the venue's private order stream (pushed, usually with the ack or before it) and REST
polling (`Dispatcher.refresh`, 10 -> 100 ms backoff). Whichever first shows the order final wins. While the
stream is up, polls are at least STREAM_UP_POLL_S apart (the push normally arrives with the ack, so a poll is
only the safety net); with the stream down, absent or switched off, polling runs as it always did, and a
stream going down mid-wait wakes the waiter to poll at once. A poll already sent
is let finish rather than cancelled: cancelling would cost the keep-alive connection the close order needs.

Fills: when the stream delivered fills that add up to the order's filled quantity they are used (and
journaled, once per trade id); otherwise they are read by REST (`Dispatcher.fills_of`). The stream's fill
parsers follow the same fee convention as the REST ones (positive = paid, in the fee asset).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Fill, Order, OrderRequest, OrderStatus, Side
from hedgectl.engine.orders.dispatch import Dispatcher, Sent
from hedgectl.engine.orders.tracking import OrderStreams, OrderWatch, await_final
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue
from hedgectl.venues.streams.ledger import brings_progress

FILL_POLL_FIRST_S = 0.01  # a market order the ack left open is re-read after 10, 20, 40, 80, 100, 100... ms
FILL_POLL_MAX_S = 0.1
STREAM_UP_POLL_S = 0.1  # with the stream up, polling is only the safety net: at most every 100 ms
STREAM_FILLS_GRACE_S = 0.05  # once the order is known done, how long the stream may take to bring its fills


@dataclass
class LegOutcome:
    venue: str
    side: Side
    order: Order | None = None
    latency_ms: float | None = None  # request sent -> answer received
    fill_ms: float | None = None  # request sent -> fully filled known
    fills: list[Fill] = field(default_factory=list)
    error: str | None = None
    fills_source: str | None = None  # "stream" or "rest"

    @property
    def filled_qty(self) -> Decimal:
        return self.order.filled_qty if self.order else Decimal(0)


async def settle(
    venue: Venue,
    dispatcher: Dispatcher,
    request: OrderRequest,
    sent: Sent | BaseException,
    max_latency_ms: float,
    streams: OrderStreams | None = None,
) -> LegOutcome:
    """Turn a send outcome into a leg: wait (up to the latency limit) for a market order to report filled."""
    leg = LegOutcome(venue=venue.name, side=request.side)
    if isinstance(sent, BaseException):
        if not isinstance(sent, HedgectlError):
            raise sent
        leg.error = str(sent)
        return leg
    leg.order, leg.latency_ms = sent.order, sent.ack_ms
    t0 = SYSTEM_CLOCK.monotonic() - sent.ack_ms / 1000
    deadline = t0 + max(max_latency_ms, sent.ack_ms) / 1000
    watch = streams.watch(venue, sent.order) if streams is not None else None
    try:
        if watch is None:
            order, from_stream = await _poll(venue, dispatcher, sent.order, deadline), False
        else:
            order, from_stream = await _race(venue, dispatcher, sent.order, deadline, watch)
        leg.order = order
        if order.status is OrderStatus.FILLED or order.filled_qty == request.qty:
            leg.fill_ms = (SYSTEM_CLOCK.monotonic() - t0) * 1000
        pushed = await _stream_fills(watch, request, order) if watch is not None else None
        if pushed is not None:
            leg.order, leg.fills = pushed
            leg.fills_source = "stream"
            _journal(dispatcher, request, leg.order, leg.fills)
        else:
            if from_stream:
                _journal(dispatcher, request, order, [])
            leg.fills, leg.fills_source = await dispatcher.fills_of(venue, order), "rest"
    except HedgectlError as exc:
        leg.error = f"could not confirm the fill: {exc}"
    finally:
        if watch is not None:
            watch.close()
    return leg


async def _poll(venue: Venue, dispatcher: Dispatcher, order: Order, deadline: float) -> Order:
    """REST only: re-read the order with backoff while it is open, until the deadline."""
    return await await_final(
        partial(dispatcher.refresh, venue), order, deadline=deadline, first_s=FILL_POLL_FIRST_S, max_s=FILL_POLL_MAX_S
    )


async def _race(
    venue: Venue, dispatcher: Dispatcher, order: Order, deadline: float, watch: OrderWatch
) -> tuple[Order, bool]:
    """Stream against polling: take whichever state is further along, until the order is final or the deadline.
    Returns the order and whether that state came from the stream (a polled one is already journaled)."""
    from_stream = False
    last_poll, delay = SYSTEM_CLOCK.monotonic(), FILL_POLL_FIRST_S
    while True:
        pushed = watch.latest
        if pushed is not None and brings_progress(pushed, order):
            order, from_stream = pushed, True
        now = SYSTEM_CLOCK.monotonic()
        if not order.status.is_open or now >= deadline:
            return order, from_stream
        due = last_poll + (max(delay, STREAM_UP_POLL_S) if watch.up else delay)
        if now < due:
            await watch.changed(min(due, deadline) - now)  # woken by a push, or the stream going down
            continue
        fresh = await dispatcher.refresh(venue, order)  # journals what it read
        if not brings_progress(order, fresh):
            order, from_stream = fresh, False
        last_poll, delay = SYSTEM_CLOCK.monotonic(), min(delay * 2, FILL_POLL_MAX_S)


async def _stream_fills(watch: OrderWatch, request: OrderRequest, order: Order) -> tuple[Order, list[Fill]] | None:
    """The stream's fills of a done order, if they add up to its filled quantity (waiting a moment for them
    while the stream is up), with the order's fee filled in from them; None otherwise."""
    if order.status.is_open and order.filled_qty != request.qty:
        return None  # not done: what filled so far is read by REST, as before
    grace_end = SYSTEM_CLOCK.monotonic() + STREAM_FILLS_GRACE_S
    fills = watch.fills_for(order)
    while fills is None and watch.up and SYSTEM_CLOCK.monotonic() < grace_end:
        await watch.changed(grace_end - SYSTEM_CLOCK.monotonic())
        fills = watch.fills_for(order)
    if fills is None:
        return None
    assets = {f.fee_asset for f in fills}
    if order.fee is None and len(assets) == 1:
        order = replace(order, fee=sum((f.fee for f in fills), Decimal(0)), fee_asset=assets.pop())
    return order, fills


def _journal(dispatcher: Dispatcher, request: OrderRequest, order: Order, fills: list[Fill]) -> None:
    """Journal a pushed order state and its fills as Dispatcher.refresh and .fills_of journal polled ones
    (one row per venue and trade id, whichever source saw the trade first)."""
    dispatcher.journal_state(request.client_order_id, order)
    dispatcher.journal_fills(fills)
