"""Binance USDⓈ-M wire shapes (shared by the Aster dialect, whose API is a Binance clone)."""

from __future__ import annotations

import time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from hedgectl.sim.accounts import FundingState
from hedgectl.sim.engine import Engine
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import ZERO, Fill, Order, OrderStatus, OrderType, Position, PosSide, Side, TimeInForce

ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
CONDITIONAL_TYPES = frozenset(ORDER_TYPES[2:])
TIF_TO_WIRE = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}
TIF_FROM_WIRE = {v: k for k, v in TIF_TO_WIRE.items()}
POSITION_SIDE_TO_WIRE = {PosSide.BOTH: "BOTH", PosSide.LONG: "LONG", PosSide.SHORT: "SHORT"}
STATUS_TO_WIRE = {
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
}
ONBOARD_MS = 1_569_398_400_000
DELIVERY_MS = 4_133_404_800_000


@lru_cache(maxsize=1024)
def decimals(step: Decimal) -> int:
    """Number of decimals of a tick/step size (0.010 -> 2, 1 -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


_QUANTUM = [Decimal(1).scaleb(-places) for places in range(19)]


def fmt(value: Decimal, places: int) -> str:
    """Fixed-point text as Binance prints it (`95001.00`)."""
    return f"{value.quantize(_QUANTUM[places]):f}"


def fmt8(value: Decimal) -> str:
    return fmt(value, 8)


def px(inst: Instrument, value: Decimal) -> str:
    return fmt(value, decimals(inst.tick_size))


def qty(inst: Instrument, value: Decimal) -> str:
    return fmt(value, decimals(inst.step_size))


# ---- market data ---------------------------------------------------------------------------------


def symbol_info(inst: Instrument, *, tifs: list[str], min_notional: bool = True) -> dict[str, Any]:
    tick, step = inst.tick_size, inst.step_size
    filters: list[dict[str, Any]] = [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": px(inst, tick),
            "maxPrice": px(inst, inst.max_price),
            "tickSize": str(tick),
        },
        {"filterType": "LOT_SIZE", "minQty": str(inst.min_qty), "maxQty": str(inst.max_qty), "stepSize": str(step)},
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": str(inst.min_qty),
            "maxQty": str(inst.max_qty / 10),
            "stepSize": str(step),
        },
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500", "multiplierDecimal": "4"},
    ]
    if min_notional:
        filters.append({"filterType": "MIN_NOTIONAL", "notional": f"{inst.min_notional.normalize():f}"})
    return {
        "symbol": inst.symbol,
        "pair": inst.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": DELIVERY_MS,
        "onboardDate": ONBOARD_MS,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": inst.base,
        "quoteAsset": inst.quote,
        "marginAsset": inst.quote,
        "pricePrecision": decimals(tick),
        "quantityPrecision": decimals(step),
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": filters,
        "orderTypes": ORDER_TYPES,
        "timeInForce": tifs,
    }


def exchange_info(engine: Engine, venue: str, *, tifs: list[str], auto_asset_exchange: int | str = 0) -> dict[str, Any]:
    insts = engine.instruments[venue].values()
    quote = next(iter(insts)).quote
    return {
        "timezone": "UTC",
        "serverTime": int(time.time() * 1000),
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": quote, "marginAvailable": True, "autoAssetExchange": auto_asset_exchange}],
        "symbols": [symbol_info(i, tifs=tifs) for i in insts],
    }


def depth(engine: Engine, inst: Instrument, limit: int) -> dict[str, Any]:
    book = engine.book(inst.venue, inst.symbol)
    stamp = int(time.time() * 1000)
    return {
        "lastUpdateId": book.tick + 1,
        "E": stamp,
        "T": stamp,
        "bids": [[px(inst, lv.price), qty(inst, lv.qty)] for lv in book.bids[:limit]],
        "asks": [[px(inst, lv.price), qty(inst, lv.qty)] for lv in book.asks[:limit]],
    }


def ticker_24h(engine: Engine, inst: Instrument) -> dict[str, Any]:
    last = engine.mark_price(inst.venue, inst.symbol)
    open_ = engine.open_price_24h(inst.venue, inst.symbol)
    change = last - open_
    now = int(time.time() * 1000)
    volume = sum((f.qty for f in engine.fills(inst.venue, inst.symbol)), ZERO) + inst.min_qty * 5000
    return {
        "symbol": inst.symbol,
        "priceChange": px(inst, change),
        "priceChangePercent": fmt(change / open_ * 100, 3) if open_ else "0.000",
        "weightedAvgPrice": px(inst, (last + open_) / 2),
        "lastPrice": px(inst, last),
        "lastQty": qty(inst, inst.min_qty),
        "openPrice": px(inst, open_),
        "highPrice": px(inst, max(last, open_)),
        "lowPrice": px(inst, min(last, open_)),
        "volume": qty(inst, volume),
        "quoteVolume": fmt(volume * last, 2),
        "openTime": now - 86_400_000,
        "closeTime": now,
        "firstId": 1,
        "lastId": 1000,
        "count": 1000,
    }


def book_ticker(engine: Engine, inst: Instrument) -> dict[str, Any]:
    book = engine.book(inst.venue, inst.symbol)
    row: dict[str, Any] = {
        "symbol": inst.symbol,
        "bidPrice": px(inst, book.best_bid),
        "bidQty": qty(inst, book.bids[0].qty),
        "askPrice": px(inst, book.best_ask),
        "askQty": qty(inst, book.asks[0].qty),
        "time": int(time.time() * 1000),
    }
    if inst.venue != "aster":  # Aster's bookTicker has no lastUpdateId
        row["lastUpdateId"] = book.tick + 1
    return row


def premium_index(engine: Engine, inst: Instrument, funding: FundingState) -> dict[str, Any]:
    mark = engine.mark_price(inst.venue, inst.symbol)
    return {
        "symbol": inst.symbol,
        "markPrice": px(inst, mark),
        "indexPrice": px(inst, engine.index_price(inst.venue, inst.symbol)),
        "estimatedSettlePrice": px(inst, mark),
        "lastFundingRate": fmt8(funding.rate),
        "interestRate": "0.00010000",
        "nextFundingTime": funding.next_ms,
        "time": int(time.time() * 1000),
    }


# ---- account data --------------------------------------------------------------------------------


def order_json(inst: Instrument, order: Order, *, ack: bool = False, reply: str = "query") -> dict[str, Any]:
    """The order object; `ack` renders it as at acceptance (newOrderRespType=ACK).

    `reply` is the endpoint it answers, whose real shape differs: "place" (POST /order) has no `time`,
    "cancel" (DELETE /order) neither `time` nor `avgPrice`; "query" (GET /order, openOrders) has both.
    """
    filled = ZERO if ack else order.filled_qty
    status = "NEW" if ack else STATUS_TO_WIRE[order.status]
    wire_type = "LIMIT" if order.type is OrderType.LIMIT else "MARKET"
    row: dict[str, Any] = {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": status,
        "clientOrderId": order.client_order_id,
        "price": px(inst, order.price or ZERO),
        "avgPrice": px(inst, ZERO if ack else order.avg_price),
        "origQty": qty(inst, order.qty),
        "executedQty": qty(inst, filled),
        "cumQty": qty(inst, filled),
        "cumQuote": fmt(ZERO if ack else order.filled_quote, 8),
        "timeInForce": TIF_TO_WIRE[order.tif],
        "type": wire_type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": "BUY" if order.side is Side.BUY else "SELL",
        "positionSide": POSITION_SIDE_TO_WIRE[order.position_side],
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": wire_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": order.created_ms,
        "updateTime": order.created_ms if ack else order.updated_ms,
    }
    if inst.venue == "aster":  # Binance's later order fields; Aster's order objects have none of them
        for key in ("priceMatch", "selfTradePreventionMode", "goodTillDate"):
            del row[key]
    if reply == "query":
        del row["cumQty"]  # GET /order and openOrders carry no cumQty; POST and DELETE do
    else:
        del row["time"]
    if reply == "cancel":
        del row["avgPrice"]
    return row


def trade_json(inst: Instrument, fill: Fill) -> dict[str, Any]:
    return {
        "buyer": fill.side is Side.BUY,
        "commission": fmt8(fill.fee),
        "commissionAsset": fill.fee_asset,
        "id": fill.fill_id,
        "maker": fill.maker,
        "orderId": fill.order_id,
        "price": px(inst, fill.price),
        "qty": qty(inst, fill.qty),
        "quoteQty": fmt8(fill.quote_qty),
        "realizedPnl": fmt8(fill.realized_pnl),
        "side": "BUY" if fill.side is Side.BUY else "SELL",
        "positionSide": POSITION_SIDE_TO_WIRE[fill.position_side],
        "symbol": fill.symbol,
        "time": fill.time_ms,
    }


def position_json(engine: Engine, inst: Instrument, pos: Position, *, version: int) -> dict[str, Any]:
    venue = inst.venue
    mark = engine.mark_price(venue, inst.symbol)
    acct = engine.account(venue)
    notional = pos.qty * mark
    upnl = pos.qty * (mark - pos.entry_price) if pos.qty else ZERO
    initial = abs(notional) / acct.leverage
    maint = abs(notional) * Decimal("0.004")
    liq = engine.liquidation_price(venue, pos)
    row: dict[str, Any] = {
        "symbol": inst.symbol,
        "positionSide": POSITION_SIDE_TO_WIRE[pos.side],
        "positionAmt": qty(inst, pos.qty),
        "entryPrice": fmt8(pos.entry_price) if pos.qty else "0.0",
        "breakEvenPrice": fmt8(pos.entry_price) if pos.qty else "0.0",
        "markPrice": fmt8(mark),
        "unRealizedProfit": fmt8(upnl),
        "liquidationPrice": fmt8(liq) if pos.qty else "0",
        "isolatedMargin": "0.00000000",
        "notional": fmt8(notional),
        "marginAsset": inst.quote,
        "isolatedWallet": "0",
        "initialMargin": fmt8(initial),
        "maintMargin": fmt8(maint),
        "positionInitialMargin": fmt8(initial),
        "openOrderInitialMargin": "0",
        "adl": "1" if pos.qty else "0",  # a string on the real venue
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": pos.updated_ms,
    }
    # Binance dropped leverage and margin type from positionRisk in v3; Aster's v3 still sends them.
    if version < 3 or venue == "aster":
        row.update(
            {
                "leverage": str(acct.leverage),
                "marginType": "cross",
                "maxNotionalValue": "5000000",
                "isAutoAddMargin": "false",
            }
        )
    # Aster's positionRisk row (its docs; `notional` too, which ccxt's aster parser reads): none of Binance's
    # later margin fields.
    if venue == "aster":
        row = {k: v for k, v in row.items() if k in ASTER_POSITION_FIELDS}
    return row


ASTER_POSITION_FIELDS = frozenset(
    {"symbol", "positionAmt", "entryPrice", "markPrice", "unRealizedProfit", "liquidationPrice", "leverage",
     "maxNotionalValue", "marginType", "isolatedMargin", "isAutoAddMargin", "positionSide", "updateTime",
     "notional"}
)  # fmt: skip


def balance_rows(engine: Engine, venue: str) -> list[dict[str, Any]]:
    acct = engine.account(venue)
    m = engine.margin(venue)
    now = int(time.time() * 1000)
    return [
        {
            "accountAlias": "SgsR",
            "asset": acct.asset,
            "balance": fmt8(acct.balance),
            "crossWalletBalance": fmt8(acct.balance),
            "crossUnPnl": fmt8(m.unrealized_pnl),
            "availableBalance": fmt8(m.available),
            "maxWithdrawAmount": fmt8(max(ZERO, min(m.available, acct.balance))),
            "marginAvailable": True,
            "updateTime": now,
        }
    ]


def account_json(engine: Engine, venue: str) -> dict[str, Any]:
    acct = engine.account(venue)
    m = engine.margin(venue)
    now = int(time.time() * 1000)
    initial = m.position_margin + m.order_margin
    positions = []
    for pos in engine.positions(venue):
        inst = engine.instrument(venue, pos.symbol)
        row = position_json(engine, inst, pos, version=3)
        positions.append(
            {
                k: row[k]
                for k in (
                    "symbol",
                    "positionSide",
                    "positionAmt",
                    "isolatedMargin",
                    "notional",
                    "isolatedWallet",
                    "initialMargin",
                    "maintMargin",
                    "updateTime",
                )
            }
            | {"unrealizedProfit": row["unRealizedProfit"], "entryPrice": row["entryPrice"]}
        )
    maint = sum((Decimal(p["maintMargin"]) for p in positions), ZERO)
    asset = {
        "asset": acct.asset,
        "walletBalance": fmt8(acct.balance),
        "unrealizedProfit": fmt8(m.unrealized_pnl),
        "marginBalance": fmt8(m.equity),
        "maintMargin": fmt8(maint),
        "initialMargin": fmt8(initial),
        "positionInitialMargin": fmt8(m.position_margin),
        "openOrderInitialMargin": fmt8(m.order_margin),
        "crossWalletBalance": fmt8(acct.balance),
        "crossUnPnl": fmt8(m.unrealized_pnl),
        "availableBalance": fmt8(m.available),
        "maxWithdrawAmount": fmt8(max(ZERO, min(m.available, acct.balance))),
        "marginAvailable": True,
        "updateTime": now,
    }
    return {
        "feeTier": 0,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": 0,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": fmt8(initial),
        "totalMaintMargin": fmt8(maint),
        "totalWalletBalance": fmt8(acct.balance),
        "totalUnrealizedProfit": fmt8(m.unrealized_pnl),
        "totalMarginBalance": fmt8(m.equity),
        "totalPositionInitialMargin": fmt8(m.position_margin),
        "totalOpenOrderInitialMargin": fmt8(m.order_margin),
        "totalCrossWalletBalance": fmt8(acct.balance),
        "totalCrossUnPnl": fmt8(m.unrealized_pnl),
        "availableBalance": fmt8(m.available),
        "maxWithdrawAmount": fmt8(max(ZERO, min(m.available, acct.balance))),
        "assets": [asset],
        "positions": positions,
    }


def leverage_brackets(inst: Instrument) -> dict[str, Any]:
    caps = [(50_000, inst.max_leverage, "0.004"), (500_000, 50, "0.005"), (10_000_000, 20, "0.01")]
    brackets = []
    floor = 0
    cum = Decimal(0)
    prev_ratio = Decimal(0)
    for i, (cap, lev, ratio) in enumerate(caps, start=1):
        cum += Decimal(floor) * (Decimal(ratio) - prev_ratio)
        brackets.append(
            {
                "bracket": i,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(ratio),
                "cum": float(cum),
            }
        )
        floor, prev_ratio = cap, Decimal(ratio)
    return {"symbol": inst.symbol, "notionalCoef": 1.0, "brackets": brackets}
