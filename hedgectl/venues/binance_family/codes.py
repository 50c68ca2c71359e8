"""The Binance family's wire vocabulary, which Aster copies: shared by both venues' REST parsers and the user stream.

Order statuses and types, and the symbol filters (one reading of MARKET_LOT_SIZE and MIN_NOTIONAL for both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import OrderStatus, OrderType
from hedgectl.venues.kit.wire import WireReader

ORDER_STATUS: dict[str, OrderStatus] = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    # liquidation orders the venue places in our name: working until their TRADE/EXPIRED update
    "NEW_INSURANCE": OrderStatus.NEW,
    "NEW_ADL": OrderStatus.NEW,
}

# Conditional orders placed by hand show in open orders and the stream; each executes as a market or a limit
# order once triggered. Any other type is an error, never a default (TRAILING_STOP_MARKET is not a LIMIT).
ORDER_TYPE: dict[str, OrderType] = {
    "LIMIT": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP": OrderType.LIMIT,
    "TAKE_PROFIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.MARKET,
    "TAKE_PROFIT_MARKET": OrderType.MARKET,
    "TRAILING_STOP_MARKET": OrderType.MARKET,
    "LIQUIDATION": OrderType.MARKET,
}


@dataclass(frozen=True, slots=True)
class LotRules:
    """A symbol's quantity rules from its exchangeInfo filters, in base units."""

    tick: Decimal
    step: Decimal  # the coarser of LOT_SIZE and MARKET_LOT_SIZE: a quantity both order types accept
    min_qty: Decimal
    max_qty: Decimal | None  # LOT_SIZE (limit orders)
    max_market_qty: Decimal | None  # MARKET_LOT_SIZE: market orders above it are refused by the venue
    min_notional: Decimal


def lot_rules(row: Mapping[str, Any], r: WireReader, what: str) -> LotRules:
    """PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and MIN_NOTIONAL of one exchangeInfo symbol (Binance and Aster)."""
    filters: dict[str, Mapping[str, Any]] = {}
    for entry in r.rows(r.field(row, "filters", what), f"{what}.filters"):
        filters[r.text(entry, "filterType", f"{what}.filters[]")] = entry
    if "PRICE_FILTER" not in filters or "LOT_SIZE" not in filters:
        raise r.bad(f"{what} lacks PRICE_FILTER or LOT_SIZE")
    lot = filters["LOT_SIZE"]
    tick = r.positive(filters["PRICE_FILTER"], "tickSize", f"{what} PRICE_FILTER")
    step = r.positive(lot, "stepSize", f"{what} LOT_SIZE")
    min_qty = r.nonneg(lot, "minQty", f"{what} LOT_SIZE")
    max_qty = r.opt_dec(lot, "maxQty", f"{what} LOT_SIZE") or None
    max_market = None
    if "MARKET_LOT_SIZE" in filters:
        market_lot = filters["MARKET_LOT_SIZE"]
        market_step = r.opt_dec(market_lot, "stepSize", f"{what} MARKET_LOT_SIZE")
        if market_step:
            big, small = max(step, market_step), min(step, market_step)
            if big % small != 0:
                raise r.bad(f"{what}: step sizes {step} and {market_step} do not nest")
            step = big
        min_qty = max(min_qty, r.opt_dec(market_lot, "minQty", f"{what} MARKET_LOT_SIZE") or Decimal(0))
        max_market = r.opt_dec(market_lot, "maxQty", f"{what} MARKET_LOT_SIZE") or None
    notional = filters.get("MIN_NOTIONAL", {})
    # Binance names it `notional`; some Aster rows (and older Binance docs) `minNotional`.
    min_notional = r.opt_dec(notional, "notional", f"{what} MIN_NOTIONAL")
    if min_notional is None:
        min_notional = r.opt_dec(notional, "minNotional", f"{what} MIN_NOTIONAL")
    if min_notional is None and notional:
        raise r.bad(f"{what} MIN_NOTIONAL has neither notional nor minNotional")
    if (min_notional or 0) < 0 or (max_qty is not None and max_qty < min_qty):
        raise r.bad(f"{what}: a negative minimum or a maximum below the minimum")
    return LotRules(tick, step, min_qty, max_qty, max_market, min_notional or Decimal(0))
