"""Journaled order dispatch: every intent is on disk before its request leaves, and every answer after."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Fill, Order, OrderRequest
from hedgectl.errors import AmbiguousOrderState, OrderNotFound, VenueError
from hedgectl.journal import Journal
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    """An order's outcome with its timing: sent_ns is when the request left, ack_ms how long the answer took."""

    order: Order
    sent_ns: int
    ack_ms: float


class Dispatcher:
    """Places, cancels and looks up orders for one run, journaling each step."""

    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal = journal
        self.run_id = run_id

    def new_id(self) -> str:
        return new_client_order_id()

    async def place(self, venue: Venue, request: OrderRequest, intent: str) -> Sent:
        """Journal the intent, send it, journal the answer. Errors are journaled and re-raised."""
        self.journal.record_intent(self.run_id, venue.name, request, intent)
        return await self.send_journaled(venue, request)

    async def send_journaled(self, venue: Venue, request: OrderRequest) -> Sent:
        """Send a request whose intent is already journaled (lets two legs be journaled before either is sent)."""
        sent_ns = time.time_ns()
        t0 = time.perf_counter()
        try:
            order = await venue.place_order(request)
        except AmbiguousOrderState as exc:
            self.journal.record_failure(request.client_order_id, str(exc), ambiguous=True)
            raise
        except VenueError as exc:
            self.journal.record_failure(request.client_order_id, str(exc), ambiguous=False)
            raise
        except asyncio.CancelledError:
            self.journal.record_failure(request.client_order_id, "cancelled while in flight", ambiguous=True)
            raise
        ack_ms = (time.perf_counter() - t0) * 1000
        self.journal.record_order(request.client_order_id, order)
        return Sent(order=order, sent_ns=sent_ns, ack_ms=ack_ms)

    async def refresh(self, venue: Venue, order: Order) -> Order:
        """Re-read an order from the venue and journal the new state."""
        fresh = await venue.fetch_order(order.symbol, order_id=order.order_id, client_order_id=order.client_order_id)
        if order.client_order_id:
            self.journal.record_order(order.client_order_id, fresh)
        return fresh

    async def reconcile(self, venue: Venue, symbol: str, client_order_id: str) -> Order | None:
        """Resolve an ambiguous intent by client order id: the order if it exists, None if it was never placed."""
        try:
            order = await venue.fetch_order(symbol, client_order_id=client_order_id)
        except OrderNotFound:
            self.journal.record_failure(client_order_id, "reconciled: the venue has no such order", ambiguous=False)
            return None
        self.journal.record_order(client_order_id, order)
        return order

    async def fills_of(self, venue: Venue, order: Order) -> list[Fill]:
        """Our fills for one order, journaled once each."""
        fills = await venue.fetch_fills(order.symbol, order_id=order.order_id)
        mine = [f for f in fills if f.order_id == order.order_id]
        for fill in mine:
            self.journal.record_fill(self.run_id, fill)
        return mine
