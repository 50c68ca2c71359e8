"""Backpack wire shapes rendered from the simulator's model: pure functions, no I/O.

Sizes are base quantities; numbers are decimal strings; REST order replies carry `createdAt` in ms
while the `/wapi/v1/history/*` rows carry ISO-8601 strings without a zone (UTC), as Backpack does.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import Level
from hedgectl.sim.model import Fill, FundingPayment, Order, OrderStatus, OrderType, Position, Side, TimeInForce

ZERO = Decimal(0)
USER_ID = 2_154_318
# The initial/maintenance margin fraction curves Backpack publishes for its majors.
IMF_FUNCTION = {"type": "sqrt", "base": "0.02", "factor": "0.00006"}
MMF_FUNCTION = {"type": "sqrt", "base": "0.0125", "factor": "0.000033"}
IMF = Decimal("0.02")
MMF = Decimal("0.0125")
CREATED_AT = "2025-01-21T06:34:54.691858"
ASSET_NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "ASTER": "Aster", "USDC": "USD Coin"}


def fmt(value: Decimal) -> str:
    """Write a Decimal in plain notation without trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def iso(ms: int) -> str:
    """Backpack's history timestamps: ISO-8601, millisecond precision, no zone suffix (UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def error_body(code: str, message: str) -> dict[str, str]:
    """Backpack's error reply: `{"code": "<ApiErrorCode>", "message": "..."}`."""
    return {"code": code, "message": message}


def wire_side(side: Side) -> str:
    return "Bid" if side is Side.BUY else "Ask"


def render_asset(symbol: str) -> dict[str, Any]:
    """GET /api/v1/assets entry (one token per asset, on its home chain)."""
    chain = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "ASTER": "BSC", "USDC": "Solana"}[symbol]
    return {
        "symbol": symbol,
        "displayName": ASSET_NAMES[symbol],
        "coingeckoId": ASSET_NAMES[symbol].lower().replace(" ", "-"),
        "tokens": [
            {
                "displayName": ASSET_NAMES[symbol],
                "blockchain": chain,
                "contractAddress": None,
                "depositEnabled": True,
                "minimumDeposit": "0",
                "withdrawEnabled": True,
                "minimumWithdrawal": "0",
                "maximumWithdrawal": None,
                "withdrawalFee": "0",
            }
        ],
    }


def render_market(inst: Instrument) -> dict[str, Any]:
    """GET /api/v1/markets entry for a USDC-settled perpetual."""
    return {
        "symbol": inst.symbol,
        "baseSymbol": inst.base,
        "quoteSymbol": inst.quote,
        "marketType": "PERP",
        "filters": {
            "price": {
                "minPrice": fmt(inst.tick_size),
                "maxPrice": None,
                "tickSize": fmt(inst.tick_size),
                "maxMultiplier": "1.25",
                "minMultiplier": "0.75",
                "maxImpactMultiplier": "1.05",
                "minImpactMultiplier": "0.95",
                "meanMarkPriceBand": {"maxMultiplier": "1.1", "minMultiplier": "0.9"},
                "meanPremiumBand": None,
                "borrowEntryFeeMaxMultiplier": None,
                "borrowEntryFeeMinMultiplier": None,
            },
            "quantity": {
                "minQuantity": fmt(inst.min_qty),
                "maxQuantity": fmt(inst.max_qty),
                "stepSize": fmt(inst.step_size),
            },
        },
        "imfFunction": IMF_FUNCTION,
        "mmfFunction": MMF_FUNCTION,
        "fundingInterval": str(inst.funding_interval_ms),  # a string for PERP rows on the real venue
        "fundingRateUpperBound": "100",
        "fundingRateLowerBound": "-100",
        "openInterestLimit": fmt(inst.max_qty * 10),
        "orderBookState": "Open",
        "createdAt": CREATED_AT,
    }


