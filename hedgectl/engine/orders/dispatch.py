"""Journaled order dispatch: every intent is on disk before its request leaves, and every answer after.

The Dispatcher is the engine's only writer to the journal: intents, acknowledgements, failures (ambiguous or
certain), cancels, states seen on a stream or a poll, fills, funding payments, run events, circuit-breaker trips,
and unknown -> reconciled. Engine code calls it, never the journal (tests/test_architecture.py checks that).

The legs of a hedge go out through `send_journaled_many`: every leg is built and signed (prepared) before any
is sent, then all are sent at once, so nothing but the HTTP clients' own send paths lies between the legs'
socket writes (building and signing a request costs a few hundred µs a leg; see hedgectl.venues.base.PreparedOrder).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Fill, FundingPayment, Order, OrderRequest
from hedgectl.errors import AmbiguousOrderState, HedgectlError, OrderNotFound, Unavailable, VenueError
from hedgectl.journal import Journal
from hedgectl.venues.base import PreparedOrder, Venue

log = logging.getLogger(__name__)

# A leg prepared longer ago than this by the time every leg is ready (another leg's preparation had to load
# markets or measure a clock) is signed again before anything is sent; its I/O is done by then, so that takes
# microseconds. Venues accept a signature for seconds only (recvWindow / X-Window 5 s by default, OKX 30 s).
RESIGN_AFTER_S = 1.0


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

    # -- journal writes of what was learned elsewhere (a stream, a poll, a reply in hand) -------------------
    def journal_intent(self, venue: str, request: OrderRequest, intent: str) -> None:
        """Put an order's intent on disk before it is sent (send it with send_journaled / _many)."""
        self.journal.record_intent(self.run_id, venue, request, intent)

    def journal_state(self, client_order_id: str | None, order: Order) -> None:
        """Journal an order's state as last seen (no client order id: nothing of ours to update)."""
        if client_order_id:
            self.journal.record_order(client_order_id, order)

    def journal_fills(self, fills: Sequence[Fill]) -> None:
        """Journal fills seen; the journal keeps one row per venue and trade id, whichever source saw it first."""
        for fill in fills:
            self.journal.record_fill(self.run_id, fill)

    def journal_funding(self, payments: list[FundingPayment]) -> list[FundingPayment]:
        """Journal funding payments for this run; return those of `payments` the journal attributes to it
        (a payment already journaled to another run stays that run's)."""
        self.journal.record_funding(self.run_id, payments)
        ids = {(p.venue, p.payment_id) for p in self.journal.run_funding(self.run_id)}
        return [p for p in payments if (p.venue, p.payment_id) in ids]

    def event(self, kind: str, data: dict[str, Any] | None = None) -> None:
        """Journal one of the run's events (latency figures, hold marks, the loop's events)."""
        self.journal.event(self.run_id, kind, data)

    def trip_breaker(self, kind: str, reason: str) -> None:
        """Journal a circuit-breaker trip caused by this run (it holds across runs until `hedgectl breaker reset`)."""
        self.journal.trip_breaker(kind, reason, self.run_id)

    async def cancel(self, venue: Venue, order: Order) -> Order:
        """Cancel one order and journal the state the venue answered with."""
        answered = await venue.cancel_order(order.symbol, order_id=order.order_id)
        self.journal_state(order.client_order_id, answered)
        return answered

    async def place(self, venue: Venue, request: OrderRequest, intent: str) -> Sent:
        """Journal the intent, send it, journal the answer. Errors are journaled and re-raised."""
        self.journal.record_intent(self.run_id, venue.name, request, intent)
        return await self.send_journaled(venue, request)

    async def send_journaled(self, venue: Venue, request: OrderRequest) -> Sent:
        """Send a request whose intent is already journaled (lets two legs be journaled before either is sent)."""
        sent_ns = SYSTEM_CLOCK.time_ns()
        t0 = SYSTEM_CLOCK.monotonic()
        try:
            order = await venue.place_order(request)
        except BaseException as exc:
            self._journal_send_failure(request.client_order_id, exc)
            raise
        ack_ms = (SYSTEM_CLOCK.monotonic() - t0) * 1000
        self.journal.record_order(request.client_order_id, order)
        return Sent(order=order, sent_ns=sent_ns, ack_ms=ack_ms)

    async def send_journaled_many(self, pairs: Sequence[tuple[Venue, OrderRequest]]) -> list[Sent | BaseException]:
        """Send requests whose intents are already journaled, every one built and signed before any is sent.

        Every leg is prepared first, concurrently (market rules, clock offsets, rate-limit tokens, signatures);
        a leg that waited more than RESIGN_AFTER_S for the others is signed again. Then all sends start in one
        asyncio.gather. Outcomes come back in order: a Sent, or the exception, journaled as send_journaled
        journals it (ambiguous only for AmbiguousOrderState and a cancel in flight).

        If any leg cannot be prepared, none is sent: that leg's outcome is its own error, every other leg's an
        Unavailable saying it was held back, and all are journaled as failed, not ambiguous (no request left).
        The caller then has nothing to unwind: for an open no naked leg, for a close the hedge stays whole
        (both positions still offset each other) for the flatten that follows to close.
        """
        legs = list(pairs)
        try:
            outcomes = await self._prepare_all(legs)
        except asyncio.CancelledError:
            for _, request in legs:
                self.journal.record_failure(request.client_order_id, "cancelled before sending", ambiguous=False)
            raise
        ready = [o for o in outcomes if isinstance(o, PreparedOrder)]
        if len(ready) < len(legs):
            return self._hold_back(legs, outcomes)
        return list(await asyncio.gather(*(self._send_prepared(p) for p in ready), return_exceptions=True))

    async def _prepare_all(self, legs: list[tuple[Venue, OrderRequest]]) -> list[PreparedOrder | BaseException]:
        """Prepare every leg concurrently; sign again any leg that went stale waiting for the others."""
        outcomes = list(await asyncio.gather(*(v.prepare_order(r) for v, r in legs), return_exceptions=True))
        if any(isinstance(o, BaseException) for o in outcomes):
            return outcomes
        stale = [i for i, o in enumerate(outcomes) if isinstance(o, PreparedOrder) and o.age_s > RESIGN_AFTER_S]
        again = await asyncio.gather(*(legs[i][0].prepare_order(legs[i][1]) for i in stale), return_exceptions=True)
        for i, outcome in zip(stale, again, strict=True):
            outcomes[i] = outcome
        return outcomes

    def _hold_back(
        self, legs: list[tuple[Venue, OrderRequest]], outcomes: list[PreparedOrder | BaseException]
    ) -> list[Sent | BaseException]:
        """No leg is sent: journal each as failed (nothing left the process) and say why."""
        failed = sorted({v.name for (v, _), o in zip(legs, outcomes, strict=True) if isinstance(o, BaseException)})
        results: list[Sent | BaseException] = []
        for (venue, request), outcome in zip(legs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                error: BaseException = outcome
                # Only our own errors' text is known to be free of secrets.
                reason = f"not sent: {outcome if isinstance(outcome, HedgectlError) else type(outcome).__name__}"
            else:
                error = Unavailable(
                    venue.name,
                    f"order {request.client_order_id} was not sent: the {' and '.join(failed)} leg could not be "
                    "prepared, so no leg was sent",
                )
                reason = str(error)
            self.journal.record_failure(request.client_order_id, reason, ambiguous=False)
            results.append(error)
        return results

    async def _send_prepared(self, prepared: PreparedOrder) -> Sent:
        """Send one prepared order and journal its answer (the intent is already on disk)."""
        sent_ns = SYSTEM_CLOCK.time_ns()
        t0 = SYSTEM_CLOCK.monotonic()
        try:
            order = await prepared.send()
        except BaseException as exc:
            self._journal_send_failure(prepared.request.client_order_id, exc)
            raise
        ack_ms = (SYSTEM_CLOCK.monotonic() - t0) * 1000
        self.journal.record_order(prepared.request.client_order_id, order)
        return Sent(order=order, sent_ns=sent_ns, ack_ms=ack_ms)

    def _journal_send_failure(self, client_order_id: str, exc: BaseException) -> None:
        """A send that failed: ambiguous when the order may exist, failed when the venue certainly has none."""
        if isinstance(exc, AmbiguousOrderState):
            self.journal.record_failure(client_order_id, str(exc), ambiguous=True)
        elif isinstance(exc, VenueError):
            self.journal.record_failure(client_order_id, str(exc), ambiguous=False)
        elif isinstance(exc, asyncio.CancelledError):
            self.journal.record_failure(client_order_id, "cancelled while in flight", ambiguous=True)

    async def refresh(self, venue: Venue, order: Order) -> Order:
        """Re-read an order from the venue (by its venue id: some venues take one id only) and journal it."""
        if order.order_id:
            fresh = await venue.fetch_order(order.symbol, order_id=order.order_id)
        else:
            fresh = await venue.fetch_order(order.symbol, client_order_id=order.client_order_id)
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
