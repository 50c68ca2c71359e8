"""Settling one sent market order of the hedge cycle: wait until it is known filled (or final), then its fills.

The wait is the order tracker's (`OrderTracker.final`): the venue's private order stream (pushed, usually
with the ack or before it) raced against REST polling (10 -> 100 ms backoff; while the stream is up a poll
every 100 ms at most, as the safety net), until the order is final or the latency limit.

Fills: when the stream delivered fills that add up to the order's filled quantity they are used (and
journaled, once per trade id); otherwise they are read by REST (`Dispatcher.fills_of`). The stream's fill
parsers follow the same fee convention as the REST ones (positive = paid, in the fee asset).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Fill, Order, OrderRequest, OrderStatus, Side
from hedgectl.engine.orders.dispatch import Dispatcher, Sent
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue


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
    tracker: OrderTracker | None = None,
) -> LegOutcome:
    """Turn a send outcome into a leg: wait (up to the latency limit) for a market order to report filled.
    `tracker`: the run's (None: REST only, through a tracker without streams)."""
    leg = LegOutcome(venue=venue.name, side=request.side)
    if isinstance(sent, BaseException):
        if not isinstance(sent, HedgectlError):
            raise sent
        leg.error = str(sent)
        return leg
    if tracker is None:
        tracker = OrderTracker(dispatcher, streams=False)
    leg.order, leg.latency_ms = sent.order, sent.ack_ms
    t0 = SYSTEM_CLOCK.monotonic() - sent.ack_ms / 1000
    deadline = tracker.clock.monotonic() - sent.ack_ms / 1000 + max(max_latency_ms, sent.ack_ms) / 1000
    try:
        order = leg.order = await tracker.final(venue, sent.order, deadline=deadline)
        if order.status is OrderStatus.FILLED or order.filled_qty == request.qty:
            leg.fill_ms = (SYSTEM_CLOCK.monotonic() - t0) * 1000
        done = not order.status.is_open or order.filled_qty == request.qty
        pushed = await tracker.pushed_fills(venue, order) if done else None
        if pushed is not None:
            leg.order, leg.fills, leg.fills_source = _with_fee(order, pushed), pushed, "stream"
            dispatcher.journal_state(request.client_order_id, leg.order)
        else:
            # Not done (what filled so far), no stream or its fills do not add up: read by REST.
            leg.fills, leg.fills_source = await dispatcher.fills_of(venue, order), "rest"
    except HedgectlError as exc:
        leg.error = f"could not confirm the fill: {exc}"
    return leg


def _with_fee(order: Order, fills: list[Fill]) -> Order:
    """The order with its fee filled in from its fills, when the venue's reply left it out (one fee asset)."""
    assets = {f.fee_asset for f in fills}
    if order.fee is None and len(assets) == 1:
        return replace(order, fee=sum((f.fee for f in fills), Decimal(0)), fee_asset=assets.pop())
    return order
