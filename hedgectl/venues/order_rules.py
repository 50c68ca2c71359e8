"""Checks every adapter applies at its edge: an order request against the market's rules before it is sent,
and a parsed market, order, fill or position against what any venue could report.

Pure functions on domain types (no wire dicts): the ccxt dialects, the Binance family, Aster and OKX share them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from hedgectl.domain.quantity import max_order_qty
from hedgectl.domain.types import Fill, Market, Order, OrderRequest, OrderType, Position
from hedgectl.errors import BadResponse, OrderRejected


def checked_market(market: Market) -> Market:
    """Refuse market rules no venue could have (a garbled reply read as numbers)."""
    if market.tick_size <= 0 or market.step_size <= 0 or market.contract_size <= 0:
        problem = "tick, step or contract size is not positive"
    elif market.min_qty < 0 or market.min_notional < 0:
        problem = "a minimum is negative"
    elif market.max_qty is not None and market.max_qty < market.min_qty:
        problem = "the maximum quantity is below the minimum"
    else:
        return market
    raise BadResponse(market.venue, f"{market.venue_symbol}: {problem}")


def checked_order(order: Order) -> Order:
    """Refuse an order no venue could report: a size that is not positive, fills outside it, a negative price."""
    if order.qty <= 0:
        problem = f"size {order.qty} is not positive"
    elif not 0 <= order.filled_qty <= order.qty:
        problem = f"filled {order.filled_qty} of {order.qty}"
    elif any(p is not None and p <= 0 for p in (order.price, order.avg_price)):
        problem = "a price is not positive"
    else:
        return order
    raise BadResponse(order.venue, f"order {order.order_id}: {problem}")


def checked_fill(fill: Fill) -> Fill:
    """Refuse a fill no venue could report: a size or price that is not positive."""
    if fill.qty <= 0 or fill.price <= 0:
        raise BadResponse(fill.venue, f"fill {fill.trade_id}: size {fill.qty} at {fill.price}")
    return fill


def checked_position(position: Position) -> Position:
    """Refuse a position with a negative entry price (the quantity is signed, any value can be true)."""
    if position.entry_price is not None and position.entry_price <= 0:
        raise BadResponse(position.venue, f"{position.symbol}: entry price {position.entry_price}")
    return position


def check_order_rules(market: Market, request: OrderRequest) -> None:
    """Refuse, before sending, a quantity off the step (OKX: not whole lots of contracts) or a price off the tick."""
    if request.qty <= 0:
        raise OrderRejected(market.venue, f"{market.symbol}: quantity must be positive, got {request.qty}")
    if request.qty % market.step_size != 0:
        unit = f" ({market.step_size / market.contract_size} contracts of {market.contract_size})"
        raise OrderRejected(
            market.venue,
            f"{market.symbol}: quantity {request.qty} is not a multiple of the step {market.step_size}"
            + (unit if market.contract_size != 1 else ""),
        )
    cap = max_order_qty(market, market_order=request.type is OrderType.MARKET)
    if cap is not None and request.qty > cap:
        raise OrderRejected(
            market.venue, f"{market.symbol}: quantity {request.qty} is above the {request.type.value} order cap {cap}"
        )
    if request.price is not None and (request.price <= 0 or request.price % market.tick_size != 0):
        raise OrderRejected(
            market.venue, f"{market.symbol}: price {request.price} is not a positive multiple of {market.tick_size}"
        )


def by_venue_symbol(markets: Mapping[str, Market]) -> dict[str, Market]:
    return {m.venue_symbol: m for m in markets.values()}


def sum_fills(fills: Sequence[Fill], quote: str) -> tuple[Decimal, Decimal | None, Decimal | None, str | None]:
    """(filled qty, average price, fee, fee asset) of one order's fills; fees in several assets sum the quote's."""
    qty = sum((f.qty for f in fills), Decimal(0))
    if not qty:
        return Decimal(0), None, None, None
    avg = sum((f.qty * f.price for f in fills), Decimal(0)) / qty
    assets = {f.fee_asset for f in fills}
    asset = assets.pop() if len(assets) == 1 else quote
    fee = sum((f.fee for f in fills if f.fee_asset == asset), Decimal(0))
    return qty, avg, fee, asset
