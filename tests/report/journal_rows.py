"""Writing a run's journal rows by hand (orders, fills, funding, events), as the commands would."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from hedgectl.domain.types import Fill, FundingPayment, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.journal import Journal

T0 = datetime.fromisoformat("2026-12-01T08:00:00+00:00")
_ids = itertools.count(1)


def trade(
    journal: Journal,
    run_id: str,
    venue: str,
    side: Side,
    qty: str,
    price: str,
    fee: str,
    *,
    asset: str = "USDT",
    at_s: float = 0.0,
    at: datetime | None = None,
    intent: str = "open",
    symbol: str = "BTC/USDT",
) -> Fill:
    """One market order, acknowledged filled, and its one fill, journaled."""
    n = next(_ids)
    request = OrderRequest(
        symbol=symbol, side=side, type=OrderType.MARKET, qty=Decimal(qty), client_order_id=f"cid-{n}"
    )
    journal.record_intent(run_id, venue, request, intent)
    order = Order(
        venue=venue,
        symbol=symbol,
        order_id=f"oid-{n}",
        client_order_id=request.client_order_id,
        side=side,
        type=OrderType.MARKET,
        qty=Decimal(qty),
        price=None,
        status=OrderStatus.FILLED,
        filled_qty=Decimal(qty),
        avg_price=Decimal(price),
    )
    journal.record_order(request.client_order_id, order)
    fill = Fill(
        venue=venue,
        symbol=symbol,
        order_id=order.order_id,
        trade_id=f"t-{n}",
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_asset=asset,
        client_order_id=request.client_order_id,
        at=at or T0 + timedelta(seconds=at_s),
    )
    journal.record_fill(run_id, fill)
    return fill


def funding(
    journal: Journal, run_id: str, venue: str, amount: str, *, asset: str = "USDT", at_s: float = 0.0
) -> FundingPayment:
    payment = FundingPayment(
        venue=venue,
        symbol="BTC/USDT",
        payment_id=f"f-{next(_ids)}",
        at=T0 + timedelta(seconds=at_s),
        asset=asset,
        amount=Decimal(amount),
        position_qty=Decimal("0.01"),
        rate=Decimal("0.0001"),
    )
    journal.record_funding(run_id, [payment])
    return payment