def render_ticker(
    inst: Instrument, first: Decimal, last: Decimal, high: Decimal, low: Decimal, volume: Decimal
) -> dict[str, Any]:
    """GET /api/v1/ticker: 24h statistics only (Backpack's ticker has no bid/ask)."""
    change = last - first
    return {
        "symbol": inst.symbol,
        "firstPrice": fmt(first),
        "lastPrice": fmt(last),
        "priceChange": fmt(change),
        "priceChangePercent": fmt((change / first).quantize(Decimal("0.000001"))) if first else "0",
        "high": fmt(high),
        "low": fmt(low),
        "volume": fmt(volume),
        "quoteVolume": fmt((volume * last).quantize(Decimal("0.0001"))),
        "trades": str(int(volume / inst.step_size) // 7 + 1),
    }


def render_depth(
    bids: Sequence[Level], asks: Sequence[Level], limit: int, update_id: int, ts_us: int
) -> dict[str, Any]:
    """GET /api/v1/depth: both sides ascending by price (best bid last), `timestamp` in µs."""
    best_bids = list(bids[:limit])
    best_asks = list(asks[:limit])
    return {
        "asks": [[fmt(level.price), fmt(level.qty)] for level in best_asks],
        "bids": [[fmt(level.price), fmt(level.qty)] for level in reversed(best_bids)],
        "lastUpdateId": str(update_id),
        "timestamp": ts_us,
    }


def render_mark_price(
    inst: Instrument, mark: Decimal, index: Decimal, rate: Decimal, next_funding_ms: int
) -> dict[str, Any]:
    """GET /api/v1/markPrices entry: rate of the current interval, which ends at nextFundingTimestamp."""
    return {
        "symbol": inst.symbol,
        "markPrice": fmt(mark),
        "indexPrice": fmt(index),
        "fundingRate": fmt(rate),
        "nextFundingTimestamp": next_funding_ms,
    }


def render_funding_rate(inst: Instrument, rate: Decimal, interval_end_ms: int) -> dict[str, Any]:
    """GET /api/v1/fundingRates entry (one settled interval)."""
    return {"symbol": inst.symbol, "intervalEndTimestamp": iso(interval_end_ms), "fundingRate": fmt(rate)}


def status_of(order: Order) -> str:
    return {
        OrderStatus.NEW: "New",
        OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
        OrderStatus.FILLED: "Filled",
        OrderStatus.CANCELED: "Cancelled",
        OrderStatus.EXPIRED: "Expired",
    }[order.status]


def expiry_reason(order: Order) -> str | None:
    """Why an order expired, in Backpack's enum (None unless its status is Expired)."""
    if order.status is not OrderStatus.EXPIRED:
        return None
    if order.tif is TimeInForce.POST_ONLY:
        return "PostOnlyTaker"
    if order.reduce_only and order.filled_qty < order.qty and order.type is OrderType.LIMIT:
        return "ReduceOnlyNotReduced"
    if order.tif is TimeInForce.FOK:
        return "FillOrKill"
    return "ImmediateOrCancel"


def _time_in_force(order: Order) -> str:
    if order.tif is TimeInForce.IOC or order.type is OrderType.MARKET:
        return "IOC"
    if order.tif is TimeInForce.FOK:
        return "FOK"
    return "GTC"


def client_id_of(order_or_fill: Order | Fill) -> int | None:
    """The uint32 clientId an order was placed with (the engine keeps it as a string)."""
    text = order_or_fill.client_order_id
    return int(text) if text is not None and text.isdigit() else None


def render_order(order: Order) -> dict[str, Any]:
    """The order object of POST/DELETE/GET /api/v1/order(s): `createdAt` in ms."""
    is_limit = order.type is OrderType.LIMIT
    body: dict[str, Any] = {
        "id": str(order.order_id),
        "clientId": client_id_of(order),
        "createdAt": order.created_ms,
        "executedQuantity": fmt(order.filled_qty),
        "executedQuoteQuantity": fmt(order.filled_quote),
        "orderType": "Limit" if is_limit else "Market",
        "postOnly": order.tif is TimeInForce.POST_ONLY,
        "price": fmt(order.price) if order.price is not None else None,
        "quantity": fmt(order.qty),
        "quoteQuantity": fmt(order.qty * order.price) if order.price is not None else None,
        "reduceOnly": True if order.reduce_only else None,  # null, not false, on the real venue
        "relatedOrderId": None,
        "selfTradePrevention": "RejectTaker",
        "side": wire_side(order.side),
        "status": status_of(order),
        "stopLossLimitPrice": None,
        "stopLossTriggerBy": None,
        "stopLossTriggerPrice": None,
        "strategyId": None,
        "symbol": order.symbol,
        "takeProfitLimitPrice": None,
        "takeProfitTriggerBy": None,
        "takeProfitTriggerPrice": None,
        "timeInForce": _time_in_force(order),
        "triggerBy": None,
        "triggerPrice": None,
        "triggerQuantity": None,
        "triggeredAt": None,
    }
    if is_limit:  # quoteQuantity shows on market orders only (a recorded open limit order has none)
        del body["quoteQuantity"]
    else:  # the real market-order reply has neither a price nor postOnly
        del body["price"], body["postOnly"]
    if order.status is OrderStatus.EXPIRED:
        body["expiryReason"] = expiry_reason(order)
    return body


def render_history_order(order: Order) -> dict[str, Any]:
    """GET /wapi/v1/history/orders row: the order with `createdAt` as ISO and its expiry reason."""
    body = render_order(order)
    # History rows carry no reduceOnly, relatedOrderId or triggeredAt (a recorded row; ccxt's parser agrees).
    for key in ("reduceOnly", "relatedOrderId", "triggeredAt"):
        del body[key]
    body["createdAt"] = iso(order.created_ms)
    body["expiryReason"] = expiry_reason(order)
    body["systemOrderType"] = None
    return body


def render_fill(fill: Fill) -> dict[str, Any]:
    """GET /wapi/v1/history/fills row."""
    client_id = client_id_of(fill)
    return {
        "clientId": None if client_id is None else str(client_id),
        "fee": fmt(fill.fee),
        "feeSymbol": fill.fee_asset,
        "isMaker": fill.maker,
        "orderId": str(fill.order_id),
        "price": fmt(fill.price),
        "quantity": fmt(fill.qty),
        "side": wire_side(fill.side),
        "symbol": fill.symbol,
        "systemOrderType": None,
        "timestamp": iso(fill.time_ms),
        "tradeId": fill.fill_id,
    }


def render_funding_payment(payment: FundingPayment) -> dict[str, Any]:
    """GET /wapi/v1/history/funding row: `quantity` is the signed payment (+ received)."""
    return {
        "fundingRate": fmt(payment.rate),
        "intervalEndTimestamp": iso(payment.time_ms),
        "quantity": fmt(payment.amount),
        "subaccountId": 0,
        "symbol": payment.symbol,
        "userId": USER_ID,
    }


def render_position(
    position: Position, inst: Instrument, mark: Decimal, open_orders: Sequence[Order], liq: Decimal = ZERO
) -> dict[str, Any]:
    """GET /api/v1/position entry; `netExposureQuantity` counts the symbol's open orders too; a liquidation
    price of "0" means none."""
    net = position.qty
    bids = sum((o.remaining for o in open_orders if o.side is Side.BUY and not o.reduce_only), ZERO)
    asks = sum((o.remaining for o in open_orders if o.side is Side.SELL and not o.reduce_only), ZERO)
    exposure = max(abs(net + bids), abs(net - asks))
    upl = (mark - position.entry_price) * net
    return {
        "breakEvenPrice": fmt(position.entry_price),
        "cumulativeFundingPayment": "0",
        "cumulativeInterest": "0",
        "entryPrice": fmt(position.entry_price),
        "estLiquidationPrice": fmt(liq.quantize(inst.tick_size)) if liq > 0 else "0",
        "imf": fmt(IMF),
        "imfFunction": IMF_FUNCTION,
        "markPrice": fmt(mark),
        "mmf": fmt(MMF),
        "mmfFunction": MMF_FUNCTION,
        "netCost": fmt(net * position.entry_price),
        "netExposureNotional": fmt(exposure * mark),
        "netExposureQuantity": fmt(exposure),
        "netQuantity": fmt(net),
        "pnlRealized": fmt(position.realized_pnl),
        "pnlUnrealized": fmt(upl),
        "positionId": str(zlib.crc32(inst.symbol.encode()) + 40_000_000_000),
        "subaccountId": None,
        "symbol": inst.symbol,
        "userId": USER_ID,
    }


def render_capital(asset: str, balance: Decimal, locked: Decimal) -> dict[str, dict[str, str]]:
    """GET /api/v1/capital: spot-style balances; margin held by open orders shows as `locked`."""
    return {asset: {"available": fmt(balance - locked), "locked": fmt(locked), "staked": "0"}}


def render_collateral(
    asset: str, balance: Decimal, upl: Decimal, position_margin: Decimal, order_margin: Decimal, exposure: Decimal
) -> dict[str, Any]:
    """GET /api/v1/capital/collateral: equity and margin headroom of the cross-margin account."""
    equity = balance + upl
    locked = position_margin + order_margin
    fraction = equity / exposure if exposure else None
    return {
        "assetsValue": fmt(balance),
        "borrowLiability": "0",
        "collateral": [
            {
                "symbol": asset,
                "assetMarkPrice": "1",
                "totalQuantity": fmt(balance),
                "balanceNotional": fmt(balance),
                "collateralWeight": "1",
                "collateralValue": fmt(balance),
                "openOrderQuantity": "0",
                "lendQuantity": "0",
                "availableQuantity": fmt(balance),
            }
        ],
        "imf": fmt(IMF),
        "mmf": fmt(MMF),
        "marginFraction": None if fraction is None else fmt(fraction.quantize(Decimal("0.0001"))),
        "netEquity": fmt(equity),
        "netEquityAvailable": fmt(equity - locked),
        "netEquityLocked": fmt(locked),
        "netExposureFutures": fmt(exposure),
        "pnlUnrealized": fmt(upl),
        "unsettledEquity": fmt(upl),
        "liabilitiesValue": "0",
    }
