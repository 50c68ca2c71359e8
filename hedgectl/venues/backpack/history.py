"""Backpack's history endpoints (/wapi/v1/history/*): orders that no longer rest, and funding payments.

Backpack's GET /api/v1/order only knows resting orders (404 once an order is filled, cancelled or expired),
and its history endpoints lag the matching engine a little. So an order is looked up in /wapi/v1/history/orders
(retried on `HISTORY_DELAYS_S` while history catches up) and its average price and fee are taken from
/wapi/v1/history/fills once those fills add up to its executed quantity; it is never assumed from absence.
Funding payments are read page by page (offset), newest first, each page bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from datetime import datetime

from hedgectl.clock import Clock
from hedgectl.domain.types import FundingPayment, Market, Order
from hedgectl.errors import BadResponse, OrderNotFound
from hedgectl.venues.backpack import parse, parse_orders
from hedgectl.venues.backpack.client import BackpackClient

VENUE = "backpack"
# Pauses between order-history lookups while history catches up with the matching engine.
HISTORY_DELAYS_S = (0.1, 0.2, 0.4, 0.8)
HISTORY_SCAN_LIMIT = 100
FUNDING_PAGE = 1000  # /wapi/v1/history/funding's largest page
FUNDING_MAX_PAGES = 50  # every read is bounded: 50,000 hourly payments is years of one symbol


class AccountHistory:
    """One account's history reads: orders no longer resting, their fills, funding; sleeps on the injected clock."""

    def __init__(self, client: BackpackClient, clock: Clock, client_ids: MutableMapping[int, str]) -> None:
        self._client = client
        self._clock = clock
        # uint32 clientIds this process derived -> our string ids (shared with the adapter, which fills it).
        self._client_ids = client_ids

    async def find_by_client_id(self, market: Market, client_id: int) -> Order | None:
        """GET /api/v1/order by clientId, else the latest order history: the order, or None if in neither."""
        try:
            wire = await self._client.get_order(market.venue_symbol, client_id=client_id)
        except OrderNotFound:
            pass
        else:
            return await self.with_fills(market, parse_orders.parse_order(wire, market.symbol, self._client_ids))
        history = await self._client.get_order_history(symbol=market.venue_symbol, limit=HISTORY_SCAN_LIMIT)
        for row in parse.rows(history, "order history"):
            if parse_orders.wire_client_id(row) == client_id:
                order = parse_orders.parse_order(row, market.symbol, self._client_ids)
                return await self.with_fills(market, order, attempts=len(HISTORY_DELAYS_S) + 1)
        return None

    async def resolve(
        self, market: Market, order_id: str | None, client_id: int | None, client_order_id: str | None
    ) -> Order:
        """Resolve an order that is not resting: history (retried while it lags), then its fills."""
        for delay in (*HISTORY_DELAYS_S, None):
            if order_id is not None:
                history = await self._client.get_order_history(symbol=market.venue_symbol, order_id=order_id)
            else:
                history = await self._client.get_order_history(symbol=market.venue_symbol, limit=HISTORY_SCAN_LIMIT)
            for row in parse.rows(history, "order history"):
                if (order_id is not None and parse_orders.wire_order_id(row) == order_id) or (
                    client_id is not None and parse_orders.wire_client_id(row) == client_id
                ):
                    order = parse_orders.parse_order(row, market.symbol, self._client_ids)
                    return await self.with_fills(market, order, attempts=len(HISTORY_DELAYS_S) + 1)
            if delay is not None:
                await self._clock.sleep(delay)
        raise OrderNotFound(VENUE, f"order {order_id or client_order_id} is neither open nor in order history")

    async def with_fills(self, market: Market, order: Order, attempts: int = 1) -> Order:
        """Average price and fee from the order's fills, once the fills add up to its executed quantity."""
        if order.filled_qty == 0:
            return order
        for attempt in range(attempts):
            fills = await self._client.get_fills(symbol=market.venue_symbol, order_id=order.order_id)
            merged = parse_orders.with_fills(
                order, [parse_orders.parse_fill(f, market.symbol) for f in parse.rows(fills, "fills")]
            )
            if merged is not order:
                return merged
            if attempt + 1 < attempts:
                await self._clock.sleep(HISTORY_DELAYS_S[min(attempt, len(HISTORY_DELAYS_S) - 1)])
        return order

    async def funding_payments(
        self,
        markets: Mapping[str, Market],
        canonical_of: Callable[[str], str | None],
        wanted: str | None,
        since: datetime,
        until: datetime | None,
    ) -> list[FundingPayment]:
        """GET /wapi/v1/history/funding (one venue symbol, or all), newest first by offset, until a page reaches
        back past `since`; our perps' payments in [since, until), oldest first, each once."""
        payments: list[FundingPayment] = []
        for page_no in range(FUNDING_MAX_PAGES):
            wire = await self._client.get_funding_history(
                symbol=wanted, limit=FUNDING_PAGE, offset=page_no * FUNDING_PAGE, sort_direction="Desc"
            )
            rows = parse.rows(wire, "funding payments")
            oldest: datetime | None = None
            for row in rows:
                venue_symbol = parse_orders.wire_symbol(row, "funding payment")
                canonical = canonical_of(venue_symbol)
                market = markets.get(canonical) if canonical is not None else None
                payment = parse_orders.parse_funding_payment(
                    row, canonical or venue_symbol, market.quote if market else ""
                )
                oldest = payment.at if oldest is None else min(oldest, payment.at)
                if market is not None and (wanted is None or venue_symbol == wanted):
                    payments.append(payment)  # a spot or unlisted symbol is not one of our perps
            if len(rows) < FUNDING_PAGE or (oldest is not None and oldest < since):
                break
        else:
            raise BadResponse(VENUE, f"funding history: more than {FUNDING_MAX_PAGES} pages since {since:%Y-%m-%d}")
        kept = {p.payment_id: p for p in payments if p.at >= since and (until is None or p.at < until)}
        return sorted(kept.values(), key=lambda p: (p.at, p.payment_id))
